// Steps that wait on several approvals (`first_approval`, `all_approvals`
// and their try forms) through the engine, on both stores: which key
// decides, what becomes of the others (cancelled by the run, audited), and
// what a replay after a passivation, a restart or a crash returns. Most
// cases run under CAF's deterministic test coordinator; the restart case
// runs the blocking facade over one LMDB directory twice.

#include "deterministic.hpp"

#include <boost/test/data/test_case.hpp>

#include "signoff/model/approval_wait.hpp"
#include "signoff/model/limits.hpp"
#include "signoff/orchestrator.hpp"

using namespace signoff;
using namespace std::chrono_literals;
using test::deterministic_engine;
using test::store_kind;
using decision_reply = model::result<actors::decision_report>;
using execution_reply = model::result<model::execution_result>;

// Named, not anonymous: Boost.Test's data test cases are templates.
namespace several_cases {

const auto both_stores
  = boost::unit_test::data::make({store_kind::memory, store_kind::lmdb});

using value_task = task<model::result<boost::json::value>>;

std::vector<std::string> strings(const boost::json::value& v) {
  std::vector<std::string> out;
  for (const auto& k : v.as_array())
    out.emplace_back(k.as_string());
  return out;
}

boost::json::value input(std::initializer_list<std::string> keys,
                         const std::string& then = {}) {
  boost::json::object out = test::keys_input(keys).as_object();
  if (!then.empty())
    out["then"] = then;
  return out;
}

/// Counts its entries, runs the step "before", waits for the first of
/// `in.keys` (the try form when `try_form`), runs the step "after", then
/// waits for the approval `in.then` if given. Returns the key that decided
/// and its state.
workflow first_of(std::shared_ptr<test::entry_counters> n, bool try_form) {
  return [n, try_form](step& step, const boost::json::value& in) -> value_task {
    n->enter(step.run_id());
    co_await step.run("before", [&] { n->step(step.run_id(), "before"); });
    auto keys = strings(in.at("keys"));
    auto options = model::approval_options{}.with_reason("Either will do");
    model::decided_approval got;
    if (try_form)
      got = co_await step.try_first_approval(keys, options);
    else
      got = co_await step.first_approval(keys, options);
    co_await step.run("after", [&] { n->step(step.run_id(), "after"); });
    if (const auto* then = in.as_object().if_contains("then"))
      co_await step.approval(std::string{then->as_string()});
    co_return boost::json::value{{"key", got.key},
                                 {"state", to_string(got.status.state)}};
  };
}

/// Waits for all of `in.keys` (the try form when `try_form`) and returns
/// "key=state" for each, in order.
workflow all_of(std::shared_ptr<test::entry_counters> n, bool try_form) {
  return [n, try_form](step& step, const boost::json::value& in) -> value_task {
    n->enter(step.run_id());
    co_await step.run("before", [&] { n->step(step.run_id(), "before"); });
    auto keys = strings(in.at("keys"));
    std::vector<model::decided_approval> all;
    if (try_form)
      all = co_await step.try_all_approvals(keys);
    else
      all = co_await step.all_approvals(keys);
    boost::json::array states;
    for (const auto& d : all)
      states.emplace_back(d.key + "=" + std::string{to_string(d.status.state)});
    co_return boost::json::value(std::move(states));
  };
}

boost::json::value winner(const std::string& key, const std::string& state) {
  return {{"key", key}, {"state", state}};
}

const boost::json::value& result_of(const model::saved_workflow_state& run) {
  BOOST_TEST_REQUIRE(run.outcome.has_value());
  BOOST_TEST_REQUIRE(
    run.outcome->is_ok(),
    (run.outcome->is_err() ? run.outcome->error().message : std::string{}));
  return run.outcome->value();
}

const model::error& error_of(const model::saved_workflow_state& run) {
  BOOST_TEST_REQUIRE(run.outcome.has_value());
  BOOST_TEST_REQUIRE(run.outcome->is_err());
  return run.outcome->error();
}

/// The actions of `key`'s audit trail, each as "action by actor".
std::vector<std::string> trail(deterministic_engine& env,
                               const std::string& key) {
  std::vector<std::string> out;
  for (const auto& e : test::must(env.approvals->audit_trail(key)))
    out.push_back(e.action + " by " + e.actor);
  return out;
}

/// `key` was cancelled by run `run_id` for `reason`.
void check_cancelled(deterministic_engine& env, const std::string& key,
                     const std::string& run_id, const std::string& reason) {
  auto status = env.approval(key).status;
  BOOST_TEST(status.state == model::approval_state::cancelled, key);
  BOOST_TEST(status.decided_by == "run:" + run_id, key);
  BOOST_TEST(status.reason == reason, key);
  auto actions = trail(env, key);
  BOOST_TEST(actions
               == (std::vector<std::string>{"created by run:" + run_id,
                                            "cancelled by run:" + run_id}),
             boost::test_tools::per_element());
}

decision_reply decide(deterministic_engine& env, model::decision d) {
  env.send_decide(std::move(d));
  env.run();
  return env.reply<decision_reply>();
}

decision_reply grant(deterministic_engine& env, const std::string& key) {
  return decide(env, model::decision::grant(
                       key, boost::json::value(key + "-value"), "jane"));
}

decision_reply reject(deterministic_engine& env, const std::string& key) {
  return decide(env, model::decision::reject(key, "not this one", "bob"));
}

} // namespace several_cases

