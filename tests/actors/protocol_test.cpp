// The engine's message protocol where order matters, on CAF's deterministic
// test coordinator: each case lets the actors take their messages in one
// chosen order (`expect_next`) and checks what the runs, the approvals and
// the replies make of it. No thread, no sleep: time moves only when a case
// moves it.

#include "deterministic.hpp"
#include "support/forwarding_stores.hpp"

#include <algorithm>
#include <set>

using namespace signoff;
using namespace std::chrono_literals;
using actors::detail::commit_atom;
using actors::detail::created_atom;
using actors::detail::finished_atom;
using actors::detail::flush_atom;
using actors::detail::forget_atom;
using actors::detail::parked_atom;
using actors::detail::passivate_atom;
using actors::detail::reach_atom;
using actors::detail::reach_carrying_atom;
using actors::detail::reach_request;
using actors::detail::routed_wake;
using actors::detail::start_atom;
using actors::detail::wake_atom;
using actors::detail::wake_message;
using actors::detail::wake_report;
using execution_reply = model::result<model::execution_result>;
using decision_reply = model::result<actors::decision_report>;
using status_reply = model::result<model::approval_status>;
using test::deterministic_engine;

namespace {

constexpr std::string_view run_actor = "signoff.run";
constexpr std::string_view shard_actor = "signoff.registry_shard";
constexpr std::string_view writer_actor = "signoff.store_writer";

/// Executes `run_id` on `keys` and runs every message until it paused;
/// returns its actor (the one that reached the first key).
caf::actor park(deterministic_engine& env, const std::string& run_id,
                std::initializer_list<std::string> keys,
                const std::string& workflow = "counted") {
  env.send_execute(workflow, test::keys_input(keys), run_id);
  env.expect_next<actors::execute_atom, actors::execute_request>(env.orch);
  auto run = env.expect_next<start_atom>(run_actor).to;
  env.run();
  auto paused = test::must(env.reply<execution_reply>());
  BOOST_TEST_REQUIRE(paused.status == model::run_status::paused);
  return run;
}

/// The store writer's next commit: the batches queued, then its flush.
void commit_queued(deterministic_engine& env) {
  auto writer = env.waiting(writer_actor);
  BOOST_TEST_REQUIRE(static_cast<bool>(writer), "the writer has no mail");
  for (;;) {
    if (env.has_next<commit_atom, persistence::write_batch>(writer))
      env.expect_next<commit_atom, persistence::write_batch>(writer);
    else if (env.has_next<commit_atom, persistence::write_batch,
                          persistence::write_batch>(writer))
      env.expect_next<commit_atom, persistence::write_batch,
                      persistence::write_batch>(writer);
    else
      break;
  }
  env.expect_next<flush_atom>(writer);
}

std::string branch_of(const model::saved_workflow_state& run, std::size_t i) {
  BOOST_TEST_REQUIRE(run.outcome.has_value());
  BOOST_TEST_REQUIRE(
    run.outcome->is_ok(),
    (run.outcome->is_err() ? run.outcome->error().message : std::string{}));
  return std::string{run.outcome->value().as_array().at(i).as_string()};
}

/// An approval store whose writes fail while `refusing` is set (a full
/// disk, say), and writes of the keys in `refusing_keys` always (records it
/// cannot write); it counts the writes it refused.
class refusing_approval_store final : public test::forwarding_approval_store {
public:
  using forwarding_approval_store::forwarding_approval_store;

  std::atomic<bool> refusing{false};
  std::set<std::string> refusing_keys;
  std::atomic<int> refused{0};

  model::result<void> apply(persistence::approval_change change) override {
    if (refusing || refusing_keys.contains(change.after.key)) {
      ++refused;
      return model::make_error(model::error_type::storage_error,
                               "no space left on the device");
    }
    return forwarding_approval_store::apply(std::move(change));
  }
};

/// A journal that fails on demand: it throws while encoding a run's write
/// when `throwing` is set (as no memory left would), and refuses the first
/// batch of the next commit of two (a run's pause with the approval it
/// created) when `refuse_creation` is set.
class faulty_journal final : public test::forwarding_journal {
public:
  using forwarding_journal::forwarding_journal;

  std::atomic<bool> throwing{false};
  std::atomic<bool> refuse_creation{false};

  using forwarding_journal::encode;
  void encode(const persistence::run_change& change,
              persistence::write_batch& out) const override {
    if (throwing)
      throw std::runtime_error{"out of memory"};
    forwarding_journal::encode(change, out);
  }
  std::vector<model::result<void>>
  commit(std::span<const persistence::write_batch> batches) override {
    if (batches.size() != 2 || !refuse_creation.exchange(false))
      return forwarding_journal::commit(batches);
    auto out = forwarding_journal::commit(batches.subspan(1));
    out.insert(out.begin(), model::make_error(model::error_type::storage_error,
                                              "the disk failed"));
    return out;
  }
};

/// An engine on LMDB whose journal fails on demand, with the `counted`
/// workflow registered.
struct faulty_journal_engine {
  faulty_journal_engine() {
    env.register_workflow("counted", test::counted_workflow(n));
  }

  std::shared_ptr<faulty_journal> journal;
  deterministic_engine env{[this](actors::orchestrator_config& c) {
                             journal
                               = std::make_shared<faulty_journal>(c.journal);
                             c.journal = journal;
                           },
                           test::store_kind::lmdb};
  std::shared_ptr<test::entry_counters> n
    = std::make_shared<test::entry_counters>();
};

/// An engine whose approval store refuses writes on demand, firing due
/// approvals two at a time, with the `counted` workflow registered on
/// approvals that expire after a minute.
struct refusing_store_engine {
  refusing_store_engine() {
    model::approval_options expiring;
    expiring.expires_in = 1min;
    env.register_workflow("counted", test::counted_workflow(n, expiring));
  }

  std::shared_ptr<refusing_approval_store> store;
  deterministic_engine env{[this](actors::orchestrator_config& c) {
    store = std::make_shared<refusing_approval_store>(c.approval_store);
    c.approval_store = store;
    c.expiry_batch = 2;
  }};
  std::shared_ptr<test::entry_counters> n
    = std::make_shared<test::entry_counters>();
};

} // namespace

BOOST_AUTO_TEST_SUITE(protocol)

