// Escalation and reminders in the engine, on CAF's deterministic test
// coordinator with the injected clock: the registry fires them with nobody
// calling, a run waiting on an escalating approval is woken by its final
// expiry (or a decision) and never by a reminder or an escalation, and on
// LMDB a firing that fell due while no orchestrator ran happens once after
// the restart.

#include "deterministic.hpp"

#include <mutex>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>

#include "support/raw_lmdb.hpp"

using namespace signoff;
using namespace std::chrono_literals;
using test::deterministic_engine;
using test::store_kind;

namespace {

using strings = std::vector<std::string>;

/// Due in 1 h for "ann", then "lead" for 30 min more; a reminder 10 min
/// before each deadline.
model::approval_options escalating() {
  return model::approval_options{}
    .expiring_in(1h)
    .assigned_to({"ann"})
    .escalating_to({{"lead"}, {}, 30min})
    .reminding_before(10min);
}

/// What the hooks were told, as "type key level".
struct told {
  std::mutex mutex;
  strings lines;

  void add(std::string_view type, const model::approval_event& e) {
    std::lock_guard guard{mutex};
    lines.push_back(std::string{type} + " " + e.key + " "
                    + std::to_string(e.escalation_level));
  }
  strings seen() {
    std::lock_guard guard{mutex};
    return lines;
  }
};

deterministic_engine::configure_fn
hooked(const std::shared_ptr<told>& t,
       deterministic_engine::configure_fn more = {}) {
  return [t, more](actors::orchestrator_config& c) {
    c.hooks.on_approval_reminder = [t](const model::approval_event& e) {
      t->add("reminder", e);
    };
    c.hooks.on_approval_escalated = [t](const model::approval_event& e) {
      t->add("escalated", e);
    };
    c.hooks.on_approval_resolved = [t](const model::approval_event& e) {
      t->add("resolved", e);
    };
    if (more)
      more(c);
  };
}

/// Executes `run_id` on `key` and runs every message until it paused.
void park(deterministic_engine& env, const std::string& run_id,
          const std::string& key) {
  env.send_execute("counted", test::keys_input({key}), run_id);
  env.run();
  auto paused = test::must(env.reply<model::result<model::execution_result>>());
  BOOST_TEST_REQUIRE(paused.status == model::run_status::paused);
}

/// Runs every message and every timer due now, until none is left: the
/// registry comes back at once (a timer of no delay) while more is due.
void settle(deterministic_engine& env) {
  do
    env.run();
  while (env.sched.advance_time(model::duration::zero()) > 0);
}

/// Moves time by `d` and runs what falls due, with what that sends.
void pass(deterministic_engine& env, model::duration d) {
  env.advance_time(d);
  settle(env);
}

strings actions(deterministic_engine& env, const std::string& key) {
  strings out;
  for (const auto& e : test::must(env.approvals->audit_trail(key)))
    out.push_back(e.action);
  return out;
}

std::string branch_of(const model::saved_workflow_state& run) {
  BOOST_TEST_REQUIRE(run.outcome.has_value());
  BOOST_TEST_REQUIRE(run.outcome->is_ok());
  return std::string{run.outcome->value().as_array().at(0).as_string()};
}

} // namespace

// Named, not anonymous: data test cases are templates (see time_test.cpp).
namespace escalations {
const auto both_stores
  = boost::unit_test::data::make({store_kind::memory, store_kind::lmdb});
} // namespace escalations

BOOST_AUTO_TEST_SUITE(escalation)

// Nobody calls anything: the registry sends the reminder, escalates at the
// deadline, reminds again before the new one and expires at the last. The
// run sleeps through the reminders and the escalation and takes its
// timeout branch once, at the final expiry.
BOOST_DATA_TEST_CASE(the_registry_reminds_escalates_and_expires_by_itself,
                     escalations::both_stores, kind) {
  auto t = std::make_shared<told>();
  deterministic_engine env{hooked(t), kind};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n, escalating()));
  park(env, "r1", "k");
  const auto entered = n->entries_of("r1");

  pass(env, 50min - 1ms);
  BOOST_TEST(actions(env, "k") == (strings{"created"}));
  pass(env, 1ms);
  BOOST_TEST(actions(env, "k") == (strings{"created", "reminded"}));
  pass(env, 10min);
  BOOST_TEST(actions(env, "k")
             == (strings{"created", "reminded", "escalated"}));
  const auto level = env.approval("k");
  BOOST_TEST(level.status.is_pending());
  BOOST_TEST(level.spec.assignees == (strings{"lead"}));
  BOOST_TEST(env.stored("r1").status == model::run_status::paused);
  BOOST_TEST(n->entries_of("r1") == entered);
  BOOST_TEST(n->steps_of("r1", "after-k") == 0);

  pass(env, 20min);
  BOOST_TEST(actions(env, "k").back() == "reminded");
  BOOST_TEST(env.stored("r1").status == model::run_status::paused);
  pass(env, 10min);
  BOOST_TEST(
    actions(env, "k")
    == (strings{"created", "reminded", "escalated", "reminded", "expired"}));
  auto run = env.stored("r1");
  BOOST_TEST(run.status == model::run_status::completed);
  BOOST_TEST(branch_of(run) == model::error_type::approval_expired);
  BOOST_TEST(n->steps_of("r1", "after-k") == 1);
  BOOST_TEST(t->seen()
             == (strings{"reminder k 0", "escalated k 1", "reminder k 1",
                         "resolved k 1"}));
}

