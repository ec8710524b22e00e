#include "signoff/model/decision_rules.hpp"

#include <cmath>
#include <limits>
#include <ostream>
#include <string>
#include <utility>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "support/printing.hpp"

#include "signoff/model/approval.hpp"
#include "signoff/model/error.hpp"
#include "signoff/model/limits.hpp"
#include "signoff/model/time.hpp"

namespace bj = boost::json;
using namespace signoff::model;

namespace {

const time_point t0 = from_millis(1'700'000'000'000);
const duration one_hour{3'600'000};
const std::string key = "approval:manager:ord_1";

/// A fresh pending approval created at t0.
approval_record pending(approval_spec spec = {}) {
  auto r = create_approval(key, spec, "run:1", t0);
  BOOST_REQUIRE(r.is_ok());
  return std::move(r->record);
}

/// The action of the last audit entry `t` appends.
std::string last_action(const approval_transition& t) {
  return t.audit.empty() ? std::string{} : t.audit.back().action;
}

/// Applies `d` and requires it to succeed.
approval_transition apply_ok(const approval_record* current, const decision& d,
                             time_point now) {
  auto t = apply_decision(current, d, now);
  BOOST_TEST_INFO("decision on '" << d.key << "' by '" << d.actor << "'");
  BOOST_REQUIRE_MESSAGE(t.is_ok(), "apply_decision failed: "
                                     << (t.is_err() ? t.error().message : ""));
  return std::move(t).value();
}

/// Applies `d` and requires it to fail; returns the error.
error apply_err(const approval_record* current, const decision& d,
                time_point now) {
  auto t = apply_decision(current, d, now);
  BOOST_REQUIRE_MESSAGE(t.is_err(), "apply_decision unexpectedly succeeded");
  return t.error();
}

} // namespace

BOOST_AUTO_TEST_SUITE(decision_rules)

// --- create_approval ------------------------------------------------------

BOOST_AUTO_TEST_CASE(create_approval_is_pending_with_its_spec) {
  approval_spec spec;
  spec.pending_reason = "Waiting for manager approval";
  spec.metadata = {{"orderId", "ord_1"}};
  spec.expires_at = t0 + one_hour;
  spec.quorum = 2;
  auto t = create_approval(key, spec, "run:r1", t0);
  BOOST_REQUIRE(t.is_ok());
  const auto& r = t->record;
  BOOST_TEST(t->applied);
  BOOST_TEST(r.key == key);
  BOOST_TEST(r.status == approval_status{});
  BOOST_TEST(r.status.is_pending());
  BOOST_TEST(r.spec.pending_reason == "Waiting for manager approval");
  BOOST_TEST(r.spec.metadata == spec.metadata);
  BOOST_TEST((r.spec.expires_at == std::optional{t0 + one_hour}));
  BOOST_TEST(r.spec.quorum == 2U);
  BOOST_TEST((r.created_at == t0));
  BOOST_TEST(r.grants.empty());
  // One "created" entry by the run, with the pending reason; revision 1.
  BOOST_TEST(r.revision == 1U);
  BOOST_REQUIRE(t->audit.size() == 1U);
  BOOST_TEST(
    (t->audit.front()
     == audit_entry{key, 1, "created", "run:r1", t0, spec.pending_reason, {}}));
}

BOOST_AUTO_TEST_CASE(create_approval_refuses_an_empty_key) {
  auto r = create_approval("", {}, "run:r1", t0);
  BOOST_REQUIRE(r.is_err());
  BOOST_TEST(r.error().type == "INVALID_ARGUMENT");
}

BOOST_AUTO_TEST_CASE(create_approval_refuses_quorum_zero) {
  approval_spec spec;
  spec.quorum = 0;
  auto r = create_approval(key, spec, "run:r1", t0);
  BOOST_REQUIRE(r.is_err());
  BOOST_TEST(r.error().is(error_type::invalid_argument));
}