// The basic cycle, message by message: a resident parked run takes the
// wake and goes on where it stopped, without the shard being asked again
// and without entering the workflow function a second time.
BOOST_AUTO_TEST_CASE(a_parked_run_resumes_from_the_wake_alone) {
  deterministic_engine env;
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n));
  env.send_execute("counted", test::keys_input({"k"}), "r1");
  env.expect_next<actors::execute_atom, actors::execute_request>(env.orch);
  auto run = env.expect_next<start_atom>(run_actor).to;
  auto reach = env.expect_next<reach_atom, reach_request>(shard_actor);
  BOOST_TEST((reach.get<reach_request>(1).run == run));
  BOOST_TEST(reach.get<reach_request>(1).key == "k");
  auto shard = reach.to;
  env.expect_next<status_reply>(run);
  env.expect_next<parked_atom, std::string>(env.orch);
  BOOST_TEST(test::must(env.reply<execution_reply>()).status
             == model::run_status::paused);
  env.run();

  env.send_grant("k");
  env.expect_next<actors::decide_atom, actors::decision_request>(env.orch);
  env.expect_next<actors::decide_atom, actors::decision_request>(shard);
  auto wake = env.expect_next<wake_atom, wake_message>(run);
  BOOST_TEST(wake.get<wake_message>(1).key == "k");
  // The run went on to its end: it asked the shard nothing.
  env.expect_next<wake_report>(shard);
  env.expect_next<finished_atom, std::string>(env.orch);
  auto report = test::must(env.reply<decision_reply>());
  BOOST_TEST(report.resumed_workflows == std::vector<std::string>{"r1"},
             boost::test_tools::per_element());
  BOOST_TEST(env.stored("r1").status == model::run_status::completed);
  BOOST_TEST(n->entries_of("r1") == 1);
  BOOST_TEST(n->steps_of("r1", "before") == 1);
  BOOST_TEST(n->steps_of("r1", "after-k") == 1);
  BOOST_TEST(env.resident() == 0U);
}

// On LMDB the run's pause commits the approval it created with it: one
// commit, each its own transaction. A decision that arrives meanwhile waits
// at the shard until the run reports that commit, then commits and wakes
// the run, which goes on exactly once.
BOOST_AUTO_TEST_CASE(a_decision_arrives_while_the_run_persists_its_pause) {
  deterministic_engine env{{}, test::store_kind::lmdb};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n));
  const auto commits_before = env.lmdb->journal->commit_count();
  env.send_execute("counted", test::keys_input({"k"}), "r1");
  env.expect_next<actors::execute_atom, actors::execute_request>(env.orch);
  auto run = env.expect_next<start_atom>(run_actor).to;
  auto shard
    = env.expect_next<reach_carrying_atom, reach_request>(shard_actor).to;
  // The shard commits nothing itself: the creation goes with the run.
  BOOST_TEST_REQUIRE(!env.waiting(writer_actor));
  env.expect_next<status_reply, persistence::write_batch>(run);

  env.send_grant("k");
  env.expect_next<actors::decide_atom, actors::decision_request>(env.orch);
  env.expect_next<actors::decide_atom, actors::decision_request>(shard);
  // Nothing of the decision is written before the approval is durable.
  commit_queued(env);
  BOOST_TEST(env.lmdb->journal->commit_count() == commits_before + 1);
  BOOST_TEST(env.approval("k").status.is_pending());
  BOOST_TEST(env.stored("r1").status == model::run_status::paused);
  env.expect_response<model::result<void>, model::result<void>>(run);
  auto paused = test::must(env.reply<execution_reply>());
  BOOST_TEST(paused.status == model::run_status::paused);
  BOOST_TEST(paused.pending_approvals == std::vector<std::string>{"k"},
             boost::test_tools::per_element());
  env.expect_next<created_atom, std::string, model::result<void>>(shard);
  env.run();

  auto report = test::must(env.reply<decision_reply>());
  BOOST_TEST(report.applied);
  BOOST_TEST(report.resumed_workflows == std::vector<std::string>{"r1"},
             boost::test_tools::per_element());
  auto stored = env.stored("r1");
  BOOST_TEST(stored.status == model::run_status::completed);
  BOOST_TEST(branch_of(stored, 0) == "approved");
  BOOST_TEST(n->entries_of("r1") == 1);
  BOOST_TEST(n->steps_of("r1", "after-k") == 1);
}

// Another process (the CLI) makes the approval a run is creating, between
// the shard's answer and the run's pause: the carried creation fails alone
// in the pause's commit, the pause itself is durable, and the run asks
// again, now waiting on the approval the other process made. A grant then
// completes it.
BOOST_AUTO_TEST_CASE(a_creation_beaten_by_another_process_fails_alone) {
  deterministic_engine env{{}, test::store_kind::lmdb};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n));
  env.send_execute("counted", test::keys_input({"k"}), "r1");
  env.expect_next<actors::execute_atom, actors::execute_request>(env.orch);
  auto run = env.expect_next<start_atom>(run_actor).to;
  env.expect_next<reach_carrying_atom, reach_request>(shard_actor);
  model::approval_spec spec;
  spec.pending_reason = "made by the CLI";
  test::must(env.approvals->create_approval("k", spec, "cli", env.clock.now()));
  env.expect_next<status_reply, persistence::write_batch>(run);
  commit_queued(env);
  auto committed
    = env.expect_response<model::result<void>, model::result<void>>(run);
  test::must_fail(committed.get<model::result<void>>(0),
                  model::error_type::stale_write);
  test::must(committed.get<model::result<void>>(1));
  BOOST_TEST(env.stored("r1").status == model::run_status::paused);
  env.run();
  BOOST_TEST(test::must(env.reply<execution_reply>()).status
             == model::run_status::paused);
  BOOST_TEST(env.approval("k").spec.pending_reason == "made by the CLI");

  env.send_grant("k");
  env.run();
  auto report = test::must(env.reply<decision_reply>());
  BOOST_TEST(report.resumed_workflows == std::vector<std::string>{"r1"},
             boost::test_tools::per_element());
  BOOST_TEST(branch_of(env.stored("r1"), 0) == "approved");
  BOOST_TEST(n->steps_of("r1", "after-k") == 1);
  BOOST_TEST(n->entries_of("r1") == 1);
}

// A run that fails between taking its approval's creation from the shard
// and committing it (here its own write cannot even be encoded: it
// throws) never commits the creation: its end tells the shard, so the key
// does not stay busy, and a grant of it is applied.
BOOST_FIXTURE_TEST_CASE(
  a_run_that_fails_while_carrying_a_creation_frees_its_key,
  faulty_journal_engine) {
  journal->throwing = true;
  env.send_execute("counted", test::keys_input({"k"}), "r1");
  env.run();
  BOOST_TEST_REQUIRE(env.has_reply());
  BOOST_TEST(!env.reply<execution_reply>().is_ok());
  journal->throwing = false;
  env.send_grant("k");
  env.run();
  BOOST_TEST_REQUIRE(env.has_reply(), "the grant waits for the key for good");
  auto report = test::must(env.reply<decision_reply>());
  BOOST_TEST(report.applied);
  BOOST_TEST(env.approval("k").status.state == model::approval_state::approved);
}

