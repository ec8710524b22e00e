// The store conformance suite: every test case below is a template over a
// list of store factories, so each store (memory now, LMDB later) must pass
// exactly the same cases. The cases use only the store interfaces and pass
// every instant in explicitly; nothing sleeps or reads a clock.

#include <boost/test/unit_test.hpp>

#include "support/kv_stores.hpp"
#include "support/must.hpp"
#include "support/printing.hpp"
#include "support/runs.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <boost/mpl/list.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <latch>
#include <limits>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "signoff/model/approval.hpp"
#include "signoff/model/audit_entry.hpp"
#include "signoff/model/decision_rules.hpp"
#include "signoff/model/error.hpp"
#include "signoff/model/limits.hpp"
#include "signoff/model/result.hpp"
#include "signoff/model/time.hpp"
#include "signoff/model/workflow_state.hpp"
#include "signoff/persistence/approval_store.hpp"
#include "signoff/persistence/lmdb_store.hpp"
#include "signoff/persistence/memory_store.hpp"
#include "signoff/persistence/workflow_state_store.hpp"

// How Boost.Test prints our types when an assertion fails (found by ADL).

namespace {

namespace m = signoff::model;
namespace p = signoff::persistence;
namespace json = boost::json;
using m::time_point;

// ---------------------------------------------------------------------------
// Store factories: one struct per store. Add the LMDB store to both lists.

struct memory_approval_factory {
  static std::shared_ptr<p::approval_store> make() {
    return p::make_memory_approval_store();
  }
};

struct memory_workflow_state_factory {
  static std::shared_ptr<p::workflow_state_store> make() {
    return p::make_memory_workflow_state_store();
  }
};

/// Opens both LMDB stores in a fresh directory; the returned store keeps
/// the directory, which is removed with the store.
template <class Store>
std::shared_ptr<Store>
lmdb_store(std::shared_ptr<Store> p::lmdb_stores::*part) {
  auto dir = std::make_shared<signoff::test::temp_dir>();
  auto stores = p::open_lmdb_stores({.path = dir->str()});
  BOOST_REQUIRE_MESSAGE(stores.is_ok(),
                        (stores.is_ok() ? "" : stores.error().message));
  auto held = std::make_shared<
    std::pair<p::lmdb_stores, std::shared_ptr<signoff::test::temp_dir>>>(
    std::move(stores.value()), std::move(dir));
  return std::shared_ptr<Store>(held, (held->first.*part).get());
}

struct lmdb_approval_factory {
  static std::shared_ptr<p::approval_store> make() {
    return lmdb_store(&p::lmdb_stores::approvals);
  }
};

struct lmdb_workflow_state_factory {
  static std::shared_ptr<p::workflow_state_store> make() {
    return lmdb_store(&p::lmdb_stores::runs);
  }
};

/// A user's store: a plain wrapper over a key-value map (no indexes).
struct kv_approval_factory {
  static std::shared_ptr<p::approval_store> make() {
    return std::make_shared<signoff::test::kv_approval_store>(
      std::make_shared<signoff::test::kv_database>());
  }
};

struct kv_workflow_state_factory {
  static std::shared_ptr<p::workflow_state_store> make() {
    return std::make_shared<signoff::test::kv_workflow_state_store>(
      std::make_shared<signoff::test::kv_database>());
  }
};

using approval_stores
  = boost::mpl::list<memory_approval_factory, lmdb_approval_factory,
                     kv_approval_factory>;
using workflow_state_stores
  = boost::mpl::list<memory_workflow_state_factory, lmdb_workflow_state_factory,
                     kv_workflow_state_factory>;
/// The stores with indexes. The key-value store scans every run per lookup,
/// so the case with thousands of lookups over thousands of runs leaves it out.
using indexed_workflow_state_stores
  = boost::mpl::list<memory_workflow_state_factory,
                     lmdb_workflow_state_factory>;

// ---------------------------------------------------------------------------
// Helpers.

using signoff::test::at;
using signoff::test::t0;

/// Milliseconds of an optional instant; a sentinel for none (printable).
std::int64_t ms(std::optional<time_point> t) {
  return t ? m::to_millis(*t) : std::numeric_limits<std::int64_t>::min();
}

std::int64_t ms(time_point t) {
  return m::to_millis(t);
}

constexpr std::size_t no_limit = 1'000'000;

using signoff::test::describe;
using signoff::test::must;
using signoff::test::must_fail;

m::approval_spec make_spec(std::optional<time_point> expires = {},
                           std::uint32_t quorum = 1,
                           std::string reason = "needs sign-off") {
  m::approval_spec s;
  s.pending_reason = std::move(reason);
  s.metadata = json::parse(R"({"order":"ord_1","amount":120})");
  s.expires_at = expires;
  s.quorum = quorum;
  return s;
}

m::decision expire_decision(std::string key) {
  m::decision d;
  d.key = std::move(key);
  d.kind = m::decision_kind::expire;
  d.actor = "system";
  return d;
}

/// Everything the store holds about one key.
struct approval_snapshot {
  std::optional<m::approval_record> record;
  std::vector<m::audit_entry> trail;
};

approval_snapshot snapshot(const p::approval_store& store,
                           const std::string& key) {
  return {must(store.find_approval(key)), must(store.audit_trail(key))};
}

/// Asserts that nothing about `key` changed since `before`.
void check_unchanged(const p::approval_store& store, const std::string& key,
                     const approval_snapshot& before) {
  auto now = snapshot(store, key);
  BOOST_TEST_REQUIRE(now.record.has_value() == before.record.has_value());
  if (now.record)
    BOOST_TEST(*now.record == *before.record);
  BOOST_TEST(now.trail == before.trail);
}

m::approval_record require_record(const p::approval_store& store,
                                  const std::string& key) {
  auto found = must(store.find_approval(key));
  BOOST_TEST_REQUIRE(found.has_value(), "no record for " << key);
  return *found;
}

std::vector<std::string> actions_of(const std::vector<m::audit_entry>& trail) {
  std::vector<std::string> out;
  for (const auto& e : trail)
    out.push_back(e.action);
  return out;
}

std::vector<std::string> actors_of(const std::vector<m::audit_entry>& trail) {
  std::vector<std::string> out;
  for (const auto& e : trail)
    out.push_back(e.actor);
  return out;
}

/// Checks sequences 1..n and that every entry names `key`.
void check_sequences(const std::vector<m::audit_entry>& trail,
                     const std::string& key) {
  for (std::size_t i = 0; i < trail.size(); ++i) {
    BOOST_TEST(trail[i].sequence == i + 1);
    BOOST_TEST(trail[i].key == key);
  }
}

/// An APPROVAL_CONFLICT whose details are the status `expected`.
void check_conflict(const m::error& e, const m::approval_status& expected) {
  BOOST_TEST(e.type == m::error_type::approval_conflict);
  const auto* obj = e.details.if_object();
  BOOST_TEST_REQUIRE(obj != nullptr, "conflict details must be an object");
  const auto* status = obj->if_contains("status");
  BOOST_TEST_REQUIRE(status != nullptr);
  BOOST_TEST(*status == json::value(m::to_string(expected.state)));
  if (!expected.is_pending()) {
    const auto* by = obj->if_contains("decidedBy");
    BOOST_TEST_REQUIRE(by != nullptr, "conflict details lack decidedBy");
    BOOST_TEST(*by == json::value(expected.decided_by));
  }
  auto parsed = json::try_value_to<m::approval_status>(e.details);
  BOOST_TEST_REQUIRE(!parsed.has_error(), "conflict details do not parse");
  BOOST_TEST(*parsed == expected);
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// Workflow state builders.

using signoff::test::make_run;
using signoff::test::paused;

} // namespace

// ===========================================================================
// Approval stores
// ===========================================================================

BOOST_AUTO_TEST_SUITE(approval_store_conformance)

BOOST_AUTO_TEST_CASE_TEMPLATE(create_makes_a_pending_approval, Factory,
                              approval_stores) {
  auto store = Factory::make();
  const auto spec = make_spec(at(1000));
  auto made = must(store->create_approval("order:1", spec, "run:r1", at(0)));
  BOOST_TEST(made.created);
  BOOST_TEST(made.record.key == "order:1");
  BOOST_TEST(made.record.status.state == m::approval_state::pending);
  BOOST_TEST(made.record.status.decided_by.empty());
  BOOST_TEST(!made.record.status.decided_at.has_value());
  BOOST_TEST(made.record.status.value.is_null());
  BOOST_TEST(made.record.spec.pending_reason == spec.pending_reason);
  BOOST_TEST(made.record.spec.metadata == spec.metadata);
  BOOST_TEST(ms(made.record.spec.expires_at) == ms(at(1000)));
  BOOST_TEST(made.record.spec.quorum == 1u);
  BOOST_TEST(ms(made.record.created_at) == ms(at(0)));
  BOOST_TEST(made.record.grants.empty());

  BOOST_TEST(require_record(*store, "order:1") == made.record);

  auto trail = must(store->audit_trail("order:1"));
  BOOST_TEST_REQUIRE(trail.size() == 1u);
  BOOST_TEST(trail[0].key == "order:1");
  BOOST_TEST(trail[0].sequence == 1u);
  BOOST_TEST(trail[0].action == "created");
  BOOST_TEST(trail[0].actor == "run:r1");
  BOOST_TEST(ms(trail[0].at) == ms(at(0)));

  BOOST_TEST(must(store->list_pending("", at(1), no_limit))
             == std::vector<std::string>{"order:1"});
  BOOST_TEST(ms(must(store->next_expiry())) == ms(at(1000)));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(second_create_returns_existing_unchanged, Factory,
                              approval_stores) {
  auto store = Factory::make();
  auto first
    = must(store->create_approval("k", make_spec(at(500)), "run:a", at(0)));
  BOOST_TEST_REQUIRE(first.created);
  const auto before = snapshot(*store, "k");

  auto other = make_spec(at(100), 3, "another reason");
  other.metadata = json::parse(R"({"other":true})");
  auto second = must(store->create_approval("k", other, "run:b", at(50)));
  BOOST_TEST(!second.created);
  BOOST_TEST(second.record == first.record);
  check_unchanged(*store, "k", before);
  // The deadline index still holds the first spec's deadline only.
  BOOST_TEST(ms(must(store->next_expiry())) == ms(at(500)));
  BOOST_TEST(must(store->due_for_expiry(at(200), no_limit)).empty());
  BOOST_TEST(must(store->list_pending("", at(200), no_limit))
             == std::vector<std::string>{"k"});
}

BOOST_AUTO_TEST_CASE_TEMPLATE(create_rejects_empty_key_and_zero_quorum, Factory,
                              approval_stores) {
  auto store = Factory::make();
  auto e1
    = must_fail(store->create_approval("", make_spec(at(10)), "run:a", at(0)),
                m::error_type::invalid_argument);
  BOOST_TEST(!e1.message.empty());
  must_fail(store->create_approval("q0", make_spec(at(10), 0), "run:a", at(0)),
            m::error_type::invalid_argument);

  BOOST_TEST(!must(store->find_approval("")).has_value());
  BOOST_TEST(!must(store->find_approval("q0")).has_value());
  BOOST_TEST(must(store->audit_trail("")).empty());
  BOOST_TEST(must(store->audit_trail("q0")).empty());
  BOOST_TEST(must(store->list_pending("", at(0), no_limit)).empty());
  BOOST_TEST(must(store->due_for_expiry(at(100), no_limit)).empty());
  BOOST_TEST(!must(store->next_expiry()).has_value());

  // A quorum of 0 on an existing key does not touch it either.
  must(store->create_approval("k", make_spec(at(10)), "run:a", at(0)));
  const auto before = snapshot(*store, "k");
  auto again
    = store->create_approval("k", make_spec(at(10), 0), "run:b", at(1));
  if (again.is_err())
    BOOST_TEST(again.error().type == m::error_type::invalid_argument);
  check_unchanged(*store, "k", before);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(unknown_keys_are_empty, Factory,
                              approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("known", make_spec(), "run:a", at(0)));
  BOOST_TEST(!must(store->find_approval("unknown")).has_value());
  BOOST_TEST(!must(store->find_approval("know")).has_value());
  BOOST_TEST(!must(store->find_approval("known ")).has_value());
  BOOST_TEST(must(store->audit_trail("unknown")).empty());
  BOOST_TEST(must(store->remove_approval("unknown")) == false);
  BOOST_TEST(must(store->find_approval("known")).has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(grant_approves_with_value, Factory,
                              approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("k", make_spec(at(1000)), "run:r1", at(0)));
  const json::value v = json::parse(R"({"approvedBy":"alice","limit":5})");
  auto out = must(store->decide(m::decision::grant("k", v, "alice"), at(10)));
  BOOST_TEST(out.applied);
  const auto& s = out.record.status;
  BOOST_TEST(s.state == m::approval_state::approved);
  BOOST_TEST(s.is_granted());
  BOOST_TEST(s.value == v);
  BOOST_TEST(s.decided_by == "alice");
  BOOST_TEST(ms(s.decided_at) == ms(at(10)));
  BOOST_TEST(s.reason.empty());
  BOOST_TEST_REQUIRE(out.record.grants.size() == 1u);
  BOOST_TEST(out.record.grants[0].approver == "alice");
  BOOST_TEST(out.record.grants[0].value == v);
  BOOST_TEST(!out.record.grants[0].edited);

  auto stored = require_record(*store, "k");
  BOOST_TEST(stored == out.record);
  BOOST_TEST(stored.status_at(at(5000)) == s); // decided never expires

  auto trail = must(store->audit_trail("k"));
  BOOST_TEST(actions_of(trail)
             == (std::vector<std::string>{"created", "approved"}));
  BOOST_TEST(actors_of(trail) == (std::vector<std::string>{"run:r1", "alice"}));
  BOOST_TEST(ms(trail.back().at) == ms(at(10)));
  BOOST_TEST(trail.back().value == v);
  check_sequences(trail, "k");

  BOOST_TEST(must(store->list_pending("", at(20), no_limit)).empty());
  BOOST_TEST(!must(store->next_expiry()).has_value());
  BOOST_TEST(must(store->due_for_expiry(at(5000), no_limit)).empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(edit_approves_with_changed_value, Factory,
                              approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("k", make_spec(at(1000)), "run:r1", at(0)));
  const json::value v = json::parse(R"({"amount":90})");
  auto out = must(store->decide(m::decision::edit("k", v, "bob"), at(20)));
  BOOST_TEST(out.applied);
  BOOST_TEST(out.record.status.state == m::approval_state::edited);
  BOOST_TEST(out.record.status.is_granted());
  BOOST_TEST(out.record.status.value == v);
  BOOST_TEST(out.record.status.decided_by == "bob");
  BOOST_TEST(ms(out.record.status.decided_at) == ms(at(20)));
  BOOST_TEST_REQUIRE(out.record.grants.size() == 1u);
  BOOST_TEST(out.record.grants[0].edited);
  BOOST_TEST(require_record(*store, "k") == out.record);
  auto trail = must(store->audit_trail("k"));
  BOOST_TEST(actions_of(trail)
             == (std::vector<std::string>{"created", "edited"}));
  BOOST_TEST(trail.back().actor == "bob");
  BOOST_TEST(trail.back().value == v);
  BOOST_TEST(must(store->list_pending("", at(30), no_limit)).empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(reject_records_reason, Factory, approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("k", make_spec(at(1000)), "run:r1", at(0)));
  auto out = must(store->decide(
    m::decision::reject("k", "budget exceeded", "carol"), at(30)));
  BOOST_TEST(out.applied);
  BOOST_TEST(out.record.status.state == m::approval_state::rejected);
  BOOST_TEST(!out.record.status.is_granted());
  BOOST_TEST(out.record.status.reason == "budget exceeded");
  BOOST_TEST(out.record.status.decided_by == "carol");
  BOOST_TEST(ms(out.record.status.decided_at) == ms(at(30)));
  BOOST_TEST(out.record.status.value.is_null());
  BOOST_TEST(require_record(*store, "k") == out.record);
  auto trail = must(store->audit_trail("k"));
  BOOST_TEST(actions_of(trail)
             == (std::vector<std::string>{"created", "rejected"}));
  BOOST_TEST(trail.back().actor == "carol");
  BOOST_TEST(trail.back().reason == "budget exceeded");
  BOOST_TEST(ms(trail.back().at) == ms(at(30)));
  BOOST_TEST(must(store->list_pending("", at(40), no_limit)).empty());
  BOOST_TEST(!must(store->next_expiry()).has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(cancel_records_reason, Factory, approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("k", make_spec(at(1000)), "run:r1", at(0)));
  auto out = must(
    store->decide(m::decision::cancel("k", "order withdrawn", "dave"), at(40)));
  BOOST_TEST(out.applied);
  BOOST_TEST(out.record.status.state == m::approval_state::cancelled);
  BOOST_TEST(out.record.status.reason == "order withdrawn");
  BOOST_TEST(out.record.status.decided_by == "dave");
  BOOST_TEST(ms(out.record.status.decided_at) == ms(at(40)));
  BOOST_TEST(require_record(*store, "k") == out.record);
  auto trail = must(store->audit_trail("k"));
  BOOST_TEST(actions_of(trail)
             == (std::vector<std::string>{"created", "cancelled"}));
  BOOST_TEST(trail.back().actor == "dave");
  BOOST_TEST(trail.back().reason == "order withdrawn");
  BOOST_TEST(must(store->list_pending("", at(50), no_limit)).empty());
  BOOST_TEST(!must(store->next_expiry()).has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(bad_decisions_change_nothing, Factory,
                              approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("k", make_spec(at(1000)), "run:r1", at(0)));
  const auto before = snapshot(*store, "k");

  must_fail(store->decide(m::decision::grant("", json::value(1), "a"), at(1)),
            m::error_type::invalid_argument);
  must_fail(store->decide(m::decision::reject("k", "", "a"), at(1)),
            m::error_type::invalid_argument);
  // An expiry before the deadline is refused.
  must_fail(store->decide(expire_decision("k"), at(999)),
            m::error_type::invalid_argument);
  check_unchanged(*store, "k", before);
  BOOST_TEST(!must(store->find_approval("")).has_value());
  BOOST_TEST(must(store->audit_trail("")).empty());

  // Expiring a key nobody asked for is NOT_FOUND and creates nothing.
  must_fail(store->decide(expire_decision("ghost"), at(2000)),
            m::error_type::not_found);
  BOOST_TEST(!must(store->find_approval("ghost")).has_value());
  BOOST_TEST(must(store->audit_trail("ghost")).empty());
  // A rejection without reason on an unknown key creates nothing either.
  must_fail(store->decide(m::decision::reject("ghost2", "", "a"), at(1)),
            m::error_type::invalid_argument);
  BOOST_TEST(!must(store->find_approval("ghost2")).has_value());
  BOOST_TEST(must(store->list_pending("", at(1), no_limit))
             == std::vector<std::string>{"k"});
}

BOOST_AUTO_TEST_CASE_TEMPLATE(conflicting_decisions_change_nothing, Factory,
                              approval_stores) {
  const json::value v1 = json::parse(R"({"v":1})");
  const json::value v2 = json::parse(R"({"v":2})");
  // Every winning kind against every losing kind, by another actor.
  const std::vector<m::decision> winners = {
    m::decision::grant("k", v1, "winner"),
    m::decision::edit("k", v1, "winner"),
    m::decision::reject("k", "no", "winner"),
    m::decision::cancel("k", "withdrawn", "winner"),
  };
  const std::vector<m::decision> losers = {
    m::decision::grant("k", v1, "loser"),
    m::decision::grant("k", v2, "loser"),
    m::decision::edit("k", v2, "loser"),
    m::decision::reject("k", "late no", "loser"),
    m::decision::cancel("k", "late cancel", "loser"),
    // The winner changing their mind is a conflict too.
    m::decision::grant("k", v2, "winner"),
    m::decision::reject("k", "changed my mind", "winner"),
  };
  for (std::size_t w = 0; w < winners.size(); ++w) {
    BOOST_TEST_CONTEXT("winner #" << w) {
      auto store = Factory::make();
      must(store->create_approval("k", make_spec(at(1000)), "run:r1", at(0)));
      auto won = must(store->decide(winners[w], at(10)));
      BOOST_TEST_REQUIRE(won.applied);
      BOOST_TEST(won.record.status.decided_by == "winner");
      const auto before = snapshot(*store, "k");
      for (std::size_t l = 0; l < losers.size(); ++l) {
        BOOST_TEST_CONTEXT("loser #" << l) {
          const auto& loser = losers[l];
          if (loser.kind == winners[w].kind && loser.actor == "winner"
              && loser.value == winners[w].value
              && loser.reason == winners[w].reason)
            continue; // that would be a repeat
          auto r = store->decide(loser, at(20));
          auto e = must_fail(r, m::error_type::approval_conflict);
          check_conflict(e, won.record.status);
          check_unchanged(*store, "k", before);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(repeating_own_decision_is_idempotent, Factory,
                              approval_stores) {
  const json::value v = json::parse(R"({"v":1})");
  const std::vector<m::decision> decisions = {
    m::decision::grant("k", v, "alice"),
    m::decision::edit("k", v, "alice"),
    m::decision::reject("k", "no", "alice"),
    m::decision::cancel("k", "withdrawn", "alice"),
  };
  for (const auto& d : decisions) {
    BOOST_TEST_CONTEXT("kind " << m::to_string(d.kind)) {
      auto store = Factory::make();
      must(store->create_approval("k", make_spec(at(1000)), "run:r1", at(0)));
      auto first = must(store->decide(d, at(10)));
      BOOST_TEST_REQUIRE(first.applied);
      const auto before = snapshot(*store, "k");
      BOOST_TEST(before.trail.size() == 2u);
      auto again = must(store->decide(d, at(20)));
      BOOST_TEST(!again.applied);
      BOOST_TEST(again.record == first.record);
      check_unchanged(*store, "k", before);
      // Still idempotent after the deadline: the decision stands.
      auto late = must(store->decide(d, at(5000)));
      BOOST_TEST(!late.applied);
      check_unchanged(*store, "k", before);
    }
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(decision_before_creation_is_kept, Factory,
                              approval_stores) {
  auto store = Factory::make();
  const json::value v = json::parse(R"({"ok":true})");
  auto pre
    = must(store->decide(m::decision::grant("early", v, "alice"), at(5)));
  BOOST_TEST(pre.applied);
  BOOST_TEST(pre.record.key == "early");
  BOOST_TEST(pre.record.status.state == m::approval_state::approved);
  BOOST_TEST(pre.record.status.decided_by == "alice");
  BOOST_TEST(pre.record.status.value == v);
  BOOST_TEST(require_record(*store, "early") == pre.record);
  BOOST_TEST(must(store->list_pending("", at(6), no_limit)).empty());
  const auto before = snapshot(*store, "early");

  // The run reaches the step later: it finds the decision, nothing changes.
  auto made = must(
    store->create_approval("early", make_spec(at(1000)), "run:r1", at(50)));
  BOOST_TEST(!made.created);
  BOOST_TEST(made.record == pre.record);
  BOOST_TEST(made.record.status.state == m::approval_state::approved);
  BOOST_TEST(made.record.status.decided_by == "alice");
  BOOST_TEST(ms(made.record.status.decided_at) == ms(at(5)));
  check_unchanged(*store, "early", before);
  BOOST_TEST(must(store->list_pending("", at(60), no_limit)).empty());
  BOOST_TEST(!must(store->next_expiry()).has_value());

  auto trail = must(store->audit_trail("early"));
  BOOST_TEST(actions_of(trail)
             == (std::vector<std::string>{"created", "approved"}));
  BOOST_TEST(trail.back().actor == "alice");
  check_sequences(trail, "early");

  // A pre-rejection is kept the same way.
  auto rej = must(store->decide(
    m::decision::reject("early-no", "not allowed", "bob"), at(7)));
  BOOST_TEST(rej.applied);
  auto made2
    = must(store->create_approval("early-no", make_spec(), "run:r2", at(60)));
  BOOST_TEST(!made2.created);
  BOOST_TEST(made2.record.status.state == m::approval_state::rejected);
  BOOST_TEST(made2.record.status.reason == "not allowed");
  BOOST_TEST(made2.record.status.decided_by == "bob");
}

BOOST_AUTO_TEST_CASE_TEMPLATE(each_decision_writes_the_rules_audit_entries,
                              Factory, approval_stores) {
  auto store = Factory::make();
  // The entries a decision appends are exactly those the shared rules
  // computed for it: a store numbers, adds and drops none of its own.
  auto decide_and_check = [&](const m::decision& d, time_point now) {
    const auto before = snapshot(*store, d.key);
    auto rules = m::apply_decision(before.record, d, now);
    BOOST_TEST_REQUIRE(rules.is_ok());
    BOOST_TEST(must(store->decide(d, now)).applied);
    auto expected = before.trail;
    expected.insert(expected.end(), rules->audit.begin(), rules->audit.end());
    BOOST_TEST(must(store->audit_trail(d.key)) == expected);
    return rules->audit.size();
  };
  const json::value v = json::parse(R"({"ok":true})");
  // Before its approval exists: the decider's "created", then the decision.
  BOOST_TEST(decide_and_check(m::decision::grant("early", v, "alice"), at(5))
             == 2u);
  BOOST_TEST(decide_and_check(
               m::decision::reject("early-no", "not allowed", "bob"), at(6))
             == 2u);
  must(store->create_approval("q", make_spec(at(1000), 2), "run:r1", at(0)));
  BOOST_TEST(decide_and_check(m::decision::grant("q", v, "alice"), at(10))
             == 1u);
  BOOST_TEST(decide_and_check(m::decision::grant("q", v, "bob"), at(11)) == 1u);
  must(store->create_approval("c", make_spec(), "run:r2", at(0)));
  BOOST_TEST(
    decide_and_check(m::decision::cancel("c", "withdrawn", "ops"), at(12))
    == 1u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(require_existing_on_unknown_key_is_not_found,
                              Factory, approval_stores) {
  auto store = Factory::make();
  auto d = m::decision::grant("nobody-asked", json::value(1), "alice");
  d.require_existing = true;
  must_fail(store->decide(d, at(1)), m::error_type::not_found);
  BOOST_TEST(!must(store->find_approval("nobody-asked")).has_value());
  BOOST_TEST(must(store->audit_trail("nobody-asked")).empty());

  // On an existing key it decides as usual.
  must(store->create_approval("nobody-asked", make_spec(), "run:r1", at(2)));
  auto out = must(store->decide(d, at(3)));
  BOOST_TEST(out.applied);
  BOOST_TEST(out.record.status.state == m::approval_state::approved);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(quorum_counts_distinct_approvers, Factory,
                              approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("q", make_spec(at(1000), 2), "run:r1", at(0)));
  const json::value v = json::parse(R"({"ok":true})");

  auto first = must(store->decide(m::decision::grant("q", v, "alice"), at(10)));
  BOOST_TEST(first.applied);
  BOOST_TEST(first.record.status.state == m::approval_state::pending);
  BOOST_TEST(first.record.status.decided_by.empty());
  BOOST_TEST_REQUIRE(first.record.grants.size() == 1u);
  BOOST_TEST(first.record.grants[0].approver == "alice");
  BOOST_TEST(ms(first.record.grants[0].at) == ms(at(10)));
  BOOST_TEST(first.record.grants[0].value == v);
  BOOST_TEST(require_record(*store, "q") == first.record);
  BOOST_TEST(must(store->list_pending("", at(11), no_limit))
             == std::vector<std::string>{"q"});
  BOOST_TEST(ms(must(store->next_expiry())) == ms(at(1000)));

  // The same approver counts once.
  const auto before = snapshot(*store, "q");
  auto again = must(store->decide(m::decision::grant("q", v, "alice"), at(20)));
  BOOST_TEST(!again.applied);
  BOOST_TEST(again.record.status.state == m::approval_state::pending);
  BOOST_TEST(again.record.grants.size() == 1u);
  check_unchanged(*store, "q", before);
  // ... and cannot change the value it granted.
  must_fail(
    store->decide(m::decision::grant("q", json::value(2), "alice"), at(21)),
    m::error_type::approval_conflict);
  check_unchanged(*store, "q", before);

  auto second = must(store->decide(m::decision::grant("q", v, "bob"), at(30)));
  BOOST_TEST(second.applied);
  BOOST_TEST(second.record.status.state == m::approval_state::approved);
  BOOST_TEST(second.record.status.decided_by == "bob");
  BOOST_TEST(ms(second.record.status.decided_at) == ms(at(30)));
  BOOST_TEST(second.record.status.value == v);
  BOOST_TEST_REQUIRE(second.record.grants.size() == 2u);
  BOOST_TEST(second.record.grants[1].approver == "bob");
  BOOST_TEST(require_record(*store, "q") == second.record);
  BOOST_TEST(must(store->list_pending("", at(31), no_limit)).empty());
  BOOST_TEST(!must(store->next_expiry()).has_value());

  auto trail = must(store->audit_trail("q"));
  BOOST_TEST(actions_of(trail)
             == (std::vector<std::string>{"created", "granted", "approved"}));
  BOOST_TEST(actors_of(trail)
             == (std::vector<std::string>{"run:r1", "alice", "bob"}));
  check_sequences(trail, "q");

  // A third approver is too late.
  auto e = must_fail(store->decide(m::decision::grant("q", v, "carol"), at(40)),
                     m::error_type::approval_conflict);
  check_conflict(e, second.record.status);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(quorum_one_rejection_rejects, Factory,
                              approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("q", make_spec(at(1000), 3), "run:r1", at(0)));
  must(store->decide(m::decision::grant("q", json::value(1), "alice"), at(10)));
  auto rej = must(store->decide(m::decision::reject("q", "no", "bob"), at(20)));
  BOOST_TEST(rej.applied);
  BOOST_TEST(rej.record.status.state == m::approval_state::rejected);
  BOOST_TEST(rej.record.status.decided_by == "bob");
  const auto before = snapshot(*store, "q");
  // The earlier approver repeating their grant now meets the rejection.
  auto e = must_fail(
    store->decide(m::decision::grant("q", json::value(1), "alice"), at(30)),
    m::error_type::approval_conflict);
  check_conflict(e, rej.record.status);
  check_unchanged(*store, "q", before);
  BOOST_TEST(actions_of(before.trail)
             == (std::vector<std::string>{"created", "granted", "rejected"}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(list_pending_matches_prefixes_literally, Factory,
                              approval_stores) {
  auto store = Factory::make();
  const std::vector<std::string> keys = {
    "a%b",
    "a%c",
    "ab",
    "abc",
    "a_x",
    "aXx",
    "a/b/c",
    "a/bc",
    "a*",
    "ab*",
    "%all",
    "_one",
    "*star",
    "z",
    "\xC3\xA9/1", // "é/1"
    "\xC3\xA9/2", // "é/2"
    "e/1",
    "\xE6\x97\xA5\xE6\x9C\xAC/x", // "日本/x"
    std::string("nul\0a", 5),
    std::string("nul\0b", 5),
    "nul",
    "nulx",
    std::string("\0lead", 5),
    std::string("\xFF"),
    std::string("\xFF\x01"),
    std::string("\xFF\0", 2),
    std::string("\xFE"),
  };
  for (const auto& k : keys)
    must(store->create_approval(k, make_spec(), "run:r", at(0)));

  const auto expected_for = [&](std::string_view prefix) {
    std::vector<std::string> out;
    for (const auto& k : keys)
      if (std::string_view{k}.starts_with(prefix))
        out.push_back(k);
    return sorted(std::move(out));
  };
  using v = std::vector<std::string>;

  // Hand-checked cases first, so the rule itself is pinned down.
  BOOST_TEST(must(store->list_pending("a%", at(1), no_limit))
             == (v{"a%b", "a%c"}));
  BOOST_TEST(must(store->list_pending("a_", at(1), no_limit)) == (v{"a_x"}));
  BOOST_TEST(must(store->list_pending("a*", at(1), no_limit)) == (v{"a*"}));
  BOOST_TEST(must(store->list_pending("%", at(1), no_limit)) == (v{"%all"}));
  BOOST_TEST(must(store->list_pending("_", at(1), no_limit)) == (v{"_one"}));
  BOOST_TEST(must(store->list_pending("*", at(1), no_limit)) == (v{"*star"}));
  BOOST_TEST(must(store->list_pending("a/b", at(1), no_limit))
             == (v{"a/b/c", "a/bc"}));
  BOOST_TEST(must(store->list_pending("a/b/", at(1), no_limit))
             == (v{"a/b/c"}));
  BOOST_TEST(must(store->list_pending("ab", at(1), no_limit))
             == (v{"ab", "ab*", "abc"}));
  BOOST_TEST(must(store->list_pending("\xC3\xA9", at(1), no_limit))
             == (v{"\xC3\xA9/1", "\xC3\xA9/2"}));
  BOOST_TEST(must(store->list_pending("\xC3", at(1), no_limit))
             == (v{"\xC3\xA9/1", "\xC3\xA9/2"}));
  BOOST_TEST(must(store->list_pending("e", at(1), no_limit)) == (v{"e/1"}));
  BOOST_TEST(
    must(store->list_pending(std::string_view("nul\0", 4), at(1), no_limit))
    == (v{std::string("nul\0a", 5), std::string("nul\0b", 5)}));
  BOOST_TEST(
    must(store->list_pending("nul", at(1), no_limit))
    == (v{"nul", std::string("nul\0a", 5), std::string("nul\0b", 5), "nulx"}));
  BOOST_TEST(
    must(store->list_pending(std::string_view("\0", 1), at(1), no_limit))
    == (v{std::string("\0lead", 5)}));
  BOOST_TEST(must(store->list_pending("\xFF", at(1), no_limit))
             == (v{"\xFF", std::string("\xFF\0", 2), "\xFF\x01"}));
  BOOST_TEST(must(store->list_pending("\xFE", at(1), no_limit)) == (v{"\xFE"}));
  BOOST_TEST(must(store->list_pending("nope", at(1), no_limit)).empty());
  BOOST_TEST(must(store->list_pending("a%bc", at(1), no_limit)).empty());

  // The empty prefix lists all, in byte order (0xFF keys last).
  auto all = must(store->list_pending("", at(1), no_limit));
  BOOST_TEST(all == sorted(keys));
  BOOST_TEST_REQUIRE(all.size() == keys.size());
  BOOST_TEST(all.front() == std::string("\0lead", 5));
  BOOST_TEST(all.back() == "\xFF\x01");

  // Every key and every proper prefix of every key, generically.
  for (const auto& k : keys)
    for (std::size_t n = 0; n <= k.size(); ++n) {
      std::string_view prefix{k.data(), n};
      BOOST_TEST(must(store->list_pending(prefix, at(1), no_limit))
                 == expected_for(prefix));
    }

  // The limit is respected and keeps the first keys in order.
  for (std::size_t limit :
       {std::size_t{0}, std::size_t{1}, std::size_t{3}, keys.size() - 1}) {
    auto some = must(store->list_pending("", at(1), limit));
    auto want = sorted(keys);
    want.resize(limit);
    BOOST_TEST(some == want);
  }
  BOOST_TEST(must(store->list_pending("a", at(1), 2)) == (v{"a%b", "a%c"}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(list_pending_omits_decided_and_expired, Factory,
                              approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("p1", make_spec(at(100)), "run:r", at(0)));
  must(store->create_approval("p2", make_spec(at(500)), "run:r", at(0)));
  must(store->create_approval("p3", make_spec(), "run:r", at(0)));
  must(store->create_approval("p4", make_spec(at(900)), "run:r", at(0)));
  must(store->create_approval("p5", make_spec(), "run:r", at(0)));
  using v = std::vector<std::string>;
  BOOST_TEST(must(store->list_pending("p", at(99), no_limit))
             == (v{"p1", "p2", "p3", "p4", "p5"}));
  // At the deadline it is expired (the deadline is inclusive).
  BOOST_TEST(must(store->list_pending("p", at(100), no_limit))
             == (v{"p2", "p3", "p4", "p5"}));
  // Past-deadline keys do not use up the limit.
  BOOST_TEST(must(store->list_pending("p", at(100), 2)) == (v{"p2", "p3"}));

  must(store->decide(m::decision::grant("p3", json::value(1), "a"), at(101)));
  must(store->decide(m::decision::reject("p5", "no", "a"), at(101)));
  BOOST_TEST(must(store->list_pending("p", at(101), no_limit))
             == (v{"p2", "p4"}));
  BOOST_TEST(must(store->list_pending("p", at(600), no_limit)) == (v{"p4"}));
  BOOST_TEST(must(store->list_pending("p", at(900), no_limit)).empty());
  // An earlier instant still sees the unexpired ones (time is an argument).
  BOOST_TEST(must(store->list_pending("p", at(50), no_limit))
             == (v{"p1", "p2", "p4"}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(due_for_expiry_is_earliest_first, Factory,
                              approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("c", make_spec(at(30)), "run:r", at(0)));
  must(store->create_approval("a", make_spec(at(10)), "run:r", at(0)));
  must(store->create_approval("d", make_spec(at(40)), "run:r", at(0)));
  must(store->create_approval("b", make_spec(at(20)), "run:r", at(0)));
  must(store->create_approval("never", make_spec(), "run:r", at(0)));
  using v = std::vector<std::string>;
  BOOST_TEST(must(store->due_for_expiry(at(5), no_limit)).empty());
  BOOST_TEST(must(store->due_for_expiry(at(9), no_limit)).empty());
  BOOST_TEST(must(store->due_for_expiry(at(10), no_limit)) == (v{"a"}));
  BOOST_TEST(must(store->due_for_expiry(at(25), no_limit)) == (v{"a", "b"}));
  BOOST_TEST(must(store->due_for_expiry(at(100), no_limit))
             == (v{"a", "b", "c", "d"}));
  BOOST_TEST(must(store->due_for_expiry(at(100), 2)) == (v{"a", "b"}));
  BOOST_TEST(must(store->due_for_expiry(at(100), 0)).empty());

  // Only pending approvals are due.
  must(store->decide(m::decision::grant("b", json::value(1), "x"), at(15)));
  must(store->decide(m::decision::cancel("c", "", "x"), at(16)));
  BOOST_TEST(must(store->due_for_expiry(at(100), no_limit)) == (v{"a", "d"}));
  must(store->decide(expire_decision("a"), at(100)));
  BOOST_TEST(must(store->due_for_expiry(at(100), no_limit)) == (v{"d"}));
  BOOST_TEST(must(store->due_for_expiry(at(100), 1)) == (v{"d"}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(next_expiry_moves_on, Factory, approval_stores) {
  auto store = Factory::make();
  BOOST_TEST(!must(store->next_expiry()).has_value());
  must(store->create_approval("never", make_spec(), "run:r", at(0)));
  BOOST_TEST(!must(store->next_expiry()).has_value());
  must(store->create_approval("c", make_spec(at(30)), "run:r", at(0)));
  BOOST_TEST(ms(must(store->next_expiry())) == ms(at(30)));
  must(store->create_approval("a", make_spec(at(10)), "run:r", at(0)));
  must(store->create_approval("b", make_spec(at(20)), "run:r", at(0)));
  BOOST_TEST(ms(must(store->next_expiry())) == ms(at(10)));

  // Decided before its deadline: the next one is b.
  must(store->decide(m::decision::grant("a", json::value(1), "x"), at(5)));
  BOOST_TEST(ms(must(store->next_expiry())) == ms(at(20)));
  // Expired: the next one is c.
  must(store->decide(expire_decision("b"), at(20)));
  BOOST_TEST(ms(must(store->next_expiry())) == ms(at(30)));
  must(store->decide(m::decision::reject("c", "no", "x"), at(25)));
  BOOST_TEST(!must(store->next_expiry()).has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(expiry_applies_past_deadline, Factory,
                              approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("k", make_spec(at(100)), "run:r1", at(0)));

  // Past the deadline but before the expiry is recorded, a grant is already
  // a conflict reading expired, and changes nothing.
  const auto pending = snapshot(*store, "k");
  auto early = must_fail(
    store->decide(m::decision::grant("k", json::value(1), "alice"), at(100)),
    m::error_type::approval_conflict);
  m::approval_status expired;
  expired.state = m::approval_state::expired;
  expired.decided_by = "system";
  expired.decided_at = at(100);
  check_conflict(early, expired);
  check_unchanged(*store, "k", pending);
  BOOST_TEST(require_record(*store, "k").status_at(at(100)) == expired);

  auto out = must(store->decide(expire_decision("k"), at(150)));
  BOOST_TEST(out.applied);
  BOOST_TEST(out.record.status.state == m::approval_state::expired);
  BOOST_TEST(out.record.status.decided_by == "system");
  // An expired approval was decided at its deadline.
  BOOST_TEST(ms(out.record.status.decided_at) == ms(at(100)));
  BOOST_TEST(out.record.status.value.is_null());
  BOOST_TEST(require_record(*store, "k") == out.record);
  auto trail = must(store->audit_trail("k"));
  BOOST_TEST(actions_of(trail)
             == (std::vector<std::string>{"created", "expired"}));
  BOOST_TEST(trail.back().actor == "system");
  check_sequences(trail, "k");
  BOOST_TEST(!must(store->next_expiry()).has_value());
  BOOST_TEST(must(store->due_for_expiry(at(1000), no_limit)).empty());
  BOOST_TEST(must(store->list_pending("", at(0), no_limit)).empty());

  // A later grant is a conflict reading expired; nothing changes.
  const auto before = snapshot(*store, "k");
  auto late = must_fail(
    store->decide(m::decision::grant("k", json::value(1), "alice"), at(200)),
    m::error_type::approval_conflict);
  check_conflict(late, out.record.status);
  check_unchanged(*store, "k", before);
  // Firing the expiry again changes nothing.
  auto twice = must(store->decide(expire_decision("k"), at(300)));
  BOOST_TEST(!twice.applied);
  check_unchanged(*store, "k", before);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(expiry_loses_to_earlier_decision, Factory,
                              approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("k", make_spec(at(100)), "run:r1", at(0)));
  auto won = must(
    store->decide(m::decision::grant("k", json::value(1), "alice"), at(99)));
  const auto before = snapshot(*store, "k");
  auto e = must_fail(store->decide(expire_decision("k"), at(100)),
                     m::error_type::approval_conflict);
  check_conflict(e, won.record.status);
  check_unchanged(*store, "k", before);
}

/// Due at(100) for "ann", then "lead" or group "managers" for 50 more;
/// reminders 30 and 10 before each deadline.
m::approval_spec escalating_spec() {
  auto s = make_spec(at(100));
  s.assignees = {"ann"};
  s.escalations = {{{"lead"}, {"managers"}, m::duration{50}}};
  s.reminders = {m::duration{10}, m::duration{30}};
  return s;
}

// The timer index holds each pending approval's next due time: its next
// reminder, then its deadline, then the next level's; each firing moves it
// on, and the approval is pending and listed until its last deadline.
BOOST_AUTO_TEST_CASE_TEMPLATE(reminders_and_escalations_move_the_timer_index,
                              Factory, approval_stores) {
  using v = std::vector<std::string>;
  auto store = Factory::make();
  must(store->create_approval("k", escalating_spec(), "run:r", at(0)));
  must(store->create_approval("later", make_spec(at(1000)), "run:r", at(0)));
  BOOST_TEST(ms(must(store->next_expiry())) == ms(at(70)));
  BOOST_TEST(must(store->due_for_expiry(at(69), no_limit)).empty());
  BOOST_TEST(must(store->due_for_expiry(at(70), no_limit)) == (v{"k"}));

  auto reminded = must(store->decide(expire_decision("k"), at(70)));
  BOOST_TEST(reminded.applied);
  BOOST_TEST(reminded.record.reminders_sent == 1U);
  BOOST_TEST(require_record(*store, "k") == reminded.record);
  BOOST_TEST(ms(must(store->next_expiry())) == ms(at(90)));
  BOOST_TEST(must(store->due_for_expiry(at(89), no_limit)).empty());
  // Fired again before the next one is due: refused, nothing changes.
  const auto once = snapshot(*store, "k");
  must_fail(store->decide(expire_decision("k"), at(80)),
            m::error_type::invalid_argument);
  check_unchanged(*store, "k", once);

  must(store->decide(expire_decision("k"), at(90)));
  BOOST_TEST(ms(must(store->next_expiry())) == ms(at(100)));
  auto escalated = must(store->decide(expire_decision("k"), at(100)));
  const auto& level = escalated.record;
  BOOST_TEST(level.status.is_pending());
  BOOST_TEST(level.escalation_level == 1U);
  BOOST_TEST(level.spec.assignees == (v{"lead"}));
  BOOST_TEST(level.spec.candidate_groups == (v{"managers"}));
  BOOST_TEST(ms(level.spec.expires_at) == ms(at(150)));
  BOOST_TEST(require_record(*store, "k") == level);
  BOOST_TEST(ms(must(store->next_expiry())) == ms(at(120)));
  BOOST_TEST(must(store->list_pending("", at(149), no_limit))
             == (v{"k", "later"}));
  BOOST_TEST(must(store->list_pending("", at(150), no_limit)) == (v{"later"}));

  // Down past the new deadline: its reminders are not sent; it expires.
  auto expired = must(store->decide(expire_decision("k"), at(200)));
  BOOST_TEST(expired.record.status.state == m::approval_state::expired);
  BOOST_TEST(ms(expired.record.status.decided_at) == ms(at(150)));
  auto trail = must(store->audit_trail("k"));
  BOOST_TEST(actions_of(trail)
             == (v{"created", "reminded", "reminded", "escalated", "expired"}));
  BOOST_TEST(actors_of(trail)
             == (v{"run:r", "system", "system", "system", "system"}));
  BOOST_TEST(trail[3].value.at("assignees") == json::parse(R"(["lead"])"));
  check_sequences(trail, "k");
  BOOST_TEST(ms(must(store->next_expiry())) == ms(at(1000)));
  BOOST_TEST(must(store->due_for_expiry(at(200), no_limit)).empty());
}

// A decision after a deadline the registry has not acted on yet records
// the escalation first, in the same change, and takes the approval out of
// the timer index.
BOOST_AUTO_TEST_CASE_TEMPLATE(a_late_decision_records_the_escalation_first,
                              Factory, approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("k", escalating_spec(), "run:r", at(0)));
  auto out = must(
    store->decide(m::decision::grant("k", json::value(1), "lead"), at(120)));
  BOOST_TEST(out.record.status.state == m::approval_state::approved);
  BOOST_TEST(out.record.escalation_level == 1U);
  auto trail = must(store->audit_trail("k"));
  BOOST_TEST(actions_of(trail)
             == (std::vector<std::string>{"created", "escalated", "approved"}));
  check_sequences(trail, "k");
  BOOST_TEST(!must(store->next_expiry()).has_value());
  BOOST_TEST(must(store->list_pending("", at(120), no_limit)).empty());
}

// An escalation computed from a record that changed since is refused whole:
// neither the record, the trail nor the timer index move.
BOOST_AUTO_TEST_CASE_TEMPLATE(a_stale_escalation_changes_nothing, Factory,
                              approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("k", escalating_spec(), "run:r", at(0)));
  const auto read = require_record(*store, "k");
  must(store->decide(m::decision::grant("k", json::value(1), "ann"), at(99)));
  const auto before = snapshot(*store, "k");
  auto escalation
    = must(m::apply_decision(&read, expire_decision("k"), at(100)));
  must_fail(store->apply(p::make_approval_change(
              p::approval_index::of(read), std::move(escalation), at(100))),
            m::error_type::stale_write);
  check_unchanged(*store, "k", before);
  BOOST_TEST(!must(store->next_expiry()).has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(remove_only_decided_approvals, Factory,
                              approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("k", make_spec(at(100)), "run:r1", at(0)));
  must(store->create_approval("other", make_spec(), "run:r1", at(0)));
  must(store->decide(m::decision::grant("other", json::value(1), "x"), at(1)));
  const auto before = snapshot(*store, "k");
  auto e
    = must_fail(store->remove_approval("k"), m::error_type::invalid_run_state);
  BOOST_TEST(!e.message.empty());
  check_unchanged(*store, "k", before);
  BOOST_TEST(must(store->list_pending("", at(1), no_limit))
             == std::vector<std::string>{"k"});
  BOOST_TEST(ms(must(store->next_expiry())) == ms(at(100)));

  must(store->decide(m::decision::reject("k", "no", "bob"), at(10)));
  BOOST_TEST(must(store->remove_approval("k")) == true);
  BOOST_TEST(!must(store->find_approval("k")).has_value());
  BOOST_TEST(must(store->audit_trail("k")).empty());
  BOOST_TEST(must(store->remove_approval("k")) == false);
  // Other keys are untouched.
  BOOST_TEST(require_record(*store, "other").status.state
             == m::approval_state::approved);
  BOOST_TEST(must(store->audit_trail("other")).size() == 2u);

  // An expired approval is decided too, so it can be removed.
  must(store->create_approval("e", make_spec(at(5)), "run:r1", at(0)));
  must_fail(store->remove_approval("e"), m::error_type::invalid_run_state);
  must(store->decide(expire_decision("e"), at(5)));
  BOOST_TEST(must(store->remove_approval("e")) == true);
  BOOST_TEST(!must(store->find_approval("e")).has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(audit_trail_is_ordered_and_complete, Factory,
                              approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("k", make_spec(at(1000), 3), "run:r7", at(1)));
  must(store->create_approval("k", make_spec(), "run:r8", at(2))); // no entry
  must(
    store->decide(m::decision::grant("k", json::value("g1"), "alice"), at(3)));
  must(store->decide(m::decision::grant("k", json::value("g1"), "alice"),
                     at(4))); // repeat: no entry
  must(store->decide(m::decision::edit("k", json::value("e2"), "bob"), at(5)));
  auto last = must(
    store->decide(m::decision::grant("k", json::value("g3"), "carol"), at(6)));
  // Another key's history does not leak in.
  must(store->create_approval("k2", make_spec(), "run:r9", at(7)));
  must(store->decide(m::decision::cancel("k2", "gone", "dave"), at(8)));

  // The last edit wins over plain grants.
  BOOST_TEST(last.record.status.state == m::approval_state::edited);
  BOOST_TEST(last.record.status.value == json::value("e2"));
  BOOST_TEST(last.record.status.decided_by == "carol");

  auto trail = must(store->audit_trail("k"));
  BOOST_TEST_REQUIRE(trail.size() == 4u);
  check_sequences(trail, "k");
  BOOST_TEST(
    actions_of(trail)
    == (std::vector<std::string>{"created", "granted", "granted", "edited"}));
  BOOST_TEST(actors_of(trail)
             == (std::vector<std::string>{"run:r7", "alice", "bob", "carol"}));
  std::vector<std::int64_t> times;
  for (const auto& e : trail)
    times.push_back(ms(e.at));
  BOOST_TEST(
    times
    == (std::vector<std::int64_t>{ms(at(1)), ms(at(3)), ms(at(5)), ms(at(6))}));
  BOOST_TEST(trail[1].value == json::value("g1"));
  BOOST_TEST(trail[2].value == json::value("e2"));

  auto trail2 = must(store->audit_trail("k2"));
  BOOST_TEST(actions_of(trail2)
             == (std::vector<std::string>{"created", "cancelled"}));
  BOOST_TEST(actors_of(trail2) == (std::vector<std::string>{"run:r9", "dave"}));
  BOOST_TEST(trail2.back().reason == "gone");
  check_sequences(trail2, "k2");
}

BOOST_AUTO_TEST_CASE_TEMPLATE(concurrent_decisions_have_one_winner, Factory,
                              approval_stores) {
  constexpr int threads = 16;
  constexpr int rounds = 25;
  auto store = Factory::make();
  const json::value v = json::parse(R"({"ok":true})");
  for (int round = 0; round < rounds; ++round) {
    BOOST_TEST_CONTEXT("round " << round) {
      const std::string key = "race:" + std::to_string(round);
      // Half the rounds race on a created approval, half on a pre-decision.
      if (round % 2 == 0)
        must(
          store->create_approval(key, make_spec(at(10'000)), "run:r", at(0)));
      std::vector<m::result<m::decision_outcome>> results(threads);
      std::latch start{threads};
      {
        std::vector<std::jthread> pool;
        for (int i = 0; i < threads; ++i)
          pool.emplace_back([&, i] {
            const auto actor = "actor-" + std::to_string(i);
            start.arrive_and_wait();
            results[static_cast<std::size_t>(i)]
              = store->decide(m::decision::grant(key, v, actor), at(50));
          });
      }
      int applied = 0;
      std::string winner;
      for (const auto& r : results)
        if (r.is_ok() && r->applied) {
          ++applied;
          winner = r->record.status.decided_by;
        }
      BOOST_TEST_REQUIRE(applied == 1);
      auto record = require_record(*store, key);
      BOOST_TEST(record.status.state == m::approval_state::approved);
      BOOST_TEST(record.status.decided_by == winner);
      BOOST_TEST(record.grants.size() == 1u);
      for (const auto& r : results) {
        if (r.is_ok()) {
          BOOST_TEST(r->applied); // only the winner succeeds
          continue;
        }
        BOOST_TEST(r.error().type == m::error_type::approval_conflict);
        check_conflict(r.error(), record.status);
      }
      auto trail = must(store->audit_trail(key));
      BOOST_TEST(actions_of(trail)
                 == (std::vector<std::string>{"created", "approved"}));
      BOOST_TEST(trail.back().actor == winner);
      check_sequences(trail, key);
    }
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_comment_is_audited_and_decides_nothing, Factory,
                              approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("k", make_spec(at(1000)), "run:r1", at(0)));
  const auto before = require_record(*store, "k");

  const auto entry = must(store->comment("k", "alice", "why so much?", at(5)));
  BOOST_TEST(entry.key == "k");
  BOOST_TEST(entry.sequence == 2U);
  BOOST_TEST(entry.action == "commented");
  BOOST_TEST(entry.actor == "alice");
  BOOST_TEST(entry.reason == "why so much?");
  BOOST_TEST(entry.value.is_null());
  BOOST_TEST(ms(entry.at) == ms(at(5)));

  auto after = require_record(*store, "k");
  BOOST_TEST(after.revision == before.revision + 1);
  after.revision = before.revision;
  BOOST_TEST(after == before); // status, grants and spec untouched
  BOOST_TEST(must(store->list_pending("", at(5), no_limit))
             == std::vector<std::string>{"k"});
  BOOST_TEST(ms(must(store->next_expiry())) == ms(at(1000)));
  const auto trail = must(store->audit_trail("k"));
  BOOST_TEST(actions_of(trail)
             == (std::vector<std::string>{"created", "commented"}));
  BOOST_TEST(trail.back() == entry);

  // The approval still takes its decision, audited after the comment.
  must(store->decide(m::decision::reject("k", "too much", "bob"), at(6)));
  BOOST_TEST(actions_of(must(store->audit_trail("k")))
             == (std::vector<std::string>{"created", "commented", "rejected"}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_decided_approval_takes_comments, Factory,
                              approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("k", make_spec(), "run:r1", at(0)));
  must(store->decide(m::decision::grant("k", json::value(1), "bob"), at(1)));
  // The decision's wake is done with: a comment must not owe another.
  must(store->wakes_done(must(store->owed_wakes(no_limit, {}))));
  const auto decided = require_record(*store, "k");

  must(store->comment("k", "alice", "approved in the meeting", at(2)));
  must(store->comment("k", "bob", "thanks", at(3)));
  auto after = require_record(*store, "k");
  BOOST_TEST(after.revision == decided.revision + 2);
  after.revision = decided.revision;
  BOOST_TEST(after == decided);
  BOOST_TEST(must(store->owed_wakes(no_limit, {})).empty());
  const auto trail = must(store->audit_trail("k"));
  BOOST_TEST(actions_of(trail)
             == (std::vector<std::string>{"created", "approved", "commented",
                                          "commented"}));
  BOOST_TEST(actors_of(trail)
             == (std::vector<std::string>{"run:r1", "bob", "alice", "bob"}));
  check_sequences(trail, "k");
}

BOOST_AUTO_TEST_CASE_TEMPLATE(bad_comments_change_nothing, Factory,
                              approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("k", make_spec(), "run:r1", at(0)));
  const auto before = snapshot(*store, "k");
  const std::string too_long(m::max_comment_bytes + 1, 'x');

  must_fail(store->comment("k", "alice", "", at(1)),
            m::error_type::invalid_argument);
  must_fail(store->comment("k", "alice", too_long, at(1)),
            m::error_type::invalid_argument);
  must_fail(store->comment("k", "", "hello", at(1)),
            m::error_type::invalid_argument);
  must_fail(store->comment("", "alice", "hello", at(1)),
            m::error_type::invalid_argument);
  check_unchanged(*store, "k", before);

  // A comment never creates the approval it names.
  must_fail(store->comment("ghost", "alice", "hello", at(1)),
            m::error_type::not_found);
  BOOST_TEST(!must(store->find_approval("ghost")).has_value());
  BOOST_TEST(must(store->audit_trail("ghost")).empty());
}

// --- who may decide -------------------------------------------------------

/// A spec assigned to alice and bob, and to the finance group.
m::approval_spec assigned_spec() {
  auto spec = make_spec(at(1000));
  spec.assignees = {"alice", "bob"};
  spec.candidate_groups = {"finance"};
  return spec;
}

/// `d` as decided by an actor who may decide only where assigned.
m::decision checked(m::decision d, std::vector<std::string> groups = {}) {
  d.rights = m::actor_rights::member_of(std::move(groups));
  return d;
}

BOOST_AUTO_TEST_CASE_TEMPLATE(only_who_is_assigned_decides, Factory,
                              approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("k", assigned_spec(), "run:r1", at(0)));
  const auto before = snapshot(*store, "k");
  must_fail(
    store->decide(
      checked(m::decision::grant("k", json::value(1), "mallory"), {"ops"}),
      at(1)),
    m::error_type::forbidden);
  check_unchanged(*store, "k", before);
  auto outcome = must(store->decide(
    checked(m::decision::grant("k", json::value(1), "carol"), {"finance"}),
    at(2)));
  BOOST_TEST(outcome.applied);
  BOOST_TEST(outcome.record.status.decided_by == "carol");
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_reassignment_is_audited_and_decides_nothing,
                              Factory, approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("k", assigned_spec(), "run:r1", at(0)));
  const auto before = require_record(*store, "k");

  auto change
    = m::assignment_change::reassign("k", {"carol"}, {"ops"}, "alice");
  change.reason = "alice is away";
  change.rights = m::actor_rights::member_of();
  auto outcome = must(store->change_assignment(change, at(5)));
  BOOST_TEST(outcome.applied);
  auto after = require_record(*store, "k");
  BOOST_TEST(after == outcome.record);
  BOOST_TEST((after.spec.assignees == std::vector<std::string>{"carol"}));
  BOOST_TEST((after.spec.candidate_groups == std::vector<std::string>{"ops"}));
  BOOST_TEST(after.revision == before.revision + 1);
  after.revision = before.revision;
  after.spec = before.spec;
  BOOST_TEST(after == before); // status and grants untouched
  BOOST_TEST(must(store->list_pending("", at(5), no_limit))
             == std::vector<std::string>{"k"});
  BOOST_TEST(ms(must(store->next_expiry())) == ms(at(1000)));
  const auto trail = must(store->audit_trail("k"));
  BOOST_TEST(actions_of(trail)
             == (std::vector<std::string>{"created", "reassigned"}));
  BOOST_TEST(trail.back().actor == "alice");
  BOOST_TEST(trail.back().reason == "alice is away");
  BOOST_TEST(
    trail.back().value
    == json::parse(R"({"assignees":["carol"],"candidateGroups":["ops"]})"));
  check_sequences(trail, "k");

  // Asking again for what holds writes nothing.
  const auto settled = snapshot(*store, "k");
  BOOST_TEST(!must(store->change_assignment(change, at(6))).applied);
  check_unchanged(*store, "k", settled);

  // Who may decide follows the new assignment.
  must_fail(store->decide(
              checked(m::decision::grant("k", json::value(1), "alice")), at(7)),
            m::error_type::forbidden);
  must(store->decide(checked(m::decision::grant("k", json::value(1), "carol")),
                     at(8)));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_delegation_hands_the_place_on, Factory,
                              approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("k", assigned_spec(), "run:r1", at(0)));
  auto change = m::assignment_change::delegate("k", "dave", "bob");
  change.rights = m::actor_rights::member_of();
  auto outcome = must(store->change_assignment(change, at(3)));
  BOOST_TEST(outcome.applied);
  BOOST_TEST((require_record(*store, "k").spec.assignees
              == std::vector<std::string>{"alice", "dave"}));
  const auto trail = must(store->audit_trail("k"));
  BOOST_TEST(actions_of(trail)
             == (std::vector<std::string>{"created", "delegated"}));
  BOOST_TEST(trail.back().actor == "bob");
  const auto settled = snapshot(*store, "k");
  BOOST_TEST(!must(store->change_assignment(change, at(4))).applied);
  check_unchanged(*store, "k", settled);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(refused_assignment_changes_change_nothing,
                              Factory, approval_stores) {
  auto store = Factory::make();
  must(store->create_approval("k", assigned_spec(), "run:r1", at(0)));
  const auto before = snapshot(*store, "k");
  auto outsider
    = m::assignment_change::reassign("k", {"mallory"}, {}, "mallory");
  outsider.rights = m::actor_rights::member_of();
  must_fail(store->change_assignment(outsider, at(1)),
            m::error_type::forbidden);
  auto member = m::assignment_change::delegate("k", "dave", "carol");
  member.rights = m::actor_rights::member_of({"finance"});
  must_fail(store->change_assignment(member, at(1)), m::error_type::forbidden);
  must_fail(
    store->change_assignment(
      m::assignment_change::reassign("k", {"x", "x"}, {}, "root"), at(1)),
    m::error_type::invalid_argument);
  must_fail(store->change_assignment(
              m::assignment_change::delegate("k", "", "alice"), at(1)),
            m::error_type::invalid_argument);
  check_unchanged(*store, "k", before);

  must_fail(
    store->change_assignment(
      m::assignment_change::reassign("ghost", {"x"}, {}, "root"), at(1)),
    m::error_type::not_found);
  BOOST_TEST(!must(store->find_approval("ghost")).has_value());

  must(store->decide(m::decision::grant("k", json::value(1), "alice"), at(2)));
  const auto decided = snapshot(*store, "k");
  must_fail(store->change_assignment(
              m::assignment_change::reassign("k", {"x"}, {}, "root"), at(3)),
            m::error_type::approval_conflict);
  check_unchanged(*store, "k", decided);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(list_decided_is_newest_first_since, Factory,
                              approval_stores) {
  auto store = Factory::make();
  for (const auto* key : {"a", "b", "c", "d", "e"})
    must(store->create_approval(key, make_spec(at(50)), "run:r1", at(0)));
  must(store->decide(m::decision::grant("a", json::value(1), "x"), at(10)));
  must(store->decide(m::decision::reject("b", "no", "x"), at(30)));
  must(store->decide(m::decision::cancel("c", "", "x"), at(20)));
  must(store->decide(expire_decision("d"), at(60))); // decided at its deadline
  BOOST_TEST(must(store->list_decided(at(0), no_limit))
             == (std::vector<std::string>{"d", "b", "c", "a"}));
  BOOST_TEST(must(store->list_decided(at(20), no_limit))
             == (std::vector<std::string>{"d", "b", "c"}));
  BOOST_TEST(must(store->list_decided(at(0), 2))
             == (std::vector<std::string>{"d", "b"}));
  BOOST_TEST(must(store->list_decided(at(51), no_limit)).empty());
  // A comment leaves it where it was; a removal takes it out.
  must(store->comment("a", "y", "late note", at(70)));
  must(store->remove_approval("b"));
  BOOST_TEST(must(store->list_decided(at(0), no_limit))
             == (std::vector<std::string>{"d", "c", "a"}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(concurrent_comments_and_a_decision_keep_the_trail,
                              Factory, approval_stores) {
  constexpr int commenters = 4;
  constexpr int per_thread = 25;
  auto store = Factory::make();
  must(store->create_approval("k", make_spec(), "run:r1", at(0)));
  std::vector<int> written(commenters, 0);
  std::vector<int> failed(commenters, 0);
  m::result<m::decision_outcome> decided
    = m::make_error(m::error_type::unexpected_error, "not run");
  std::latch start{commenters + 1};
  {
    std::vector<std::jthread> pool;
    for (int t = 0; t < commenters; ++t)
      pool.emplace_back([&, t] {
        const auto actor = "actor-" + std::to_string(t);
        start.arrive_and_wait();
        for (int i = 0; i < per_thread; ++i) {
          auto r
            = store->comment("k", actor, "note " + std::to_string(i), at(10));
          // Only losing every retry to the other writers may refuse one.
          if (r.is_ok())
            ++written[static_cast<std::size_t>(t)];
          else if (r.error().is(m::error_type::stale_write))
            ++failed[static_cast<std::size_t>(t)];
        }
      });
    pool.emplace_back([&] {
      start.arrive_and_wait();
      // Losing every retry to the commenters is the store's answer to
      // contention (STALE_WRITE); the decider asks again, as a caller may.
      do
        decided = store->decide(m::decision::grant("k", json::value(1), "boss"),
                                at(10));
      while (decided.is_err()
             && decided.error().is(m::error_type::stale_write));
    });
  }
  BOOST_TEST_REQUIRE(decided.is_ok());
  int comments = 0;
  for (int t = 0; t < commenters; ++t) {
    const auto i = static_cast<std::size_t>(t);
    BOOST_TEST(written[i] + failed[i] == per_thread);
    comments += written[i];
  }
  const auto trail = must(store->audit_trail("k"));
  check_sequences(trail, "k");
  const auto actions = actions_of(trail);
  BOOST_TEST(std::count(actions.begin(), actions.end(), "commented")
             == comments);
  BOOST_TEST(std::count(actions.begin(), actions.end(), "approved") == 1);
  BOOST_TEST(trail.size() == static_cast<std::size_t>(comments) + 2);
  const auto record = require_record(*store, "k");
  BOOST_TEST(record.revision == trail.size());
  BOOST_TEST(record.status.state == m::approval_state::approved);
}

// Keys hold any bytes: NUL, '%', '_', '/', bytes that are not UTF-8, and
// UTF-8 text all round-trip through every operation.
BOOST_AUTO_TEST_CASE_TEMPLATE(odd_byte_keys_round_trip, Factory,
                              approval_stores) {
  auto store = Factory::make();
  const std::vector<std::string> keys{
    std::string("k\0%_/\xFF\xFE", 7), "approval/\xC3\xA9t\xC3\xA9/%25",
    std::string("\x80\x81", 2), "\xE2\x9C\x93 done"};
  for (const auto& key : keys) {
    BOOST_TEST_INFO("key of " << key.size() << " bytes");
    must(
      store->create_approval(key, {.metadata = {{"key", key}}}, "run:1", t0));
    auto granted = must(
      store->decide(m::decision::grant(key, json::value(key), "jane"), t0));
    BOOST_TEST(granted.record.key == key);
    auto found = must(store->find_approval(key));
    BOOST_REQUIRE(found.has_value());
    BOOST_TEST(found->key == key);
    BOOST_TEST(found->status.value.as_string() == key);
    auto trail = must(store->audit_trail(key));
    BOOST_REQUIRE_EQUAL(trail.size(), 2U);
    BOOST_TEST(trail[1].key == key);
  }
}

// Keys that start with one another, or spell what a store may keep beside
// a record (a length, a part, a sequence), stay apart: each has its own
// record and trail, and removing one leaves the others whole.
BOOST_AUTO_TEST_CASE_TEMPLATE(keys_that_look_alike_stay_apart, Factory,
                              approval_stores) {
  auto store = Factory::make();
  const std::vector<std::string> keys{"k",
                                      "kr",
                                      "kt",
                                      std::string("k\0\0\0\0\0\0\0\1", 9),
                                      std::string("\0\1kr", 4),
                                      std::string("a\0\1kt", 5)};
  for (const auto& key : keys)
    must(store->create_approval(key, {}, "run:1", t0));
  // Every other key is decided, and gets one comment more than the last.
  for (std::size_t i = 0; i < keys.size(); i += 2) {
    must(store->decide(m::decision::grant(keys[i], json::value(i), "jane"),
                       at(1)));
    for (std::size_t c = 0; c < i; ++c)
      must(store->comment(keys[i], "bob", "note", at(2)));
  }
  must(store->remove_approval(keys[0]));
  BOOST_TEST(!must(store->find_approval(keys[0])).has_value());
  BOOST_TEST(must(store->audit_trail(keys[0])).empty());
  for (std::size_t i = 1; i < keys.size(); ++i) {
    BOOST_TEST_INFO("key " << i);
    auto found = must(store->find_approval(keys[i]));
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST(found->key == keys[i]);
    BOOST_TEST(found->status.is_pending() == (i % 2 == 1));
    const auto trail = must(store->audit_trail(keys[i]));
    BOOST_TEST(trail.size() == (i % 2 == 1 ? 1U : 2U + i));
    for (const auto& entry : trail)
      BOOST_TEST(entry.key == keys[i]);
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(run_ids_that_look_alike_stay_apart, Factory,
                              workflow_state_stores) {
  auto store = Factory::make();
  const std::vector<std::string> ids{"r",
                                     "rh",
                                     "ri",
                                     "rc",
                                     std::string("r\0\0\0\0", 5),
                                     std::string("\1rh", 3),
                                     std::string("\x02rc\0\0\0\0", 7)};
  std::vector<m::saved_workflow_state> runs;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto run = paused(ids[i], "wf", {"k" + std::to_string(i)});
    for (std::size_t c = 0; c <= i; ++c)
      run.checkpoints.emplace("step-" + std::to_string(c),
                              m::checkpoint{m::ok(json::value(i))});
    must(store->save(run));
    runs.push_back(std::move(run));
  }
  BOOST_TEST(must(store->remove(ids[0])));
  BOOST_TEST(!must(store->load(ids[0])).has_value());
  for (std::size_t i = 1; i < ids.size(); ++i) {
    BOOST_TEST_INFO("run " << i);
    auto loaded = must(store->load(ids[i]));
    BOOST_TEST_REQUIRE(loaded.has_value());
    BOOST_TEST(*loaded == runs[i]);
  }
  auto listed = must(store->list({}));
  BOOST_TEST(listed.size() == ids.size() - 1);
}

// A store counts its pending approvals from its index, for metrics; a
// user's store that cannot count cheaply answers "unknown" (the default).
BOOST_AUTO_TEST_CASE_TEMPLATE(pending_count_follows_the_pending_index, Factory,
                              approval_stores) {
  auto store = Factory::make();
  constexpr bool counts = !std::is_same_v<Factory, kv_approval_factory>;
  auto expect = [&](std::uint64_t n) {
    auto counted = must(store->count_pending());
    BOOST_TEST(counted.has_value() == counts);
    if (counted)
      BOOST_TEST(*counted == n);
  };
  expect(0);
  for (const char* key : {"a", "b", "c"})
    must(store->create_approval(key, make_spec(at(1000)), "run:r1", at(0)));
  expect(3);
  must(store->decide(m::decision::grant("a", json::value(1), "alice"), at(1)));
  must(store->decide(m::decision::reject("b", "no", "bob"), at(2)));
  expect(1);
  // Past its deadline but not expired yet: still counted.
  BOOST_TEST(must(store->list_pending("", at(2000), no_limit)).empty());
  expect(1);
  must(store->decide(expire_decision("c"), at(2000)));
  expect(0);
  // A decision on a key nobody asked for creates it decided: not pending.
  must(store->decide(m::decision::grant("d", json::value(1), "alice"), at(3)));
  expect(0);
}

BOOST_AUTO_TEST_SUITE_END()

// ===========================================================================
// Workflow state stores
// ===========================================================================

BOOST_AUTO_TEST_SUITE(workflow_state_store_conformance)

BOOST_AUTO_TEST_CASE_TEMPLATE(save_load_round_trip, Factory,
                              workflow_state_stores) {
  auto store = Factory::make();
  BOOST_TEST(!must(store->load("run-1")).has_value());

  m::saved_workflow_state s;
  s.run_id = "run-1";
  s.workflow_name = "refund";
  s.status = m::run_status::completed;
  s.checkpoints.emplace("fetch-order",
                        m::checkpoint{m::ok(json::parse(
                          R"({"id":"ord_1","items":[1,2,3],"total":12.5})"))});
  s.checkpoints.emplace("#2", m::checkpoint{m::ok(json::value(nullptr))});
  s.checkpoints.emplace(
    "charge",
    m::checkpoint{m::err(m::make_error("OUT_OF_STOCK", "none left",
                                       json::parse(R"({"sku":"x-1"})")))});
  s.checkpoints.emplace("approval:manager",
                        m::checkpoint{m::ok(json::parse(R"({"ok":true})"))});
  s.approval_keys = {"approval:manager", "approval:finance"};
  s.pending_reason = "";
  s.input = json::parse(R"({"order":"ord_1","amount":-3,"note":"caf\u00e9"})");
  s.metadata = json::parse(R"({"tenant":"acme","tags":["a","b"]})");
  s.started_at = at(1);
  s.updated_at = at(99);
  s.outcome = m::result<json::value>{
    m::err(m::make_error(m::error_type::approval_rejected, "too expensive"))};
  must(store->save(s));
  auto loaded = must(store->load("run-1"));
  BOOST_TEST_REQUIRE(loaded.has_value());
  BOOST_TEST(*loaded == s);

  // A paused run with several pending approvals and an ok outcome elsewhere.
  auto p = paused("run-2", "refund", {"k1", "k2"}, at(5));
  p.checkpoints.emplace("step", m::checkpoint{m::ok(json::value(42))});
  p.metadata = json::parse(R"({"priority":1})");
  must(store->save(p));
  auto q = make_run("run-3", "ship", m::run_status::completed, at(6));
  q.outcome = m::result<json::value>{m::ok(json::parse(R"({"shipped":true})"))};
  must(store->save(q));
  auto loaded_p = must(store->load("run-2"));
  auto loaded_q = must(store->load("run-3"));
  BOOST_TEST_REQUIRE(loaded_p.has_value());
  BOOST_TEST_REQUIRE(loaded_q.has_value());
  BOOST_TEST(*loaded_p == p);
  BOOST_TEST(*loaded_q == q);
  BOOST_TEST(*must(store->load("run-1")) == s);
  BOOST_TEST(!must(store->load("run-")).has_value());
  BOOST_TEST(!must(store->load("run-10")).has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_cancelled_run_keeps_who_cancelled_it, Factory,
                              workflow_state_stores) {
  auto store = Factory::make();
  auto run = paused("run-c", "refund", {"k1"}, at(1));
  p::run_change first;
  first.run = run;
  first.created = true;
  must(store->apply(first));

  // The progress a run's actor writes when `cancel_run` stops it.
  p::run_change cancel;
  cancel.before = p::run_index::of(run);
  cancel.run = run;
  cancel.run.status = m::run_status::cancelled;
  cancel.run.pending_approvals.clear();
  cancel.run.pending_reason.clear();
  cancel.run.updated_at = at(2);
  cancel.run.outcome = m::result<json::value>{
    m::err(m::make_error(m::error_type::approval_cancelled, "withdrawn"))};
  cancel.run.cancelled_by = "ops@example.com";
  must(store->apply(cancel));

  auto loaded = must(store->load("run-c"));
  BOOST_TEST_REQUIRE(loaded.has_value());
  BOOST_TEST(loaded->cancelled_by == "ops@example.com");
  BOOST_TEST(*loaded == cancel.run);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(save_replaces_and_keeps_indexes_in_step, Factory,
                              workflow_state_stores) {
  auto store = Factory::make();
  using v = std::vector<std::string>;
  // Another run waits on A throughout, so A's index entry must not vanish.
  must(store->save(paused("other", "wf", {"A"}, at(1))));

  must(store->save(paused("r1", "wf", {"A"}, at(10))));
  BOOST_TEST(sorted(must(store->find_by_pending_approval("A")))
             == (v{"other", "r1"}));
  BOOST_TEST(must(store->find_by_pending_approval("B")).empty());

  must(store->save(paused("r1", "wf", {"B"}, at(20))));
  BOOST_TEST(must(store->find_by_pending_approval("A")) == (v{"other"}));
  BOOST_TEST(must(store->find_by_pending_approval("B")) == (v{"r1"}));
  BOOST_TEST(must(store->list({.status = m::run_status::paused}))
             == (v{"other", "r1"}));

  auto done = make_run("r1", "wf", m::run_status::completed, at(30));
  must(store->save(done));
  BOOST_TEST(must(store->find_by_pending_approval("A")) == (v{"other"}));
  BOOST_TEST(must(store->find_by_pending_approval("B")).empty());
  BOOST_TEST(must(store->list({.status = m::run_status::paused}))
             == (v{"other"}));
  BOOST_TEST(must(store->list({.status = m::run_status::completed}))
             == (v{"r1"}));
  BOOST_TEST(must(store->list({.has_pending_approvals = true}))
             == (v{"other"}));
  BOOST_TEST(must(store->list({.has_pending_approvals = false})) == (v{"r1"}));
  BOOST_TEST(must(store->finished_before(at(31), no_limit)) == (v{"r1"}));
  BOOST_TEST(*must(store->load("r1")) == done);
  BOOST_TEST(must(store->list({})) == (v{"other", "r1"}));

  // The brief's exact sequence on its own: A, then B, then completed.
  must(store->remove("other"));
  must(store->save(paused("solo", "wf", {"A"}, at(40))));
  must(store->save(paused("solo", "wf", {"B"}, at(41))));
  must(store->save(make_run("solo", "wf", m::run_status::completed, at(42))));
  BOOST_TEST(must(store->find_by_pending_approval("A")).empty());
  BOOST_TEST(must(store->find_by_pending_approval("B")).empty());

  // A finished run saved again with a newer time is indexed once, by the
  // new time.
  must(store->save(make_run("r1", "wf", m::run_status::completed, at(100))));
  BOOST_TEST(must(store->finished_before(at(50), no_limit)) == (v{"solo"}));
  BOOST_TEST(must(store->finished_before(at(101), no_limit))
             == (v{"solo", "r1"}));

  // Finished, then saved as paused again (a re-run): out of finished_before.
  must(store->save(paused("r1", "wf", {"C"}, at(110))));
  BOOST_TEST(must(store->finished_before(at(1000), no_limit)) == (v{"solo"}));
  BOOST_TEST(must(store->find_by_pending_approval("C")) == (v{"r1"}));
}

// Regression: the LMDB index keeps instants unsigned, and a cutoff before
// the epoch (a cleanup age longer than the epoch is old) wrapped around to
// the far future, so every finished run was "before" it.
BOOST_AUTO_TEST_CASE_TEMPLATE(finished_before_the_epoch_is_nothing, Factory,
                              workflow_state_stores) {
  auto store = Factory::make();
  must(store->save(make_run("r1", "wf", m::run_status::completed, at(1))));
  BOOST_TEST(must(store->finished_before(m::time_point{}, no_limit)).empty());
  BOOST_TEST(
    must(store->finished_before(m::from_millis(-1), no_limit)).empty());
  BOOST_TEST(must(store->finished_before(
                    m::time_point{} - std::chrono::hours{100'000}, no_limit))
               .empty());
  BOOST_TEST(must(store->finished_before(at(2), no_limit))
             == std::vector<std::string>{"r1"});
}

BOOST_AUTO_TEST_CASE_TEMPLATE(empty_run_id_is_invalid, Factory,
                              workflow_state_stores) {
  auto store = Factory::make();
  auto bad = paused("", "wf", {"A"});
  auto r = store->save(bad);
  BOOST_TEST_REQUIRE(r.is_err());
  BOOST_TEST(r.error().type == m::error_type::invalid_argument);
  BOOST_TEST(must(store->list({})).empty());
  BOOST_TEST(must(store->find_by_pending_approval("A")).empty());
  BOOST_TEST(!must(store->load("")).has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(remove_returns_true_then_false, Factory,
                              workflow_state_stores) {
  auto store = Factory::make();
  must(store->save(paused("r1", "wf", {"A", "B"}, at(1))));
  must(store->save(make_run("r2", "wf", m::run_status::failed, at(2))));
  must(store->save(paused("keep", "wf", {"A"}, at(3))));

  BOOST_TEST(must(store->remove("r1")) == true);
  BOOST_TEST(must(store->remove("r1")) == false);
  BOOST_TEST(!must(store->load("r1")).has_value());
  BOOST_TEST(must(store->find_by_pending_approval("A"))
             == std::vector<std::string>{"keep"});
  BOOST_TEST(must(store->find_by_pending_approval("B")).empty());

  BOOST_TEST(must(store->remove("r2")) == true);
  BOOST_TEST(must(store->remove("r2")) == false);
  BOOST_TEST(must(store->finished_before(at(1000), no_limit)).empty());
  BOOST_TEST(must(store->list({})) == std::vector<std::string>{"keep"});
  BOOST_TEST(must(store->remove("never-existed")) == false);

  // A removed run can be saved again from scratch.
  auto again = paused("r1", "wf2", {"Z"}, at(9));
  must(store->save(again));
  BOOST_TEST(*must(store->load("r1")) == again);
  BOOST_TEST(must(store->find_by_pending_approval("Z"))
             == std::vector<std::string>{"r1"});
}

BOOST_AUTO_TEST_CASE_TEMPLATE(list_filters_runs, Factory,
                              workflow_state_stores) {
  auto store = Factory::make();
  must(store->save(paused("r05", "refund", {"k1"})));
  must(store->save(make_run("r01", "refund", m::run_status::completed, at(2))));
  must(store->save(paused("r03", "ship", {"k2", "k3"})));
  must(store->save(make_run("r02", "ship", m::run_status::running, at(3))));
  must(store->save(make_run("r04", "refund", m::run_status::failed, at(4))));
  must(store->save(make_run("r06", "refund", m::run_status::running, at(5))));
  must(store->save(make_run("r07", "ship", m::run_status::cancelled, at(6))));
  // Paused with no pending approvals (e.g. between saves): still "none".
  must(store->save(make_run("r08", "refund", m::run_status::paused, at(7))));
  using v = std::vector<std::string>;

  BOOST_TEST(must(store->list({}))
             == (v{"r01", "r02", "r03", "r04", "r05", "r06", "r07", "r08"}));
  BOOST_TEST(must(store->list({.workflow_name = "refund"}))
             == (v{"r01", "r04", "r05", "r06", "r08"}));
  BOOST_TEST(must(store->list({.workflow_name = "ship"}))
             == (v{"r02", "r03", "r07"}));
  BOOST_TEST(must(store->list({.workflow_name = "refun"})).empty());
  BOOST_TEST(must(store->list({.workflow_name = ""})).empty());
  BOOST_TEST(must(store->list({.status = m::run_status::running}))
             == (v{"r02", "r06"}));
  BOOST_TEST(must(store->list({.status = m::run_status::paused}))
             == (v{"r03", "r05", "r08"}));
  BOOST_TEST(must(store->list({.status = m::run_status::completed}))
             == (v{"r01"}));
  BOOST_TEST(must(store->list({.status = m::run_status::failed}))
             == (v{"r04"}));
  BOOST_TEST(must(store->list({.status = m::run_status::cancelled}))
             == (v{"r07"}));
  BOOST_TEST(must(store->list({.has_pending_approvals = true}))
             == (v{"r03", "r05"}));
  BOOST_TEST(must(store->list({.has_pending_approvals = false}))
             == (v{"r01", "r02", "r04", "r06", "r07", "r08"}));
  BOOST_TEST(must(store->list(
               {.workflow_name = "refund", .status = m::run_status::paused}))
             == (v{"r05", "r08"}));
  BOOST_TEST(must(store->list({.workflow_name = "refund",
                               .status = m::run_status::paused,
                               .has_pending_approvals = true}))
             == (v{"r05"}));
  BOOST_TEST(
    must(store->list({.workflow_name = "ship", .has_pending_approvals = false}))
    == (v{"r02", "r07"}));
  BOOST_TEST(must(store->list({.workflow_name = "ship",
                               .status = m::run_status::completed}))
               .empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(find_by_pending_approval_returns_all_waiters,
                              Factory, workflow_state_stores) {
  auto store = Factory::make();
  must(store->save(paused("r3", "wf", {"K"})));
  must(store->save(paused("r1", "wf", {"K", "K2"})));
  must(store->save(paused("r2", "other-wf", {"K2", "K"})));
  must(store->save(paused("r4", "wf", {"L"})));
  must(store->save(paused("r5", "wf", {"K-suffix"})));
  must(store->save(make_run("r6", "wf", m::run_status::running, at(1))));
  using v = std::vector<std::string>;
  BOOST_TEST(sorted(must(store->find_by_pending_approval("K")))
             == (v{"r1", "r2", "r3"}));
  BOOST_TEST(sorted(must(store->find_by_pending_approval("K2")))
             == (v{"r1", "r2"}));
  BOOST_TEST(must(store->find_by_pending_approval("L")) == (v{"r4"}));
  BOOST_TEST(must(store->find_by_pending_approval("K-suffix")) == (v{"r5"}));
  BOOST_TEST(must(store->find_by_pending_approval("K-")).empty());
  BOOST_TEST(must(store->find_by_pending_approval("")).empty());
  BOOST_TEST(must(store->find_by_pending_approval("unknown")).empty());

  // Odd bytes in an approval key are an exact match too.
  const std::string odd("k\0%_\xFF", 5);
  must(store->save(paused("r7", "wf", {odd})));
  BOOST_TEST(must(store->find_by_pending_approval(odd)) == (v{"r7"}));
  BOOST_TEST(must(store->find_by_pending_approval("k")).empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(finished_before_is_oldest_first, Factory,
                              workflow_state_stores) {
  auto store = Factory::make();
  must(store->save(make_run("c", "wf", m::run_status::completed, at(30))));
  must(store->save(make_run("a", "wf", m::run_status::failed, at(10))));
  must(store->save(make_run("d", "wf", m::run_status::cancelled, at(40))));
  must(store->save(make_run("b", "wf", m::run_status::completed, at(20))));
  must(store->save(make_run("late", "wf", m::run_status::completed, at(500))));
  // Old but unfinished runs are never returned.
  must(store->save(paused("old-paused", "wf", {"k"}, at(1))));
  must(
    store->save(make_run("old-running", "wf", m::run_status::running, at(2))));
  must(
    store->save(make_run("old-paused-2", "wf", m::run_status::paused, at(3))));
  using v = std::vector<std::string>;

  BOOST_TEST(must(store->finished_before(at(10), no_limit)).empty());
  BOOST_TEST(must(store->finished_before(at(11), no_limit)) == (v{"a"}));
  BOOST_TEST(must(store->finished_before(at(35), no_limit))
             == (v{"a", "b", "c"}));
  BOOST_TEST(must(store->finished_before(at(100), no_limit))
             == (v{"a", "b", "c", "d"}));
  BOOST_TEST(must(store->finished_before(at(1000), no_limit))
             == (v{"a", "b", "c", "d", "late"}));
  BOOST_TEST(must(store->finished_before(at(1000), 2)) == (v{"a", "b"}));
  BOOST_TEST(must(store->finished_before(at(1000), 0)).empty());
  BOOST_TEST(must(store->finished_before(at(0), no_limit)).empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(concurrent_saves_stay_consistent, Factory,
                              indexed_workflow_state_stores) {
  constexpr int threads = 8;
  constexpr int per_thread = 500;
  auto store = Factory::make();
  const auto id_of = [](int t, int i) {
    std::string n = std::to_string(i);
    return "run-" + std::to_string(t) + "-" + std::string(4 - n.size(), '0')
           + n;
  };
  const auto key_of = [](int t) {
    return "key-" + std::to_string(t);
  };
  // Even runs pause on their thread's key; odd runs are completed.
  const auto state_of = [&](int t, int i) {
    const auto stamp = at(t * per_thread + i);
    auto s = i % 2 == 0 ? paused(id_of(t, i), "wf-" + std::to_string(t % 2),
                                 {key_of(t)}, stamp)
                        : make_run(id_of(t, i), "wf-" + std::to_string(t % 2),
                                   m::run_status::completed, stamp);
    s.checkpoints.emplace("n", m::checkpoint{m::ok(json::value(i))});
    return s;
  };

  std::latch start{threads};
  std::vector<int> failures(threads, 0);
  {
    std::vector<std::jthread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        start.arrive_and_wait();
        for (int i = 0; i < per_thread; ++i) {
          // A draft first, every thread on one shared key, then the final
          // state: replacing it must take the run out of the shared index.
          auto draft = paused(id_of(t, i), "draft", {"shared"}, at(0));
          if (store->save(draft).is_err())
            ++failures[static_cast<std::size_t>(t)];
          if (store->save(state_of(t, i)).is_err())
            ++failures[static_cast<std::size_t>(t)];
        }
      });
  }
  for (int t = 0; t < threads; ++t)
    BOOST_TEST(failures[static_cast<std::size_t>(t)] == 0);
  BOOST_TEST(must(store->find_by_pending_approval("shared")).empty());
  BOOST_TEST(must(store->list({.workflow_name = "draft"})).empty());

  std::vector<std::string> all_ids;
  for (int t = 0; t < threads; ++t)
    for (int i = 0; i < per_thread; ++i)
      all_ids.push_back(id_of(t, i));
  BOOST_TEST(must(store->list({})) == sorted(all_ids));

  int mismatches = 0;
  for (int t = 0; t < threads; ++t)
    for (int i = 0; i < per_thread; ++i) {
      auto loaded = must(store->load(id_of(t, i)));
      if (!loaded || !(*loaded == state_of(t, i)))
        ++mismatches;
    }
  BOOST_TEST(mismatches == 0);

  for (int t = 0; t < threads; ++t) {
    std::vector<std::string> want;
    for (int i = 0; i < per_thread; i += 2)
      want.push_back(id_of(t, i));
    BOOST_TEST(sorted(must(store->find_by_pending_approval(key_of(t))))
               == want);
  }
  const auto half = static_cast<std::size_t>(threads * per_thread / 2);
  BOOST_TEST(must(store->list({.status = m::run_status::paused})).size()
             == half);
  BOOST_TEST(must(store->list({.has_pending_approvals = true})).size() == half);
  auto finished = must(store->finished_before(at(1'000'000), no_limit));
  BOOST_TEST_REQUIRE(finished.size() == half);
  // Oldest first: thread-major, then index order.
  std::vector<std::string> want_finished;
  for (int t = 0; t < threads; ++t)
    for (int i = 1; i < per_thread; i += 2)
      want_finished.push_back(id_of(t, i));
  BOOST_TEST(finished == want_finished);

  // Second phase: every thread completes its paused runs while others read.
  std::latch start2{threads};
  {
    std::vector<std::jthread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        start2.arrive_and_wait();
        for (int i = 0; i < per_thread; i += 2) {
          auto s = make_run(id_of(t, i), "wf-" + std::to_string(t % 2),
                            m::run_status::completed,
                            at(100'000 + t * per_thread + i));
          if (store->save(s).is_err())
            ++failures[static_cast<std::size_t>(t)];
          if (store->find_by_pending_approval(key_of(t)).is_err())
            ++failures[static_cast<std::size_t>(t)];
        }
      });
  }
  for (int t = 0; t < threads; ++t) {
    BOOST_TEST(failures[static_cast<std::size_t>(t)] == 0);
    BOOST_TEST(must(store->find_by_pending_approval(key_of(t))).empty());
  }
  BOOST_TEST(must(store->list({.status = m::run_status::paused})).empty());
  BOOST_TEST(must(store->list({.has_pending_approvals = true})).empty());
  BOOST_TEST(must(store->finished_before(at(1'000'000), no_limit)).size()
             == static_cast<std::size_t>(threads * per_thread));
  BOOST_TEST(must(store->list({})).size()
             == static_cast<std::size_t>(threads * per_thread));
}

// Kept last in the suite: the memory store used to dereference a missing
// index entry here, which a crash would otherwise hide the cases after.
BOOST_AUTO_TEST_CASE_TEMPLATE(repeated_pending_key_keeps_indexes_in_step,
                              Factory, workflow_state_stores) {
  auto store = Factory::make();
  using v = std::vector<std::string>;
  // A state naming the same approval twice is well-typed input; the store
  // must index the run once and unindex it cleanly on replace and remove.
  must(store->save(paused("dup", "wf", {"A", "A"}, at(1))));
  BOOST_TEST(must(store->find_by_pending_approval("A")) == (v{"dup"}));
  must(store->save(paused("dup", "wf", {"B"}, at(2))));
  BOOST_TEST(must(store->find_by_pending_approval("A")).empty());
  BOOST_TEST(must(store->find_by_pending_approval("B")) == (v{"dup"}));

  must(store->save(paused("dup2", "wf", {"C", "C"}, at(3))));
  BOOST_TEST(must(store->remove("dup2")) == true);
  BOOST_TEST(must(store->find_by_pending_approval("C")).empty());
  BOOST_TEST(!must(store->load("dup2")).has_value());
}

// A store counts its paused runs without a scan, for metrics; a user's
// store that cannot answers "unknown" (the default).
BOOST_AUTO_TEST_CASE_TEMPLATE(paused_count_follows_the_runs, Factory,
                              workflow_state_stores) {
  auto store = Factory::make();
  constexpr bool counts = !std::is_same_v<Factory, kv_workflow_state_factory>;
  auto expect = [&](std::uint64_t n) {
    auto counted = must(store->count_paused());
    BOOST_TEST(counted.has_value() == counts);
    if (counted)
      BOOST_TEST(*counted == n);
  };
  expect(0);
  must(store->save(paused("p1", "wf", {"k1"})));
  must(store->save(paused("p2", "other", {"k2", "k3"})));
  must(store->save(make_run("r1", "wf", m::run_status::running, at(1))));
  must(store->save(make_run("c1", "wf", m::run_status::completed, at(1))));
  expect(2);
  // Paused again (replaced whole): still one run.
  must(store->save(paused("p1", "wf", {"k4"}, at(2))));
  expect(2);
  must(store->save(make_run("p1", "wf", m::run_status::completed, at(3))));
  expect(1);
  BOOST_TEST(must(store->remove("p2")));
  expect(0);
}

BOOST_AUTO_TEST_SUITE_END()