using namespace several_cases;

BOOST_AUTO_TEST_SUITE(several_approvals)

// The run parks on both keys, each made pending with the step's options
// and listed like any other approval; a grant of the second decides, and
// the first is cancelled by the run as superseded, in its audit trail.
BOOST_DATA_TEST_CASE(first_of_a_grant_on_the_second_key, both_stores, kind) {
  deterministic_engine env{{}, kind};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("first", first_of(n, false));
  auto paused = env.execute("first", input({"a", "b"}), "r1");
  BOOST_TEST(paused.status == model::run_status::paused);
  BOOST_TEST(paused.pending_approvals == (std::vector<std::string>{"a", "b"}),
             boost::test_tools::per_element());
  BOOST_TEST(paused.reason == "Either will do");
  BOOST_TEST(test::must(env.approvals->list_pending("", env.clock.now(), 10))
               == (std::vector<std::string>{"a", "b"}),
             boost::test_tools::per_element());
  for (const auto* key : {"a", "b"}) {
    auto record = env.approval(key);
    BOOST_TEST(record.spec.pending_reason == "Either will do");
    BOOST_TEST(record.spec.run_id == "r1");
  }

  auto report = test::must(grant(env, "b"));
  BOOST_TEST(report.resumed_workflows == std::vector<std::string>{"r1"},
             boost::test_tools::per_element());
  auto run = env.stored("r1");
  BOOST_TEST(run.status == model::run_status::completed);
  BOOST_TEST(result_of(run) == winner("b", "approved"));
  BOOST_TEST(env.approval("b").status.state == model::approval_state::approved);
  check_cancelled(env, "a", "r1", "superseded by 'b'");
  BOOST_TEST(
    test::must(env.approvals->list_pending("", env.clock.now(), 10)).empty());
  BOOST_TEST(n->entries_of("r1") == 1);
  BOOST_TEST(n->steps_of("r1", "before") == 1);
  BOOST_TEST(n->steps_of("r1", "after") == 1);
}

// The wait's checkpoint is durable before any cancel goes out, so a crash
// in between leaves a run that recovery replays and whose replay cancels
// again (recovery_cancels_what_a_crash_left_pending), never a loser
// cancelled by a run that would decide the wait again.
BOOST_DATA_TEST_CASE(the_wait_is_durable_before_its_cancels_go_out, both_stores,
                     kind) {
  deterministic_engine env{{}, kind};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("first", first_of(n, false));
  env.execute("first", input({"a", "b"}), "r1");
  env.send_grant("a");
  bool cancel_seen = false;
  env.step_until(
    [&](caf::scheduled_actor& to, const caf::message& m) {
      if (std::string_view{to.name()} != "signoff.registry_shard"
          || !m.match_elements<actors::decide_atom, actors::decision_request>()
          || m.get_as<actors::decision_request>(1).decision.kind
               != model::decision_kind::cancel)
        return;
      cancel_seen = true;
      auto run = env.stored("r1");
      BOOST_TEST(run.checkpoints.contains(R"(first-of:["a","b"])"));
      BOOST_TEST(run.status == model::run_status::running);
      BOOST_TEST(run.pending_approvals.empty());
    },
    [&] { return cancel_seen; });
  BOOST_TEST(cancel_seen);
  env.run();
  test::must(env.reply<decision_reply>());
  check_cancelled(env, "b", "r1", "superseded by 'a'");
}