// The store refuses the creation of the approval a run pauses on (the
// disk failed), while the pause itself commits: the run is asked to reach
// the approval again a second later (not at once, which would loop for as
// long as the store keeps refusing), and then creates it.
BOOST_FIXTURE_TEST_CASE(a_creation_the_store_refuses_is_tried_again_later,
                        faulty_journal_engine) {
  journal->refuse_creation = true;
  park(env, "r1", {"k"});
  BOOST_TEST(!test::must(env.approvals->find_approval("k")).has_value());
  const auto commits = journal->commit_count();
  env.advance_time(0s);
  env.run();
  BOOST_TEST(journal->commit_count() == commits, "asked again at once");
  env.advance_time(1s);
  env.run();
  BOOST_TEST(test::must(env.approvals->find_approval("k")).has_value());
  BOOST_TEST(env.stored("r1").status == model::run_status::paused);

  env.send_grant("k");
  env.run();
  auto report = test::must(env.reply<decision_reply>());
  BOOST_TEST(report.resumed_workflows == std::vector<std::string>{"r1"},
             boost::test_tools::per_element());
  BOOST_TEST(branch_of(env.stored("r1"), 0) == "approved");
  BOOST_TEST(n->entries_of("r1") == 1);
}

// A decision repeated while the first is being committed, on a key no run
// waits on: the repeat waits for the commit, then finds the key decided
// alike and ends its (empty) wake round at once, which frees the key's
// entry while the shard is still running what waited on it.
BOOST_AUTO_TEST_CASE(a_repeated_decision_behind_a_commit_with_nobody_to_wake) {
  deterministic_engine env{{}, test::store_kind::lmdb};
  model::approval_spec spec;
  spec.pending_reason = "made by the CLI";
  test::must(env.approvals->create_approval("k", spec, "cli", env.clock.now()));
  env.send_grant("k");
  env.send_grant("k");
  env.run();
  auto first = test::must(env.reply<decision_reply>());
  auto second = test::must(env.reply<decision_reply>());
  BOOST_TEST(first.applied);
  BOOST_TEST(!second.applied);
  BOOST_TEST(env.approval("k").status.state == model::approval_state::approved);
}

// A run woken on LMDB goes on to its next approval and pauses again there,
// carrying that approval's creation into its pause: each grant resumes it.
BOOST_AUTO_TEST_CASE(a_woken_run_pauses_again_on_its_next_approval) {
  deterministic_engine env{{}, test::store_kind::lmdb};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n));
  park(env, "r1", {"a", "b", "c"});
  for (const std::string key : {"a", "b", "c"}) {
    env.send_grant(key);
    env.run();
    auto report = test::must(env.reply<decision_reply>());
    BOOST_TEST(report.resumed_workflows == std::vector<std::string>{"r1"},
               boost::test_tools::per_element());
  }
  BOOST_TEST(env.stored("r1").status == model::run_status::completed);
  BOOST_TEST(n->steps_of("r1", "after-c") == 1);
}

// cancel_run and a grant race for a parked run. The cancel reaches the run
// first: the run is cancelled, the grant stands and resumes nobody (its
// wake bounces off the gone actor and the directory finds the run
// cancelled), and the approval cancel that follows the run's is refused.
BOOST_AUTO_TEST_CASE(cancel_run_first_then_the_wake) {
  deterministic_engine env;
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n));
  auto run = park(env, "r1", {"k"});

  actors::cancel_run_request cancel;
  cancel.run_id = "r1";
  cancel.reason = "withdrawn";
  env.send(actors::cancel_run_atom_v, cancel);
  env.send_grant("k");
  env.expect_next<actors::cancel_run_atom, actors::cancel_run_request>(
    env.orch);
  env.expect_next<actors::decide_atom, actors::decision_request>(env.orch);
  env.expect_next<actors::cancel_run_atom, actors::cancel_run_request>(run);
  env.run();

  std::optional<execution_reply> cancelled;
  std::optional<decision_reply> decided;
  while (env.has_reply()) {
    env.self->receive([&](execution_reply& r) { cancelled = std::move(r); },
                      [&](decision_reply& r) { decided = std::move(r); });
  }
  BOOST_TEST_REQUIRE(cancelled.has_value());
  BOOST_TEST_REQUIRE(decided.has_value());
  BOOST_TEST(test::must(*cancelled).status == model::run_status::cancelled);
  auto report = test::must(*decided);
  BOOST_TEST(report.applied);
  BOOST_TEST(report.resumed_workflows.empty());
  BOOST_TEST(env.stored("r1").status == model::run_status::cancelled);
  BOOST_TEST(env.approval("k").status.state == model::approval_state::approved);
  BOOST_TEST(n->steps_of("r1", "after-k") == 0);
  BOOST_TEST(env.resident() == 0U);
}

// The same race the other way: the wake reaches the run first, the run
// completes on the grant, and the cancel, bounced off the gone actor and
// re-routed, finds a completed run.
BOOST_AUTO_TEST_CASE(the_wake_first_then_cancel_run) {
  deterministic_engine env;
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n));
  auto run = park(env, "r1", {"k"});

  env.send_grant("k");
  actors::cancel_run_request cancel;
  cancel.run_id = "r1";
  env.send(actors::cancel_run_atom_v, cancel);
  env.expect_next<actors::decide_atom, actors::decision_request>(env.orch);
  env.expect_next<actors::decide_atom, actors::decision_request>(shard_actor);
  env.expect_next<actors::cancel_run_atom, actors::cancel_run_request>(
    env.orch);
  env.expect_next<wake_atom, wake_message>(run);
  env.run();

  std::optional<execution_reply> cancelled;
  std::optional<decision_reply> decided;
  while (env.has_reply()) {
    env.self->receive([&](execution_reply& r) { cancelled = std::move(r); },
                      [&](decision_reply& r) { decided = std::move(r); });
  }
  BOOST_TEST_REQUIRE(cancelled.has_value());
  BOOST_TEST_REQUIRE(decided.has_value());
  test::must_fail(*cancelled, model::error_type::invalid_run_state);
  BOOST_TEST(test::must(*decided).resumed_workflows
               == std::vector<std::string>{"r1"},
             boost::test_tools::per_element());
  auto stored = env.stored("r1");
  BOOST_TEST(stored.status == model::run_status::completed);
  BOOST_TEST(branch_of(stored, 0) == "approved");
  BOOST_TEST(n->steps_of("r1", "after-k") == 1);
}