BOOST_AUTO_TEST_CASE(values_json_cannot_carry_are_refused) {
  approval_spec spec;
  spec.metadata = {{"ratio", std::numeric_limits<double>::infinity()}};
  BOOST_TEST(create_approval(key, spec, "run:r1", t0)
               .error()
               .is(error_type::invalid_argument));
  const auto before = pending();
  BOOST_TEST(apply_err(&before, decision::grant(key, std::nan(""), "jane"), t0)
               .is(error_type::invalid_argument));
}

// --- the audit entries a transition appends -----------------------------

BOOST_AUTO_TEST_CASE(a_decision_appends_its_entry_numbered_after_the_record) {
  const auto before = pending();
  const auto now = t0 + duration{7};
  auto t = apply_ok(&before, decision::reject(key, "too dear", "bob"), now);
  BOOST_TEST(t.record.revision == 2U);
  BOOST_REQUIRE(t.audit.size() == 1U);
  BOOST_TEST((t.audit.front()
              == audit_entry{key, 2, "rejected", "bob", now, "too dear", {}}));
}

BOOST_AUTO_TEST_CASE(a_decision_that_comes_first_also_appends_the_creation) {
  auto t = apply_ok(nullptr, decision::grant(key, {{"v", 1}}, "jane"), t0);
  BOOST_TEST(t.record.revision == 2U);
  BOOST_REQUIRE(t.audit.size() == 2U);
  BOOST_TEST(
    (t.audit[0] == audit_entry{key, 1, "created", "jane", t0, "", {}}));
  BOOST_TEST((t.audit[1]
              == audit_entry{key, 2, "approved", "jane", t0, "", {{"v", 1}}}));
}

// --- single decisions on a pending approval --------------------------------

BOOST_AUTO_TEST_CASE(grant_on_pending_approves_with_the_value) {
  const auto before = pending();
  const auto now = t0 + duration{500};
  auto t = apply_ok(
    &before, decision::grant(key, {{"approvedBy", "jane"}}, "jane"), now);
  BOOST_TEST(t.applied);
  BOOST_TEST(last_action(t) == "approved");
  BOOST_TEST(t.record.status.state == approval_state::approved);
  BOOST_TEST(t.record.status.is_granted());
  BOOST_TEST(t.record.status.value == bj::value({{"approvedBy", "jane"}}));
  BOOST_TEST(t.record.status.decided_by == "jane");
  BOOST_TEST((t.record.status.decided_at == std::optional{now}));
  BOOST_REQUIRE_EQUAL(t.record.grants.size(), 1U);
  BOOST_TEST(t.record.grants[0].approver == "jane");
  BOOST_TEST(!t.record.grants[0].edited);
  // The input record is untouched: nothing is written before the commit.
  BOOST_TEST(before.status.is_pending());
  BOOST_TEST(before.grants.empty());
}

BOOST_AUTO_TEST_CASE(edit_on_pending_is_edited_with_the_new_value) {
  const auto before = pending();
  auto t = apply_ok(&before, decision::edit(key, {{"amount", 900}}, "jane"),
                    t0 + duration{1});
  BOOST_TEST(t.applied);
  BOOST_TEST(last_action(t) == "edited");
  BOOST_TEST(t.record.status.state == approval_state::edited);
  BOOST_TEST(t.record.status.is_granted());
  BOOST_TEST(t.record.status.value == bj::value({{"amount", 900}}));
  BOOST_TEST(t.record.status.decided_by == "jane");
  BOOST_REQUIRE_EQUAL(t.record.grants.size(), 1U);
  BOOST_TEST(t.record.grants[0].edited);
}

BOOST_AUTO_TEST_CASE(reject_on_pending_records_the_reason) {
  const auto before = pending();
  auto t = apply_ok(&before, decision::reject(key, "too expensive", "bob"),
                    t0 + duration{2});
  BOOST_TEST(t.applied);
  BOOST_TEST(last_action(t) == "rejected");
  BOOST_TEST(t.record.status.state == approval_state::rejected);
  BOOST_TEST(!t.record.status.is_granted());
  BOOST_TEST(t.record.status.reason == "too expensive");
  BOOST_TEST(t.record.status.decided_by == "bob");
  BOOST_TEST((t.record.status.decided_at == std::optional{t0 + duration{2}}));
  BOOST_TEST(t.record.status.value.is_null());
}