// A rejection decides the wait as well as a grant: the plain form fails
// the run with APPROVAL_REJECTED, the try form returns it; the other key is
// cancelled either way.
BOOST_DATA_TEST_CASE(first_of_a_rejection_decides, both_stores, kind) {
  for (const bool try_form : {false, true}) {
    deterministic_engine env{{}, kind};
    auto n = std::make_shared<test::entry_counters>();
    env.register_workflow("first", first_of(n, try_form));
    env.execute("first", input({"a", "b"}), "r1");
    test::must(reject(env, "a"));
    auto run = env.stored("r1");
    if (try_form) {
      BOOST_TEST(run.status == model::run_status::completed);
      BOOST_TEST(result_of(run) == winner("a", "rejected"));
      BOOST_TEST(n->steps_of("r1", "after") == 1);
    } else {
      BOOST_TEST(run.status == model::run_status::failed);
      BOOST_TEST(error_of(run).type == model::error_type::approval_rejected);
      BOOST_TEST(error_of(run).message == "not this one");
      BOOST_TEST(n->steps_of("r1", "after") == 0);
    }
    check_cancelled(env, "b", "r1", "superseded by 'a'");
  }
}

// Keys decided before any run asked: of the two, the one decided earlier
// wins although it comes second, the run never pauses, and the third key,
// which nobody made, is not made only to be cancelled.
BOOST_DATA_TEST_CASE(first_of_keys_decided_before_the_run, both_stores, kind) {
  deterministic_engine env{{}, kind};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("first", first_of(n, false));
  test::must(grant(env, "b"));
  env.advance_time(1s);
  test::must(grant(env, "a"));
  env.advance_time(1s);

  auto done = env.execute("first", input({"a", "b", "c"}), "r1");
  BOOST_TEST(done.status == model::run_status::completed);
  BOOST_TEST(result_of(env.stored("r1")) == winner("b", "approved"));
  BOOST_TEST(env.approval("a").status.state == model::approval_state::approved);
  BOOST_TEST(!test::must(env.approvals->find_approval("c")).has_value());
  BOOST_TEST(n->steps_of("r1", "after") == 1);
}

// Two decisions on the two keys reach the shard back to back: the first
// wins, and the second, decided before the run could cancel its key, stays
// as it was decided (a decided approval never changes).
BOOST_DATA_TEST_CASE(first_of_a_loser_decided_meanwhile_stays_decided,
                     both_stores, kind) {
  deterministic_engine env{{}, kind};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("first", first_of(n, false));
  env.execute("first", input({"a", "b"}), "r1");
  env.send_grant("a");
  env.send_decide(model::decision::reject("b", "too late", "bob"));
  env.run();
  test::must(env.reply<decision_reply>());
  test::must(env.reply<decision_reply>());
  BOOST_TEST(result_of(env.stored("r1")) == winner("a", "approved"));
  auto b = env.approval("b").status;
  BOOST_TEST(b.state == model::approval_state::rejected);
  BOOST_TEST(b.decided_by == "bob");
  BOOST_TEST(
    trail(env, "b")
      == (std::vector<std::string>{"created by run:r1", "rejected by bob"}),
    boost::test_tools::per_element());
}

// Both keys expire at the same deadline: an expiry decides like any
// decision, the tie goes to the key given first, and the other, expired
// too, is not cancelled.
BOOST_DATA_TEST_CASE(first_of_expiries_tie_to_the_first_key, both_stores,
                     kind) {
  deterministic_engine env{{}, kind};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("first", first_of(n, true));
  env.execute("first", input({"a", "b"}), "r1");
  env.advance_time(std::chrono::hours{24 * 8});
  env.run();
  BOOST_TEST(result_of(env.stored("r1")) == winner("a", "expired"));
  BOOST_TEST(
    trail(env, "b")
      == (std::vector<std::string>{"created by run:r1", "expired by system"}),
    boost::test_tools::per_element());
}