// A grant and the expiry race on one key past its deadline, both queued at
// the key's shard, in either order: the grant reads the approval expired
// and is refused, the expiry commits, and the run takes its timeout branch
// once.
BOOST_AUTO_TEST_CASE(expiry_and_a_late_grant_meet_at_the_shard) {
  for (const bool grant_first : {true, false}) {
    BOOST_TEST_CONTEXT("grant first: " << grant_first) {
      deterministic_engine env;
      auto n = std::make_shared<test::entry_counters>();
      env.register_workflow(
        "counted",
        test::counted_workflow(n, model::approval_options{}.expiring_in(1h)));
      park(env, "r1", {"k"});
      env.advance_time(1h + 1ms);
      auto timer = env.waiting("signoff.expiry_timer");
      BOOST_TEST_REQUIRE(static_cast<bool>(timer), "the timer did not fire");
      env.send_grant("k");
      if (grant_first) {
        env.expect_next<actors::decide_atom, actors::decision_request>(
          env.orch);
        env.run_once(timer);
      } else {
        env.run_once(timer);
        env.expect_next<actors::decide_atom, actors::decision_request>(
          env.orch);
      }
      auto first
        = env.expect_next<actors::decide_atom, actors::decision_request>(
          shard_actor);
      BOOST_TEST((first.get<actors::decision_request>(1).decision.kind
                  == (grant_first ? model::decision_kind::grant
                                  : model::decision_kind::expire)));
      env.run();
      auto refused = env.reply<decision_reply>();
      auto e = test::must_fail(refused, model::error_type::approval_conflict);
      BOOST_TEST(e.message.find("expired") != std::string::npos, e.message);
      auto record = env.approval("k");
      BOOST_TEST(record.status.state == model::approval_state::expired);
      auto audit = test::must(env.approvals->audit_trail("k"));
      BOOST_TEST_REQUIRE(audit.size() == 2U);
      BOOST_TEST(audit[1].action == "expired");
      auto stored = env.stored("r1");
      BOOST_TEST(stored.status == model::run_status::completed);
      BOOST_TEST(branch_of(stored, 0) == model::error_type::approval_expired);
      BOOST_TEST(n->steps_of("r1", "after-k") == 1);
    }
  }
}

// On LMDB a grant made before the deadline is still being committed when
// the deadline passes: the timer reads the approval pending and asks its
// shard to expire it, which waits for the grant's commit and then refuses
// the expiry. The grant wins; nothing expires.
BOOST_AUTO_TEST_CASE(an_expiry_read_before_a_grant_commits_loses_to_it) {
  deterministic_engine env{{}, test::store_kind::lmdb};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow(
    "counted",
    test::counted_workflow(n, model::approval_options{}.expiring_in(1h)));
  park(env, "r1", {"k"});
  env.advance_time(59min);
  env.send_grant("k");
  env.expect_next<actors::decide_atom, actors::decision_request>(env.orch);
  auto shard
    = env
        .expect_next<actors::decide_atom, actors::decision_request>(shard_actor)
        .to;
  BOOST_TEST_REQUIRE((env.holds<commit_atom, persistence::write_batch>(
    env.waiting(writer_actor))));
  env.advance_time(2min);
  auto timer = env.waiting("signoff.expiry_timer");
  BOOST_TEST_REQUIRE(static_cast<bool>(timer), "the timer did not fire");
  env.run_once(timer);
  // The expiry waits at the shard behind the grant's commit.
  env.expect_next<actors::decide_atom, actors::decision_request>(shard);
  commit_queued(env);
  env.run();
  auto report = test::must(env.reply<decision_reply>());
  BOOST_TEST(report.applied);
  BOOST_TEST(report.resumed_workflows == std::vector<std::string>{"r1"},
             boost::test_tools::per_element());
  BOOST_TEST(env.approval("k").status.state == model::approval_state::approved);
  auto audit = test::must(env.approvals->audit_trail("k"));
  BOOST_TEST(audit.size() == 2U);
  BOOST_TEST(branch_of(env.stored("r1"), 0) == "approved");
  BOOST_TEST(n->steps_of("r1", "after-k") == 1);
}

// The wake goes out to a resident run, which passivates before taking it
// (the directory asked it to, to make room for another): the wake bounces
// off the gone actor, the directory re-activates the run from the store
// and hands it the wake, and the replay uses the decision in the wake
// without asking the shard about the key again.
BOOST_AUTO_TEST_CASE(a_wake_to_a_run_that_passivated_meanwhile_is_rerouted) {
  deterministic_engine env{[](actors::orchestrator_config& c) {
    c.max_resident_runs = 1;
  }};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n));
  auto r1 = park(env, "r1", {"k1"});
  BOOST_TEST(env.resident() == 1U);

  // A second run parks; its park waits at the directory.
  env.send_execute("counted", test::keys_input({"k2"}), "r2");
  env.expect_next<actors::execute_atom, actors::execute_request>(env.orch);
  auto r2 = env.expect_next<start_atom>(run_actor).to;
  auto shard = env.expect_next<reach_atom, reach_request>(shard_actor).to;
  env.expect_next<status_reply>(r2);
  BOOST_TEST(test::must(env.reply<execution_reply>()).status
             == model::run_status::paused);

  env.send_grant("k1");
  // Making room for r2 asks r1 to passivate; then the grant goes out.
  env.expect_next<parked_atom, std::string>(env.orch);
  env.expect_next<actors::decide_atom, actors::decision_request>(env.orch);
  env.expect_next<actors::decide_atom, actors::decision_request>(shard);
  BOOST_TEST((env.holds<wake_atom, wake_message>(r1)));
  env.expect_next<passivate_atom>(r1);
  env.expect_next<forget_atom, std::string, std::string>(shard);
  // The wake bounced: the shard hands it to the directory.
  env.expect_next<caf::error>(shard);
  env.expect_next<finished_atom, std::string>(env.orch);
  env.expect_next<wake_atom, routed_wake>(env.orch);
  auto again = env.expect_next<wake_atom, wake_message>(run_actor).to;
  BOOST_TEST((again != r1));
  // The replay found the decision in the wake: nothing asked the shard.
  BOOST_TEST(!(env.holds<reach_atom, reach_request>(shard)));
  env.run();

  auto report = test::must(env.reply<decision_reply>());
  BOOST_TEST(report.resumed_workflows == std::vector<std::string>{"r1"},
             boost::test_tools::per_element());
  auto stored = env.stored("r1");
  BOOST_TEST(stored.status == model::run_status::completed);
  BOOST_TEST(branch_of(stored, 0) == "approved");
  BOOST_TEST(n->entries_of("r1") == 2);
  BOOST_TEST(n->steps_of("r1", "before") == 1);
  BOOST_TEST(n->steps_of("r1", "after-k1") == 1);
  BOOST_TEST(env.resident() == 1U);
}