BOOST_AUTO_TEST_CASE(cancel_on_pending_cancels) {
  const auto before = pending();
  auto t = apply_ok(&before, decision::cancel(key, "order withdrawn", "ops"),
                    t0 + duration{3});
  BOOST_TEST(t.applied);
  BOOST_TEST(last_action(t) == "cancelled");
  BOOST_TEST(t.record.status.state == approval_state::cancelled);
  BOOST_TEST(t.record.status.reason == "order withdrawn");
  BOOST_TEST(t.record.status.decided_by == "ops");

  // A cancellation needs no reason.
  auto bare = apply_ok(&before, decision::cancel(key), t0 + duration{3});
  BOOST_TEST(bare.applied);
  BOOST_TEST(bare.record.status.state == approval_state::cancelled);
}

BOOST_AUTO_TEST_CASE(reject_without_reason_is_invalid_argument) {
  const auto before = pending();
  auto e = apply_err(&before, decision::reject(key, "", "bob"), t0);
  BOOST_TEST(e.type == "INVALID_ARGUMENT");
  // Also for a key nobody asked for yet.
  auto unknown = apply_err(nullptr, decision::reject("other", "", "bob"), t0);
  BOOST_TEST(unknown.is(error_type::invalid_argument));
}

BOOST_AUTO_TEST_CASE(decision_with_empty_key_is_invalid_argument) {
  auto e = apply_err(nullptr, decision::grant("", 1, "jane"), t0);
  BOOST_TEST(e.is(error_type::invalid_argument));
}

// --- conflicts and idempotent repeats ---------------------------------------

BOOST_AUTO_TEST_CASE(deciding_a_decided_approval_is_a_conflict) {
  const auto before = pending();
  const auto decided_at = t0 + duration{100};
  const auto approved
    = apply_ok(&before, decision::grant(key, {{"ok", true}}, "jane"),
               decided_at)
        .record;

  auto e = apply_err(&approved, decision::reject(key, "no", "bob"),
                     t0 + duration{200});
  BOOST_TEST(e.type == "APPROVAL_CONFLICT");
  BOOST_REQUIRE(e.details.is_object());
  BOOST_TEST(e.details.at("status").as_string() == "approved");
  BOOST_TEST(e.details.at("decidedBy").as_string() == "jane");
  BOOST_TEST(e.details.at("decidedAt").to_number<std::int64_t>()
             == to_millis(decided_at));
  BOOST_TEST(e.message.find("jane") != std::string::npos);
  // The details are the winning status itself.
  auto winner = bj::try_value_to<approval_status>(e.details);
  BOOST_REQUIRE(!winner.has_error());
  BOOST_TEST(*winner == approved.status);

  // Another approver's grant, or the same approver with another value or
  // as an edit, is a conflict too.
  BOOST_TEST(apply_err(&approved, decision::grant(key, {{"ok", true}}, "bob"),
                       t0 + duration{200})
               .is(error_type::approval_conflict));
  BOOST_TEST(apply_err(&approved, decision::grant(key, {{"ok", false}}, "jane"),
                       t0 + duration{200})
               .is(error_type::approval_conflict));
  BOOST_TEST(apply_err(&approved, decision::edit(key, {{"ok", true}}, "jane"),
                       t0 + duration{200})
               .is(error_type::approval_conflict));
  BOOST_TEST(
    apply_err(&approved, decision::cancel(key, "", "jane"), t0 + duration{200})
      .is(error_type::approval_conflict));
}