// After an escalation anybody's grant (permissions are checked elsewhere)
// decides the approval and wakes the run on its approved branch.
BOOST_DATA_TEST_CASE(a_grant_after_an_escalation_wakes_the_run,
                     escalations::both_stores, kind) {
  deterministic_engine env{{}, kind};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n, escalating()));
  park(env, "r1", "k");
  pass(env, 1h);
  BOOST_TEST(env.approval("k").escalation_level == 1U);
  env.send_grant("k", "lead");
  env.run();
  auto report = test::must(env.reply<model::result<actors::decision_report>>());
  BOOST_TEST(report.resumed_workflows == (strings{"r1"}));
  BOOST_TEST(branch_of(env.stored("r1")) == "approved");
  BOOST_TEST(actions(env, "k").back() == "approved");
}

// `expire_due` applies whole chains: levels due one after another are each
// applied once, in order, then the approval expires; asking again does
// nothing more.
BOOST_AUTO_TEST_CASE(expire_due_fires_every_level_due_once) {
  auto t = std::make_shared<told>();
  deterministic_engine env{hooked(t)};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n, escalating()));
  park(env, "r1", "k");
  env.clock.advance(2h); // the scheduler's timers stay where they were
  env.send(actors::expire_atom_v);
  env.run();
  auto expired
    = test::must(env.reply<model::result<std::vector<std::string>>>());
  BOOST_TEST(expired == (strings{"k"}));
  BOOST_TEST(actions(env, "k") == (strings{"created", "escalated", "expired"}));
  BOOST_TEST(t->seen() == (strings{"escalated k 1", "resolved k 1"}));
  BOOST_TEST(branch_of(env.stored("r1"))
             == model::error_type::approval_expired);
  env.send(actors::expire_atom_v);
  env.run();
  BOOST_TEST(
    test::must(env.reply<model::result<std::vector<std::string>>>()).empty());
  BOOST_TEST(actions(env, "k").size() == 3U);
}

// On LMDB: the reminder fires, the orchestrator stops, and while none runs
// both the escalation and the final deadline pass. The next orchestrator
// finds them due at start and fires each once, in order, and the reminder
// not again; the run takes its timeout branch once.
BOOST_AUTO_TEST_CASE(firings_due_during_downtime_happen_once_after_restart) {
  test::temp_dir dir;
  test::manual_clock clock;
  auto open = [&] {
    auto opened = persistence::open_lmdb_stores({.path = dir.str()});
    BOOST_TEST_REQUIRE(opened.is_ok());
    return std::move(opened.value());
  };
  auto on
    = [&](persistence::lmdb_stores& stores, const std::shared_ptr<told>& t) {
        return hooked(t, [&stores, &clock](actors::orchestrator_config& c) {
          c.use_lmdb_stores(stores);
          c.clock = clock.fn();
          // The wakes of runs whose workflow was not registered yet (the
          // timer may fire before the test registers it) are read again at
          // registration.
          c.wake_poll_interval = 1min;
        });
      };
  auto n = std::make_shared<test::entry_counters>();
  auto before = std::make_shared<told>();
  {
    auto stores = open();
    {
      deterministic_engine env{on(stores, before)};
      env.register_workflow("counted", test::counted_workflow(n, escalating()));
      park(env, "r1", "k");
      clock.advance(50min);
      env.sched.advance_time(50min);
      settle(env);
      BOOST_TEST(actions(env, "k") == (strings{"created", "reminded"}));
    }
    test::close_lmdb_stores(stores);
  }
  clock.advance(45min); // past 1 h (escalation) and 1 h 30 (expiry)

  auto after = std::make_shared<told>();
  auto stores = open();
  {
    deterministic_engine env{on(stores, after)};
    env.register_workflow("counted", test::counted_workflow(n, escalating()));
    settle(env);
    BOOST_TEST(actions(env, "k")
                 == (strings{"created", "reminded", "escalated", "expired"}),
               boost::test_tools::per_element());
    auto run = env.stored("r1");
    BOOST_TEST(run.status == model::run_status::completed);
    BOOST_TEST(branch_of(run) == model::error_type::approval_expired);
    BOOST_TEST(n->steps_of("r1", "after-k") == 1);
    // Nothing more fires, however long the clock runs.
    clock.advance(24h);
    env.sched.advance_time(24h);
    settle(env);
    BOOST_TEST(actions(env, "k").size() == 4U);
  }
  BOOST_TEST(before->seen() == (strings{"reminder k 0"}));
  BOOST_TEST(after->seen() == (strings{"escalated k 1", "resolved k 1"}));
  test::close_lmdb_stores(stores);
}

BOOST_AUTO_TEST_SUITE_END()