// Past `max_resident_runs`, the run parked least recently passivates: a
// run woken and parked again counts as parked anew.
BOOST_AUTO_TEST_CASE(the_resident_limit_passivates_the_least_recently_parked) {
  deterministic_engine env{[](actors::orchestrator_config& c) {
    c.max_resident_runs = 2;
  }};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n));
  park(env, "r1", {"k1a", "k1b"});
  auto r2 = park(env, "r2", {"k2"});
  env.send_grant("k1a");
  env.run();
  test::must(env.reply<decision_reply>());
  BOOST_TEST(env.resident() == 2U);
  // r1 parked again after r2: r2 is the one to go.
  park(env, "r3", {"k3"});
  BOOST_TEST(env.resident() == 2U);
  BOOST_TEST(env.stored("r2").status == model::run_status::paused);
  env.send_grant("k2");
  env.send_grant("k1b");
  env.send_grant("k3");
  env.run();
  for (int i = 0; i < 3; ++i)
    test::must(env.reply<decision_reply>());
  BOOST_TEST(n->entries_of("r1") == 1);
  BOOST_TEST(n->entries_of("r2") == 2);
  BOOST_TEST(n->entries_of("r3") == 1);
  for (const auto* id : {"r1", "r2", "r3"})
    BOOST_TEST(env.stored(id).status == model::run_status::completed, id);
  (void)r2;
}

// Two runs park while the directory still waits for a run it asked to
// passivate to say it did: only as many runs as needed go, so the limit is
// kept, not undercut.
BOOST_AUTO_TEST_CASE(runs_asked_to_passivate_are_not_counted_twice) {
  deterministic_engine env{[](actors::orchestrator_config& c) {
    c.max_resident_runs = 2;
  }};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n));
  park(env, "r1", {"k1"});
  park(env, "r2", {"k2"});
  env.send_execute("counted", test::keys_input({"k3"}), "r3");
  env.send_execute("counted", test::keys_input({"k4"}), "r4");
  env.expect_next<actors::execute_atom, actors::execute_request>(env.orch);
  env.expect_next<actors::execute_atom, actors::execute_request>(env.orch);
  // Both new runs park before the directory hears of either park.
  for (int i = 0; i < 2; ++i) {
    auto run = env.expect_next<start_atom>(run_actor).to;
    env.expect_next<reach_atom, reach_request>(shard_actor);
    env.expect_next<status_reply>(run);
  }
  env.expect_next<parked_atom, std::string>(env.orch);
  env.expect_next<parked_atom, std::string>(env.orch);
  env.run();
  while (env.has_reply())
    test::must(env.reply<execution_reply>());
  BOOST_TEST(env.resident() == 2U);
  // The two oldest went; the two newest stayed.
  for (const auto* key : {"k1", "k2", "k3", "k4"})
    env.send_grant(key);
  env.run();
  BOOST_TEST(n->entries_of("r1") == 2);
  BOOST_TEST(n->entries_of("r2") == 2);
  BOOST_TEST(n->entries_of("r3") == 1);
  BOOST_TEST(n->entries_of("r4") == 1);
}

// Parked runs passivate once idle for `idle_passivation` on the injected
// clock, each after its own idle time.
BOOST_AUTO_TEST_CASE(idle_runs_passivate_after_their_idle_time) {
  deterministic_engine env{[](actors::orchestrator_config& c) {
    c.idle_passivation = 10min;
  }};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n));
  park(env, "r1", {"k1"});
  auto pass = [&](model::duration d) {
    // The directory sweeps every idle_passivation / 4.
    for (auto left = d; left > model::duration::zero(); left -= 150s) {
      env.advance_time(150s);
      env.run();
    }
  };
  pass(5min);
  BOOST_TEST(env.resident() == 1U);
  park(env, "r2", {"k2"});
  pass(5min);
  // r1 idled 10 minutes, r2 5.
  BOOST_TEST(env.resident() == 1U);
  pass(5min);
  BOOST_TEST(env.resident() == 0U);
  env.send_grant("k1");
  env.send_grant("k2");
  env.run();
  BOOST_TEST(n->entries_of("r1") == 2);
  BOOST_TEST(n->entries_of("r2") == 2);
  BOOST_TEST(env.stored("r1").status == model::run_status::completed);
  BOOST_TEST(env.stored("r2").status == model::run_status::completed);
}

// A decision waking many runs sends at most `wakes_in_flight` wakes that
// are not answered yet; the rest follow as runs answer.
BOOST_AUTO_TEST_CASE(a_decision_keeps_at_most_wakes_in_flight_outstanding) {
  constexpr int runs = 7;
  deterministic_engine env{[](actors::orchestrator_config& c) {
    c.wakes_in_flight = 2;
  }};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n));
  for (int i = 0; i < runs; ++i)
    park(env, "r" + std::to_string(i), {"shared", "own" + std::to_string(i)});
  env.send_grant("shared");
  int outstanding = 0;
  int most = 0;
  int woken = 0;
  env.step_until(
    [&](const caf::scheduled_actor& actor, const caf::message& msg) {
      const std::string_view name{actor.name()};
      if (name == run_actor && msg.match_elements<wake_atom, wake_message>()) {
        ++woken;
        most = std::max(most, ++outstanding);
      } else if (name == shard_actor && msg.match_elements<wake_report>()) {
        --outstanding;
      }
    },
    [] { return false; });
  BOOST_TEST(woken == runs);
  BOOST_TEST(most == 2);
  BOOST_TEST(outstanding == 0);
  auto report = test::must(env.reply<decision_reply>());
  BOOST_TEST(report.resumed_workflows.size() == std::size_t{runs});
  for (int i = 0; i < runs; ++i) {
    const auto id = "r" + std::to_string(i);
    BOOST_TEST(env.stored(id).pending_approvals
                 == std::vector<std::string>{"own" + std::to_string(i)},
               boost::test_tools::per_element());
  }
}

// On LMDB the decision's reply waits until the run it woke reached its
// next pause and that pause is durable.
BOOST_AUTO_TEST_CASE(the_decision_reply_waits_for_the_next_pause) {
  deterministic_engine env{{}, test::store_kind::lmdb};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n));
  park(env, "r1", {"k1", "k2"});
  env.send_grant("k1");
  BOOST_TEST_REQUIRE(
    env.step_until([](auto&&...) {}, [&] { return env.has_reply(); }));
  auto stored = env.stored("r1");
  BOOST_TEST(stored.status == model::run_status::paused);
  BOOST_TEST(stored.pending_approvals == std::vector<std::string>{"k2"},
             boost::test_tools::per_element());
  auto report = test::must(env.reply<decision_reply>());
  BOOST_TEST(report.resumed_workflows == std::vector<std::string>{"r1"},
             boost::test_tools::per_element());
}