BOOST_AUTO_TEST_CASE(conflict_on_a_rejection_carries_the_rejection) {
  const auto before = pending();
  const auto rejected
    = apply_ok(&before, decision::reject(key, "too expensive", "bob"), t0)
        .record;
  auto e = apply_err(&rejected, decision::grant(key, 1, "jane"), t0);
  BOOST_TEST(e.is(error_type::approval_conflict));
  BOOST_TEST(e.details.at("status").as_string() == "rejected");
  BOOST_TEST(e.details.at("decidedBy").as_string() == "bob");
  BOOST_TEST(e.details.at("reason").as_string() == "too expensive");

  // The same actor rejecting for another reason is not a repeat.
  BOOST_TEST(apply_err(&rejected, decision::reject(key, "other", "bob"), t0)
               .is(error_type::approval_conflict));
}

BOOST_AUTO_TEST_CASE(same_actor_repeating_the_decision_is_a_no_op) {
  const auto before = pending();
  const auto grant = decision::grant(key, {{"ok", true}}, "jane");
  const auto approved = apply_ok(&before, grant, t0).record;
  auto again = apply_ok(&approved, grant, t0 + one_hour);
  BOOST_TEST(!again.applied);
  BOOST_TEST(again.audit.empty());
  BOOST_TEST(again.record == approved);

  const auto edit = decision::edit(key, {{"amount", 5}}, "jane");
  const auto edited = apply_ok(&before, edit, t0).record;
  auto edit_again = apply_ok(&edited, edit, t0 + one_hour);
  BOOST_TEST(!edit_again.applied);
  BOOST_TEST(edit_again.record == edited);

  const auto reject = decision::reject(key, "no", "bob");
  const auto rejected = apply_ok(&before, reject, t0).record;
  auto reject_again = apply_ok(&rejected, reject, t0 + one_hour);
  BOOST_TEST(!reject_again.applied);
  BOOST_TEST(reject_again.record == rejected);

  const auto cancel = decision::cancel(key, "gone", "ops");
  const auto cancelled = apply_ok(&before, cancel, t0).record;
  auto cancel_again = apply_ok(&cancelled, cancel, t0 + one_hour);
  BOOST_TEST(!cancel_again.applied);
  BOOST_TEST(cancel_again.record == cancelled);
}

// --- decisions before the run reaches the step
// --------------------------------

BOOST_AUTO_TEST_CASE(unknown_key_keeps_a_pre_decision) {
  const auto now = t0 + duration{42};
  auto t = apply_ok(nullptr, decision::grant("early", {{"v", 1}}, "jane"), now);
  BOOST_TEST(t.applied);
  BOOST_TEST(last_action(t) == "approved");
  BOOST_TEST(t.record.key == "early");
  BOOST_TEST((t.record.created_at == now));
  BOOST_TEST(t.record.status.state == approval_state::approved);
  BOOST_TEST(t.record.status.value == bj::value({{"v", 1}}));
  BOOST_TEST(t.record.status.decided_by == "jane");

  auto r = apply_ok(nullptr, decision::reject("early2", "no", "bob"), now);
  BOOST_TEST(r.applied);
  BOOST_TEST(r.record.status.state == approval_state::rejected);
  BOOST_TEST(r.record.status.reason == "no");

  auto c = apply_ok(nullptr, decision::cancel("early3"), now);
  BOOST_TEST(c.record.status.state == approval_state::cancelled);
}

BOOST_AUTO_TEST_CASE(unknown_key_with_require_existing_is_not_found) {
  auto d = decision::grant("nobody-asked", 1, "jane");
  d.require_existing = true;
  auto e = apply_err(nullptr, d, t0);
  BOOST_TEST(e.type == "NOT_FOUND");

  auto rejection = decision::reject("nobody-asked", "no", "bob");
  rejection.require_existing = true;
  BOOST_TEST(apply_err(nullptr, rejection, t0).is(error_type::not_found));
}

BOOST_AUTO_TEST_CASE(expiring_an_unknown_key_is_not_found) {
  decision d;
  d.key = "nobody-asked";
  d.kind = decision_kind::expire;
  d.actor = "system";
  BOOST_TEST(apply_err(nullptr, d, t0).is(error_type::not_found));
}