// Cancelling a run that waits on several keys cancels every one of them,
// as it does the one key of a plain approval.
BOOST_DATA_TEST_CASE(cancel_run_cancels_every_key_of_the_wait, both_stores,
                     kind) {
  deterministic_engine env{{}, kind};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("all", all_of(n, false));
  env.execute("all", input({"x", "y", "z"}), "r1");
  test::must(grant(env, "y"));
  env.send(actors::cancel_run_atom_v,
           actors::cancel_run_request{"r1", "no longer needed", "ops"});
  env.run();
  auto cancelled = test::must(env.reply<execution_reply>());
  BOOST_TEST(cancelled.status == model::run_status::cancelled);
  BOOST_TEST(cancelled.pending_approvals
               == (std::vector<std::string>{"x", "z"}),
             boost::test_tools::per_element());
  for (const auto* key : {"x", "z"}) {
    auto status = env.approval(key).status;
    BOOST_TEST(status.state == model::approval_state::cancelled, key);
    BOOST_TEST(status.decided_by == "ops", key);
  }
  BOOST_TEST(env.approval("y").status.state == model::approval_state::approved);
}

// Every run passivates at each pause: the grant re-activates the run,
// whose replay decides the wait, and the next decision replays it once
// more over the wait's checkpoint. The key that decided stays the one the
// checkpoint names even once its approval is gone from the store, the
// loser is cancelled once, and no step runs twice.
BOOST_DATA_TEST_CASE(first_of_replays_after_passivation, both_stores, kind) {
  deterministic_engine env{
    [](actors::orchestrator_config& c) { c.max_resident_runs = 0; }, kind};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("first", first_of(n, false));
  env.execute("first", input({"a", "b"}, "next"), "r1");
  BOOST_TEST(env.resident() == 0U);

  test::must(grant(env, "b"));
  auto paused = env.stored("r1");
  BOOST_TEST(paused.status == model::run_status::paused);
  BOOST_TEST(paused.pending_approvals == std::vector<std::string>{"next"},
             boost::test_tools::per_element());
  check_cancelled(env, "a", "r1", "superseded by 'b'");
  BOOST_TEST(env.resident() == 0U);

  // Were the wait decided again, "b" (gone) would be pending and "a"
  // (cancelled) would win.
  BOOST_TEST(test::must(env.approvals->remove_approval("b")));
  test::must(grant(env, "next"));
  auto run = env.stored("r1");
  BOOST_TEST(run.status == model::run_status::completed);
  BOOST_TEST(result_of(run) == winner("b", "approved"));
  check_cancelled(env, "a", "r1", "superseded by 'b'");
  BOOST_TEST(n->entries_of("r1") == 3);
  BOOST_TEST(n->steps_of("r1", "before") == 1);
  BOOST_TEST(n->steps_of("r1", "after") == 1);
}

// The process died after the run's checkpoint of the wait was durable and
// before its cancel was: the store holds the run as running, its wait's
// checkpoint naming the winner, and the loser still pending. Recovery
// replays the run, which cancels the loser and goes on without running a
// checkpointed step again.
BOOST_DATA_TEST_CASE(recovery_cancels_what_a_crash_left_pending, both_stores,
                     kind) {
  auto n = std::make_shared<test::entry_counters>();
  deterministic_engine env{
    [](actors::orchestrator_config& c) {
      const auto now = c.clock();
      auto& approvals = *c.approval_store;
      model::approval_spec spec;
      spec.run_id = "r1";
      spec.workflow_name = "first";
      for (const auto* key : {"a", "b"})
        test::must(approvals.create_approval(key, spec, "run:r1", now));
      auto granted
        = test::must(
            approvals.decide(model::decision::grant("a", "yes", "jane"), now))
            .record.status;
      model::approval_wait wait;
      wait.rule = model::wait_rule::first;
      wait.keys = {"a", "b"};
      wait.statuses = {granted, {}};
      model::saved_workflow_state run;
      run.run_id = "r1";
      run.workflow_name = "first";
      run.status = model::run_status::running;
      run.input = input({"a", "b"});
      run.started_at = run.updated_at = now;
      run.approval_keys = {"a", "b"};
      run.checkpoints.emplace("before", model::ok(boost::json::value{}));
      run.checkpoints.emplace(R"(first-of:["a","b"])",
                              model::detail::several_checkpoint(wait));
      test::must(c.workflow_state_store->save(run));
    },
    kind};
  env.register_workflow("first", first_of(n, false));
  env.run();
  auto run = env.stored("r1");
  BOOST_TEST(run.status == model::run_status::completed);
  BOOST_TEST(result_of(run) == winner("a", "approved"));
  check_cancelled(env, "b", "r1", "superseded by 'a'");
  BOOST_TEST(n->entries_of("r1") == 1);
  BOOST_TEST(n->steps_of("r1", "before") == 0);
  BOOST_TEST(n->steps_of("r1", "after") == 1);
}