// The decision's reply does not wait for a reply another service owes the
// woken run: it comes once the run awaits it. The run answers a resume
// later, at its next pause, once the service answered.
BOOST_AUTO_TEST_CASE(the_decision_reply_does_not_wait_for_a_service) {
  deterministic_engine env;
  auto asked = std::make_shared<std::atomic<int>>(0);
  auto gate = env.spawn(test::gate_actor, asked);
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("asking", test::asking_workflow(n, gate));
  boost::json::value input{{"first", "k1"}, {"second", "k2"}};
  env.send_execute("asking", input, "r1");
  env.run();
  BOOST_TEST(test::must(env.reply<execution_reply>()).status
             == model::run_status::paused);

  env.send_grant("k1");
  env.run();
  BOOST_TEST(*asked == 1);
  auto report = test::must(env.reply<decision_reply>());
  BOOST_TEST(report.resumed_workflows == std::vector<std::string>{"r1"},
             boost::test_tools::per_element());
  BOOST_TEST(n->steps_of("r1", "answered") == 0);

  env.send(actors::resume_atom_v, std::string{"r1"});
  env.run();
  BOOST_TEST(!env.has_reply());
  caf::anon_send(gate, test::release_atom_v);
  env.run();
  auto resumed = test::must(env.reply<execution_reply>());
  BOOST_TEST(resumed.status == model::run_status::paused);
  BOOST_TEST(resumed.pending_approvals == std::vector<std::string>{"k2"},
             boost::test_tools::per_element());
  BOOST_TEST(n->steps_of("r1", "answered") == 1);
  auto stored = env.stored("r1");
  BOOST_TEST_REQUIRE(stored.checkpoints.contains("ask"));
  BOOST_TEST(stored.checkpoints.at("ask").value() == "answer");
}

// A second `execute` of a run id whose first run has not been stored yet
// (it waits for a service in its first step) is refused; the first run
// goes on unharmed.
BOOST_AUTO_TEST_CASE(a_second_execute_of_a_run_still_starting_is_refused) {
  deterministic_engine env;
  auto asked = std::make_shared<std::atomic<int>>(0);
  auto gate = env.spawn(test::gate_actor, asked);
  env.register_workflow("slow-start",
                        [gate](step& step, const boost::json::value&)
                          -> task<model::result<boost::json::value>> {
                          std::string what{"first"};
                          auto answer = co_await step.request<std::string>(
                            "ask", gate, test::ask_atom_v, what);
                          co_return boost::json::value(answer);
                        });
  env.send_execute("slow-start", nullptr, "r1");
  env.run();
  BOOST_TEST_REQUIRE(*asked == 1);
  BOOST_TEST(!test::must(env.runs->load("r1")).has_value());
  env.send_execute("slow-start", nullptr, "r1");
  env.run();
  test::must_fail(env.reply<execution_reply>(),
                  model::error_type::invalid_argument);
  caf::anon_send(gate, test::release_atom_v);
  env.run();
  auto done = test::must(env.reply<execution_reply>());
  BOOST_TEST(done.status == model::run_status::completed);
  BOOST_TEST(*asked == 1);
}

// A decision repeated at once (the same grant twice) wakes the run twice:
// the second wake, routed through the directory because the store still
// lists the run on the key, finds it gone on to its next approval and
// resumes nothing.
BOOST_AUTO_TEST_CASE(a_repeated_decision_wakes_a_run_only_once) {
  deterministic_engine env;
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n));
  park(env, "r1", {"k1", "k2"});
  env.send_grant("k1");
  env.send_grant("k1");
  env.run();
  auto first = test::must(env.reply<decision_reply>());
  auto second = test::must(env.reply<decision_reply>());
  BOOST_TEST(first.applied);
  BOOST_TEST(!second.applied);
  BOOST_TEST(first.resumed_workflows.size() + second.resumed_workflows.size()
             == 1U);
  BOOST_TEST(n->steps_of("r1", "after-k1") == 1);
  BOOST_TEST(n->entries_of("r1") == 1);
  auto stored = env.stored("r1");
  BOOST_TEST(stored.pending_approvals == std::vector<std::string>{"k2"},
             boost::test_tools::per_element());
}

// Another process (the CLI) decides on the LMDB directory while the shard's
// own decision on the key is being committed: the shard's commit is stale,
// and it computes the decision again from the new record. With a quorum of
// two, both grants count.
BOOST_AUTO_TEST_CASE(a_stale_commit_is_computed_again) {
  deterministic_engine env{{}, test::store_kind::lmdb};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow(
    "counted",
    test::counted_workflow(n, model::approval_options{}.with_quorum(2)));
  park(env, "r1", {"k"});
  env.send_grant("k", "jane");
  env.expect_next<actors::decide_atom, actors::decision_request>(env.orch);
  auto shard
    = env
        .expect_next<actors::decide_atom, actors::decision_request>(shard_actor)
        .to;
  // The CLI's grant commits first.
  test::must(env.approvals->decide(
    model::decision::grant("k", boost::json::value{{"by", "bob"}}, "bob"),
    env.clock.now()));
  commit_queued(env);
  auto stale = env.expect_next<model::result<void>>(shard);
  test::must_fail(stale.get<model::result<void>>(0),
                  model::error_type::stale_write);
  env.run();
  auto report = test::must(env.reply<decision_reply>());
  BOOST_TEST(report.applied);
  BOOST_TEST(report.approval.status.state == model::approval_state::approved);
  BOOST_TEST(report.approval.grants.size() == 2U);
  BOOST_TEST(report.resumed_workflows == std::vector<std::string>{"r1"},
             boost::test_tools::per_element());
  BOOST_TEST(branch_of(env.stored("r1"), 0) == "approved");
}