// --- expiry ------------------------------------------------------------------

namespace {

decision expire_decision() {
  decision d;
  d.key = key;
  d.kind = decision_kind::expire;
  d.actor = "system";
  return d;
}

approval_record expiring() {
  approval_spec spec;
  spec.expires_at = t0 + one_hour;
  return pending(spec);
}

} // namespace

BOOST_AUTO_TEST_CASE(pending_past_deadline_reads_expired) {
  const auto r = expiring();
  BOOST_TEST(r.status_at(t0 + duration{1}).is_pending());
  auto late = r.status_at(t0 + 2 * one_hour);
  BOOST_TEST(late.state == approval_state::expired);
  BOOST_TEST(late.decided_by == "system");
  BOOST_TEST((late.decided_at == std::optional{t0 + one_hour}));
  // A record without a deadline never reads expired.
  BOOST_TEST(pending().status_at(t0 + 1000 * one_hour).is_pending());
}

BOOST_AUTO_TEST_CASE(deciding_past_the_deadline_is_a_conflict_reading_expired) {
  const auto r = expiring();
  const auto late = t0 + 2 * one_hour;
  for (const auto& d :
       {decision::grant(key, 1, "jane"), decision::edit(key, 2, "jane"),
        decision::reject(key, "no", "bob"), decision::cancel(key, "", "ops")}) {
    auto e = apply_err(&r, d, late);
    BOOST_TEST(e.type == "APPROVAL_CONFLICT");
    BOOST_TEST(e.details.at("status").as_string() == "expired");
    BOOST_TEST(e.details.at("decidedBy").as_string() == "system");
  }
  // Before the deadline the same grant goes through.
  BOOST_TEST(
    apply_ok(&r, decision::grant(key, 1, "jane"), t0 + duration{1}).applied);
}

BOOST_AUTO_TEST_CASE(expire_before_the_deadline_is_invalid_argument) {
  const auto r = expiring();
  auto e = apply_err(&r, expire_decision(), t0 + duration{1});
  BOOST_TEST(e.type == "INVALID_ARGUMENT");
  // Nor can an approval without a deadline be expired.
  const auto forever = pending();
  BOOST_TEST(apply_err(&forever, expire_decision(), t0 + 1000 * one_hour)
               .is(error_type::invalid_argument));
}

BOOST_AUTO_TEST_CASE(expire_after_the_deadline_is_applied_once) {
  const auto r = expiring();
  auto t = apply_ok(&r, expire_decision(), t0 + 2 * one_hour);
  BOOST_TEST(t.applied);
  BOOST_TEST(last_action(t) == "expired");
  BOOST_TEST(t.record.status.state == approval_state::expired);
  BOOST_TEST(t.record.status.decided_by == "system");
  BOOST_TEST((t.record.status.decided_at == std::optional{t0 + one_hour}));

  auto again = apply_ok(&t.record, expire_decision(), t0 + 3 * one_hour);
  BOOST_TEST(!again.applied);
  BOOST_TEST(again.audit.empty());
  BOOST_TEST(again.record == t.record);

  // Once recorded, the expiry still wins over a late decision.
  auto e
    = apply_err(&t.record, decision::grant(key, 1, "jane"), t0 + 3 * one_hour);
  BOOST_TEST(e.is(error_type::approval_conflict));
  BOOST_TEST(e.details.at("status").as_string() == "expired");
}

BOOST_AUTO_TEST_CASE(expire_after_a_decision_is_a_conflict) {
  const auto r = expiring();
  const auto approved
    = apply_ok(&r, decision::grant(key, 1, "jane"), t0 + duration{1}).record;
  auto e = apply_err(&approved, expire_decision(), t0 + 2 * one_hour);
  BOOST_TEST(e.is(error_type::approval_conflict));
  BOOST_TEST(e.details.at("status").as_string() == "approved");
}

// --- quorum ------------------------------------------------------------------