// All of several, decided in any order: the run stays paused on the keys
// left (a decision that leaves some does not count as resuming it) and
// goes on once the last is decided, with each key's status in the order
// given.
BOOST_DATA_TEST_CASE(all_of_in_any_decision_order, both_stores, kind) {
  const std::vector<std::vector<std::string>> orders{{"z", "x", "y"},
                                                     {"x", "y", "z"}};
  for (const bool try_form : {false, true})
    for (const auto& order : orders) {
      deterministic_engine env{{}, kind};
      auto n = std::make_shared<test::entry_counters>();
      env.register_workflow("all", all_of(n, try_form));
      env.execute("all", input({"x", "y", "z"}), "r1");
      std::vector<std::string> left{"x", "y", "z"};
      for (std::size_t i = 0; i < order.size(); ++i) {
        auto report = test::must(grant(env, order[i]));
        std::erase(left, order[i]);
        auto run = env.stored("r1");
        if (i + 1 < order.size()) {
          BOOST_TEST(report.resumed_workflows.empty());
          BOOST_TEST(run.status == model::run_status::paused);
          BOOST_TEST(run.pending_approvals == left,
                     boost::test_tools::per_element());
        } else {
          BOOST_TEST(report.resumed_workflows == std::vector<std::string>{"r1"},
                     boost::test_tools::per_element());
          BOOST_TEST(run.status == model::run_status::completed);
          BOOST_TEST(
            result_of(run)
            == boost::json::value({"x=approved", "y=approved", "z=approved"}));
        }
      }
      BOOST_TEST(n->entries_of("r1") == 1);
    }
}

// One rejection among all of several: the plain form fails the run at once
// and cancels the key still pending, as not needed; the try form waits for
// the last key and returns every status.
BOOST_DATA_TEST_CASE(all_of_with_one_rejection, both_stores, kind) {
  {
    deterministic_engine env{{}, kind};
    auto n = std::make_shared<test::entry_counters>();
    env.register_workflow("all", all_of(n, false));
    env.execute("all", input({"x", "y", "z"}), "r1");
    test::must(grant(env, "x"));
    test::must(reject(env, "y"));
    auto run = env.stored("r1");
    BOOST_TEST(run.status == model::run_status::failed);
    BOOST_TEST(error_of(run).type == model::error_type::approval_rejected);
    check_cancelled(env, "z", "r1", "not needed: 'y' was rejected");
    BOOST_TEST(env.approval("x").status.state
               == model::approval_state::approved);
  }
  {
    deterministic_engine env{{}, kind};
    auto n = std::make_shared<test::entry_counters>();
    env.register_workflow("all", all_of(n, true));
    env.execute("all", input({"x", "y", "z"}), "r1");
    test::must(reject(env, "y"));
    BOOST_TEST(env.stored("r1").status == model::run_status::paused);
    test::must(grant(env, "z"));
    test::must(grant(env, "x"));
    BOOST_TEST(
      result_of(env.stored("r1"))
      == boost::json::value({"x=approved", "y=rejected", "z=approved"}));
  }
}