// Another process grants on the LMDB directory after the shard made the
// approval durable and before the shard's own decision arrives: the
// shard's decision counts on top of it (it is computed from the durable
// record, not from one the shard remembers).
BOOST_AUTO_TEST_CASE(a_grant_by_another_process_before_the_decision_counts) {
  deterministic_engine env{{}, test::store_kind::lmdb};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow(
    "counted",
    test::counted_workflow(n, model::approval_options{}.with_quorum(2)));
  park(env, "r1", {"k"});
  test::must(env.approvals->decide(
    model::decision::grant("k", boost::json::value{{"by", "bob"}}, "bob"),
    env.clock.now()));
  env.send_grant("k", "jane");
  env.run();
  auto report = test::must(env.reply<decision_reply>());
  BOOST_TEST(report.applied);
  BOOST_TEST(report.approval.status.state == model::approval_state::approved);
  BOOST_TEST(report.approval.grants.size() == 2U);
  BOOST_TEST(env.approval("k").grants.size() == 2U);
  BOOST_TEST(report.resumed_workflows == std::vector<std::string>{"r1"},
             boost::test_tools::per_element());
  BOOST_TEST(n->steps_of("r1", "after-k") == 1);
}

// Without a quorum the CLI's grant wins: the shard's decision, computed
// again, is a conflict naming the CLI's approver, and the run is woken by
// the owed-wake poll with the CLI's value.
BOOST_AUTO_TEST_CASE(a_decision_beaten_by_another_process_is_a_conflict) {
  deterministic_engine env{
    [](actors::orchestrator_config& c) { c.wake_poll_interval = 1s; },
    test::store_kind::lmdb};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n));
  park(env, "r1", {"k"});
  env.send_grant("k", "jane");
  env.expect_next<actors::decide_atom, actors::decision_request>(env.orch);
  env.expect_next<actors::decide_atom, actors::decision_request>(shard_actor);
  test::must(env.approvals->decide(
    model::decision::grant("k", boost::json::value{{"by", "bob"}}, "bob"),
    env.clock.now()));
  env.run();
  auto e = test::must_fail(env.reply<decision_reply>(),
                           model::error_type::approval_conflict);
  BOOST_TEST(e.message.find("bob") != std::string::npos, e.message);
  BOOST_TEST(env.stored("r1").status == model::run_status::paused);
  env.advance_time(1s);
  env.run();
  auto stored = env.stored("r1");
  BOOST_TEST(stored.status == model::run_status::completed);
  BOOST_TEST(branch_of(stored, 0) == "approved");
  BOOST_TEST(n->steps_of("r1", "after-k") == 1);
  BOOST_TEST(env.approval("k").status.decided_by == "bob");
}

// While the store refuses every write (a full disk), a batch of due
// approvals of which none could be fired makes the timer try again a
// second later, not read the same batch again at once (a loop that would
// hold a thread for as long as the disk stays full). Once the store takes
// writes again, every due approval expires.
BOOST_FIXTURE_TEST_CASE(due_approvals_the_store_refuses_are_tried_again_later,
                        refusing_store_engine) {
  park(env, "r1", {"a"});
  park(env, "r2", {"b"});
  park(env, "r3", {"c"});
  store->refusing = true;
  env.advance_time(2min);
  env.run();
  BOOST_TEST(store->refused == 2);
  env.advance_time(0s);
  env.run();
  BOOST_TEST(store->refused == 2, "the refused batch was read again at once");
  env.advance_time(500ms);
  env.run();
  BOOST_TEST(store->refused == 2);

  // The retry reads past the keys that failed, which are left alone a
  // while, and fires the one behind them.
  store->refusing = false;
  env.advance_time(500ms);
  env.run();
  env.advance_time(0s);
  env.run();
  BOOST_TEST(env.approval("c").status.state == model::approval_state::expired);
  BOOST_TEST(env.approval("a").status.is_pending());
  BOOST_TEST(env.approval("b").status.is_pending());

  env.advance_time(9s);
  env.run();
  env.advance_time(0s);
  env.run();
  for (const std::string key : {"a", "b", "c"})
    BOOST_TEST(env.approval(key).status.state == model::approval_state::expired,
               key);
  for (const std::string run : {"r1", "r2", "r3"})
    BOOST_TEST(branch_of(env.stored(run), 0) == "APPROVAL_EXPIRED", run);
  BOOST_TEST(store->refused == 2);
}

// Two due approvals whose records the store never takes fill the timer's
// whole batch: they fail, are left alone, and the approvals due after them
// expire a second later all the same, as does one whose deadline comes
// while the two are held; the two are tried again when their hold ends,
// not in a loop meanwhile, and at once when `expire` is asked for.
BOOST_FIXTURE_TEST_CASE(approvals_that_cannot_expire_do_not_hold_back_others,
                        refusing_store_engine) {
  model::approval_options later;
  later.expires_in = 2min + 3s;
  env.register_workflow("later", test::counted_workflow(n, later));
  park(env, "r1", {"a"});
  park(env, "r2", {"b"});
  park(env, "r3", {"c"});
  park(env, "r4", {"d"});
  park(env, "r5", {"e"}, "later");
  store->refusing_keys = {"a", "b"};
  env.advance_time(2min);
  env.run();
  BOOST_TEST(store->refused == 2);
  env.advance_time(1s);
  env.run();
  for (int i = 0; i < 3; ++i) {
    env.advance_time(0s);
    env.run();
  }
  BOOST_TEST(env.approval("c").status.state == model::approval_state::expired);
  BOOST_TEST(env.approval("d").status.state == model::approval_state::expired);
  BOOST_TEST(branch_of(env.stored("r4"), 0) == "APPROVAL_EXPIRED");
  BOOST_TEST(env.approval("a").status.is_pending());
  BOOST_TEST(store->refused == 2, "a held key was tried again at once");

  for (int i = 0; i < 3; ++i) {
    env.advance_time(1s);
    env.run();
  }
  BOOST_TEST(env.approval("e").status.state == model::approval_state::expired,
             "a deadline that came while others were held waited for them");
  env.advance_time(5s);
  env.run();
  BOOST_TEST(store->refused == 2);
  env.advance_time(1s);
  env.run();
  BOOST_TEST(store->refused == 4,
             "a held key is tried again when its hold ends");

  store->refusing_keys.clear();
  env.send(actors::expire_atom_v);
  env.run();
  auto expired
    = test::must(env.reply<model::result<std::vector<std::string>>>());
  BOOST_TEST(expired == (std::vector<std::string>{"a", "b"}),
             boost::test_tools::per_element());
  BOOST_TEST(env.approval("a").status.state == model::approval_state::expired);
  BOOST_TEST(env.approval("b").status.state == model::approval_state::expired);
}