namespace {

approval_record quorum_of(std::uint32_t n) {
  approval_spec spec;
  spec.quorum = n;
  return pending(spec);
}

} // namespace

BOOST_AUTO_TEST_CASE(quorum_two_needs_two_distinct_approvers) {
  const auto r = quorum_of(2);
  const auto first_grant = decision::grant(key, {{"by", "alice"}}, "alice");
  auto first = apply_ok(&r, first_grant, t0 + duration{10});
  BOOST_TEST(first.applied);
  BOOST_TEST(last_action(first) == "granted");
  BOOST_TEST(first.record.status.is_pending());
  BOOST_REQUIRE_EQUAL(first.record.grants.size(), 1U);
  BOOST_TEST(first.record.grants[0].approver == "alice");
  BOOST_TEST((first.record.grants[0].at == t0 + duration{10}));
  BOOST_TEST(first.record.grants[0].value == bj::value({{"by", "alice"}}));
  // The grants so far are visible on the pending record's JSON form.
  auto jv = bj::value_from(first.record);
  BOOST_TEST(jv.at("status").at("status").as_string() == "pending");
  BOOST_TEST(jv.at("grants").as_array().size() == 1U);

  // The same approver again changes nothing.
  auto repeat = apply_ok(&first.record, first_grant, t0 + duration{20});
  BOOST_TEST(!repeat.applied);
  BOOST_TEST(repeat.record.status.is_pending());
  BOOST_TEST(repeat.record.grants.size() == 1U);

  // ...and with another value it is a conflict, not a second vote.
  BOOST_TEST(apply_err(&first.record,
                       decision::grant(key, {{"by", "mallory"}}, "alice"),
                       t0 + duration{20})
               .is(error_type::approval_conflict));

  auto second
    = apply_ok(&first.record, decision::grant(key, {{"by", "bob"}}, "bob"),
               t0 + duration{30});
  BOOST_TEST(second.applied);
  BOOST_TEST(last_action(second) == "approved");
  BOOST_TEST(second.record.status.state == approval_state::approved);
  BOOST_TEST(second.record.status.decided_by == "bob");
  BOOST_TEST(
    (second.record.status.decided_at == std::optional{t0 + duration{30}}));
  BOOST_TEST(second.record.status.value == bj::value({{"by", "bob"}}));
  BOOST_REQUIRE_EQUAL(second.record.grants.size(), 2U);
  BOOST_TEST(second.record.grants[1].approver == "bob");
}

BOOST_AUTO_TEST_CASE(quorum_three_stays_pending_after_two_grants) {
  const auto r = quorum_of(3);
  auto a = apply_ok(&r, decision::grant(key, 1, "alice"), t0).record;
  auto b = apply_ok(&a, decision::grant(key, 1, "bob"), t0);
  BOOST_TEST(b.applied);
  BOOST_TEST(last_action(b) == "granted");
  BOOST_TEST(b.record.status.is_pending());
  BOOST_TEST(b.record.grants.size() == 2U);
  auto c = apply_ok(&b.record, decision::grant(key, 1, "carol"), t0);
  BOOST_TEST(c.record.status.state == approval_state::approved);
  BOOST_TEST(last_action(c) == "approved");
}

BOOST_AUTO_TEST_CASE(an_edit_within_quorum_makes_the_result_edited) {
  const auto r = quorum_of(2);
  // The edit comes first, a plain grant completes the quorum.
  auto a = apply_ok(&r, decision::edit(key, {{"amount", 900}}, "alice"), t0);
  BOOST_TEST(last_action(a) == "granted");
  BOOST_TEST(a.record.status.is_pending());
  auto b = apply_ok(&a.record, decision::grant(key, {{"amount", 1000}}, "bob"),
                    t0 + duration{1});
  BOOST_TEST(b.applied);
  BOOST_TEST(last_action(b) == "edited");
  BOOST_TEST(b.record.status.state == approval_state::edited);
  BOOST_TEST(b.record.status.value == bj::value({{"amount", 900}}));

  // The edit completes the quorum.
  auto c = apply_ok(&r, decision::grant(key, {{"amount", 1000}}, "alice"), t0);
  auto d = apply_ok(&c.record, decision::edit(key, {{"amount", 800}}, "bob"),
                    t0 + duration{1});
  BOOST_TEST(last_action(d) == "edited");
  BOOST_TEST(d.record.status.state == approval_state::edited);
  BOOST_TEST(d.record.status.value == bj::value({{"amount", 800}}));
}