// Bad lists of keys fail the run with INVALID_ARGUMENT naming the problem,
// in both forms, and make no approval at all.
BOOST_DATA_TEST_CASE(bad_keys_fail_the_run_and_make_nothing, both_stores,
                     kind) {
  std::vector<std::string> too_many;
  for (std::size_t i = 0; i <= model::max_wait_keys; ++i)
    too_many.push_back("k" + std::to_string(i));
  using keys = std::vector<std::string>;
  const std::vector<std::pair<keys, std::string>> cases{
    {keys{}, "at least one key"},
    {keys{"a", "b", "a"}, "given twice"},
    {keys{"a", ""}, "must not be empty"},
    {keys{"a", std::string(model::max_approval_key_bytes + 1, 'k')}, "longer"},
    {too_many, "at most 64 keys"},
  };
  deterministic_engine env{{}, kind};
  auto n = std::make_shared<test::entry_counters>();
  env.register_workflow("first", first_of(n, true));
  env.register_workflow("all", all_of(n, false));
  int i = 0;
  for (const auto& [keys, says] : cases)
    for (const auto* name : {"first", "all"}) {
      boost::json::object in;
      in["keys"] = boost::json::array(keys.begin(), keys.end());
      const auto id = "r" + std::to_string(++i);
      auto done = env.execute(name, in, id);
      BOOST_TEST(done.status == model::run_status::failed);
      auto run = env.stored(id);
      const auto& e = error_of(run);
      BOOST_TEST(e.type == model::error_type::invalid_argument);
      BOOST_TEST(e.message.find(says) != std::string::npos, e.message);
      BOOST_TEST(run.approval_keys.empty());
    }
  BOOST_TEST(
    test::must(env.approvals->list_pending("", env.clock.now(), 100)).empty());
  BOOST_TEST(!test::must(env.approvals->find_approval("a")).has_value());
}

// A restart of the orchestrator over the same LMDB directory after the
// wait was decided: the new process replays the run over the wait's
// checkpoint (the decided key's approval removed meanwhile, so deciding
// the wait again would answer otherwise) and no step runs twice.
BOOST_AUTO_TEST_CASE(first_of_replays_after_a_restart) {
  test::temp_dir dir;
  auto n = std::make_shared<test::entry_counters>();
  auto open = [&dir] {
    auto opened = persistence::open_lmdb_stores(
      {.path = dir.str(), .durability = persistence::lmdb_durability::no_sync});
    BOOST_TEST_REQUIRE(opened.is_ok());
    return opened.value();
  };
  {
    auto stores = open();
    orchestrator orch{test::lmdb_orchestrator_options(stores)};
    test::must(orch.register_workflow("first", first_of(n, false)));
    test::must(
      orch.execute("first", input({"a", "b"}, "next"), {.run_id = "r1"}));
    auto report = test::must(orch.grant_approval("b", "yes", {"jane"}));
    BOOST_TEST(report.resumed_workflows == std::vector<std::string>{"r1"},
               boost::test_tools::per_element());
  }
  {
    auto stores = open();
    BOOST_TEST(test::must(stores.approvals->remove_approval("b")));
    orchestrator orch{test::lmdb_orchestrator_options(stores)};
    test::must(orch.register_workflow("first", first_of(n, false)));
    test::must(orch.grant_approval("next", "go", {"jane"}));
    auto run = test::must(orch.get_workflow_status("r1"));
    BOOST_TEST(run.status == model::run_status::completed);
    BOOST_TEST_REQUIRE(run.outcome.has_value());
    BOOST_TEST(run.outcome->value() == winner("b", "approved"));
    auto a = test::must(stores.approvals->find_approval("a"));
    BOOST_TEST_REQUIRE(a.has_value());
    BOOST_TEST(a->status.state == model::approval_state::cancelled);
    BOOST_TEST(a->status.reason == "superseded by 'b'");
    BOOST_TEST(test::must(stores.approvals->audit_trail("a")).size() == 2U);
  }
  BOOST_TEST(n->entries_of("r1") == 2);
  BOOST_TEST(n->steps_of("r1", "before") == 1);
  BOOST_TEST(n->steps_of("r1", "after") == 1);
}

BOOST_AUTO_TEST_SUITE_END()