// More approvals than one poll reads were decided by another process, none
// with a run waiting, and they sort before the key a run waits on: the
// poll pages on through them at once and wakes the run, instead of
// reading the same first page again while its keys' forgetting waits for
// a commit. Once the store is idle for a second, that forgetting is
// committed on its own: nothing stays owed.
BOOST_AUTO_TEST_CASE(owed_wakes_beyond_one_page_are_all_reached) {
  deterministic_engine env{
    [](actors::orchestrator_config& c) { c.wake_poll_interval = 1s; },
    test::store_kind::lmdb};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n));
  park(env, "r1", {"z"});
  env.run();
  model::approval_spec spec;
  spec.pending_reason = "decided elsewhere";
  for (int i = 0; i < 300; ++i) {
    const auto key = "a" + std::to_string(1000 + i);
    test::must(
      env.approvals->create_approval(key, spec, "cli", env.clock.now()));
    test::must(env.approvals->decide(
      model::decision::grant(key, boost::json::value{{"by", "bob"}}, "bob"),
      env.clock.now()));
  }
  test::must(env.approvals->decide(
    model::decision::grant("z", boost::json::value{{"by", "bob"}}, "bob"),
    env.clock.now()));
  BOOST_TEST_REQUIRE(test::must(env.approvals->owed_wakes(1000, {})).size()
                     == 301U);
  env.advance_time(1s);
  env.run();
  auto stored = env.stored("r1");
  BOOST_TEST(stored.status == model::run_status::completed);
  BOOST_TEST(branch_of(stored, 0) == "approved");
  env.advance_time(1s);
  env.run();
  BOOST_TEST(test::must(env.approvals->owed_wakes(1000, {})).empty());
}

// A run passivated while paused can be cancelled: the directory
// re-activates it from the store to cancel it, and its approval with it.
BOOST_AUTO_TEST_CASE(a_passivated_run_can_be_cancelled) {
  deterministic_engine env{[](actors::orchestrator_config& c) {
    c.max_resident_runs = 0;
  }};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n));
  park(env, "r1", {"k"});
  env.run();
  BOOST_TEST_REQUIRE(env.resident() == 0U);
  actors::cancel_run_request cancel;
  cancel.run_id = "r1";
  cancel.reason = "withdrawn";
  env.send(actors::cancel_run_atom_v, cancel);
  env.run();
  auto cancelled = test::must(env.reply<execution_reply>());
  BOOST_TEST(cancelled.status == model::run_status::cancelled);
  BOOST_TEST(cancelled.pending_approvals == std::vector<std::string>{"k"},
             boost::test_tools::per_element());
  BOOST_TEST(env.stored("r1").status == model::run_status::cancelled);
  auto approval = env.approval("k").status;
  BOOST_TEST(approval.state == model::approval_state::cancelled);
  BOOST_TEST(approval.decided_by == "run:r1");
  BOOST_TEST(n->entries_of("r1") == 1);
  BOOST_TEST(env.resident() == 0U);
}

// A passivated run is re-activated to take a wake, and a cancel_run
// reaches the directory first: the cancel wins, and the wake, bounced
// off the gone actor, finds the run cancelled and resumes nothing.
BOOST_AUTO_TEST_CASE(cancel_of_a_run_reactivated_for_a_wake) {
  deterministic_engine env{[](actors::orchestrator_config& c) {
    c.max_resident_runs = 0;
  }};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n));
  park(env, "r1", {"k"});
  env.run();
  BOOST_TEST_REQUIRE(env.resident() == 0U);
  env.send_grant("k");
  env.expect_next<actors::decide_atom, actors::decision_request>(env.orch);
  actors::cancel_run_request cancel;
  cancel.run_id = "r1";
  env.send(actors::cancel_run_atom_v, cancel);
  // The shard's wake for the stored run queues behind the cancel.
  env.expect_next<actors::decide_atom, actors::decision_request>(shard_actor);
  env.expect_next<actors::cancel_run_atom, actors::cancel_run_request>(
    env.orch);
  env.expect_next<wake_atom, routed_wake>(env.orch);
  auto run
    = env
        .expect_next<actors::cancel_run_atom, actors::cancel_run_request>(
          run_actor)
        .to;
  env.run();
  std::optional<execution_reply> cancelled;
  std::optional<decision_reply> decided;
  while (env.has_reply())
    env.self->receive([&](execution_reply& r) { cancelled = std::move(r); },
                      [&](decision_reply& r) { decided = std::move(r); });
  BOOST_TEST_REQUIRE(cancelled.has_value());
  BOOST_TEST_REQUIRE(decided.has_value());
  BOOST_TEST(test::must(*cancelled).status == model::run_status::cancelled);
  BOOST_TEST(test::must(*decided).resumed_workflows.empty());
  BOOST_TEST(env.stored("r1").status == model::run_status::cancelled);
  BOOST_TEST(n->steps_of("r1", "after-k") == 0);
  BOOST_TEST(env.resident() == 0U);
  (void)run;
}

// The metrics follow runs in and out of memory: a passivated run leaves
// the resident count for the passivated one, and a wake brings it back.
// Read once every message ran, the figures are exact.
BOOST_AUTO_TEST_CASE(metrics_follow_runs_in_and_out_of_memory) {
  deterministic_engine env{[](actors::orchestrator_config& c) {
    c.max_resident_runs = 1;
  }};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("counted", test::counted_workflow(n));
  park(env, "r1", {"k1"});
  auto m = env.engine->metrics();
  BOOST_TEST(m.resident_runs == 1U);
  BOOST_TEST(m.paused_runs.value_or(99) == 1U);
  BOOST_TEST(m.passivated_runs.value_or(99) == 0U);
  BOOST_TEST(m.pending_approvals.value_or(99) == 1U);

  park(env, "r2", {"k2"});
  env.run(); // r1 makes room and quits
  m = env.engine->metrics();
  BOOST_TEST(m.resident_runs == 1U);
  BOOST_TEST(m.paused_runs.value_or(99) == 2U);
  BOOST_TEST(m.passivated_runs.value_or(99) == 1U);

  env.send_grant("k1"); // re-activates r1, which completes
  env.run();
  test::must(env.reply<decision_reply>());
  m = env.engine->metrics();
  BOOST_TEST(m.resident_runs == 1U);
  BOOST_TEST(m.paused_runs.value_or(99) == 1U);
  BOOST_TEST(m.passivated_runs.value_or(99) == 0U);
  BOOST_TEST(m.pending_approvals.value_or(99) == 1U);
  BOOST_TEST(m.runs_completed == 1U);
  BOOST_TEST(m.wakes_resumed == 1U);
  BOOST_TEST_REQUIRE(m.decisions.size() == 1U);
  BOOST_TEST((m.decisions[0].kind == model::decision_kind::grant));
  BOOST_TEST(m.decisions[0].applied);
  BOOST_TEST(m.decisions[0].count == 1U);
  // The memory stores have no journal: no group commit to time.
  BOOST_TEST(!m.commit_seconds.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