BOOST_AUTO_TEST_CASE(one_rejection_rejects_a_quorum_approval) {
  const auto r = quorum_of(3);
  auto a = apply_ok(&r, decision::grant(key, 1, "alice"), t0).record;
  auto rejected
    = apply_ok(&a, decision::reject(key, "no way", "bob"), t0 + duration{5});
  BOOST_TEST(rejected.applied);
  BOOST_TEST(last_action(rejected) == "rejected");
  BOOST_TEST(rejected.record.status.state == approval_state::rejected);
  BOOST_TEST(rejected.record.status.reason == "no way");
  BOOST_TEST(rejected.record.status.decided_by == "bob");

  // Later grants are conflicts.
  BOOST_TEST(apply_err(&rejected.record, decision::grant(key, 1, "carol"), t0)
               .is(error_type::approval_conflict));
}

// --- apply_comment --------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_comment_appends_one_entry_and_changes_no_decision) {
  const auto before = pending();
  auto t
    = apply_comment(before, key, "alice", "looks fine to me", t0 + one_hour);
  BOOST_REQUIRE(t.is_ok());
  BOOST_TEST(t->applied);
  BOOST_REQUIRE_EQUAL(t->audit.size(), 1U);
  const auto& e = t->audit.front();
  BOOST_TEST(e.key == key);
  BOOST_TEST(e.sequence == before.revision + 1);
  BOOST_TEST(e.action == "commented");
  BOOST_TEST(e.actor == "alice");
  BOOST_TEST(e.reason == "looks fine to me");
  BOOST_TEST(e.value.is_null());
  BOOST_TEST((e.at == t0 + one_hour));
  auto expected = before;
  expected.revision = before.revision + 1;
  BOOST_TEST((t->record == expected));
}

BOOST_AUTO_TEST_CASE(a_decided_approval_takes_comments) {
  const auto base = pending();
  auto rejected
    = apply_ok(&base, decision::reject(key, "too expensive", "bob"), t0);
  auto t = apply_comment(rejected.record, key, "alice", "agreed", t0);
  BOOST_REQUIRE(t.is_ok());
  BOOST_TEST((t->record.status == rejected.record.status));
  BOOST_TEST(t->record.revision == rejected.record.revision + 1);
  BOOST_TEST(t->audit.front().sequence == t->record.revision);
}

BOOST_AUTO_TEST_CASE(a_comment_on_an_unknown_key_is_not_found) {
  auto t = apply_comment(std::nullopt, key, "alice", "hello", t0);
  BOOST_REQUIRE(t.is_err());
  BOOST_TEST(t.error().is(error_type::not_found));
}

BOOST_AUTO_TEST_CASE(a_comment_needs_text_within_the_limit_and_an_author) {
  const auto r = pending();
  const std::string longest(max_comment_bytes, 'x');
  BOOST_TEST(apply_comment(r, key, "alice", longest, t0).is_ok());
  for (const auto& [actor, text] :
       {std::pair<std::string, std::string>{"alice", ""},
        {"alice", longest + "x"},
        {"", "hello"}}) {
    auto t = apply_comment(r, key, actor, text, t0);
    BOOST_TEST_INFO("actor '" << actor << "', " << text.size() << " bytes");
    BOOST_REQUIRE(t.is_err());
    BOOST_TEST(t.error().is(error_type::invalid_argument));
  }
  BOOST_TEST(apply_comment(r, "", "alice", "hello", t0)
               .error()
               .is(error_type::invalid_argument));
}

BOOST_AUTO_TEST_SUITE_END()
