#include "signoff/orchestrator.hpp"

#include <algorithm>
#include <map>
#include <mutex>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

using namespace signoff;
using namespace std::chrono_literals;

// Named, not anonymous: Boost.Test's data test cases are templates.
namespace lifecycle_cases {
const auto both_stores = boost::unit_test::data::make(
  {test::store_kind::memory, test::store_kind::lmdb});
} // namespace lifecycle_cases

BOOST_AUTO_TEST_SUITE(lifecycle)

BOOST_AUTO_TEST_CASE(three_approvals_in_sequence_run_each_step_once) {
  auto calls = std::make_shared<std::map<std::string, int>>();
  auto m = std::make_shared<std::mutex>();
  orchestrator orch;
  orch.register_workflow(
    "three",
    [calls, m](signoff::step& step, const boost::json::value&)
      -> signoff::task<model::result<boost::json::value>> {
      auto count = [&](const std::string& name) {
        std::lock_guard guard{*m};
        return ++(*calls)[name];
      };
      // A resident run goes on where it paused: entered once in all.
      count("entry");
      boost::json::array approvers;
      for (const auto* level : {"team", "finance", "ceo"}) {
        co_await step.run(std::string{"prepare-"} + level,
                          [&] { count(level); });
        approvers.push_back(
          co_await step.approval(std::string{"approve:"} + level));
      }
      co_await step.run("ship", [&] { count("ship"); });
      co_return boost::json::value(approvers);
    });
  auto run = orch.execute("three", nullptr);
  BOOST_REQUIRE(run.is_ok());
  for (const auto* level : {"team", "finance", "ceo"}) {
    BOOST_TEST(to_string(orch.get_workflow_status(run->run_id)->status)
               == "paused");
    BOOST_REQUIRE(
      orch.grant_approval(std::string{"approve:"} + level, level).is_ok());
  }
  auto s = orch.get_workflow_status(run->run_id).value();
  BOOST_TEST(to_string(s.status) == "completed");
  BOOST_TEST(boost::json::serialize(s.outcome->value())
             == R"(["team","finance","ceo"])");
  std::lock_guard guard{*m};
  for (const auto* name : {"entry", "team", "finance", "ceo", "ship"})
    BOOST_TEST((*calls)[name] == 1, name);
  BOOST_TEST(s.approval_keys.size() == 3U);
}

BOOST_AUTO_TEST_CASE(execute_errors) {
  auto after = std::make_shared<std::atomic<int>>(0);
  orchestrator orch;
  orch.register_workflow("single",
                         test::single_approval_workflow(after, false));
  auto unknown = orch.execute("missing", nullptr);
  BOOST_REQUIRE(unknown.is_err());
  BOOST_TEST(unknown.error().type == "UNKNOWN_WORKFLOW");
  auto named = orch.execute("single", test::key_input("k"), {.run_id = "r1"});
  BOOST_REQUIRE(named.is_ok());
  BOOST_TEST(named->run_id == "r1");
  auto taken = orch.execute("single", test::key_input("k"), {.run_id = "r1"});
  BOOST_REQUIRE(taken.is_err());
  BOOST_TEST(taken.error().type == "INVALID_ARGUMENT");
  BOOST_TEST(orch.resume("nope").error().type == "NOT_FOUND");
  BOOST_TEST(orch.get_workflow_status("nope").error().type == "NOT_FOUND");
  BOOST_TEST(orch.cancel_run("nope").error().type == "NOT_FOUND");
}

BOOST_AUTO_TEST_CASE(exceptions_fail_the_run_with_unexpected_error) {
  orchestrator orch;
  orch.register_workflow("boom",
                         [](signoff::step& step, const boost::json::value&)
                           -> signoff::task<model::result<boost::json::value>> {
                           co_await step.run("explode", []() -> int {
                             throw std::runtime_error("kaput");
                           });
                           co_return nullptr;
                         });
  auto run = orch.execute("boom", nullptr);
  BOOST_REQUIRE(run.is_ok());
  BOOST_TEST(to_string(run->status) == "failed");
  BOOST_TEST(run->outcome->error().type == "UNEXPECTED_ERROR");
  BOOST_TEST(run->outcome->error().message == "kaput");
}

BOOST_AUTO_TEST_CASE(list_pending_workflows_by_name) {
  auto after = std::make_shared<std::atomic<int>>(0);
  orchestrator orch;
  orch.register_workflow("a", test::single_approval_workflow(after, false));
  orch.register_workflow("b", test::single_approval_workflow(after, false));
  auto a1 = orch.execute("a", test::key_input("ka1")).value();
  auto a2 = orch.execute("a", test::key_input("ka2")).value();
  auto b1 = orch.execute("b", test::key_input("kb1")).value();
  auto as = orch.list_pending_workflows("a").value();
  std::sort(as.begin(), as.end());
  std::vector<std::string> expected{a1.run_id, a2.run_id};
  std::sort(expected.begin(), expected.end());
  BOOST_TEST(as == expected, boost::test_tools::per_element());
  BOOST_TEST(orch.list_pending_workflows().value().size() == 3U);
  BOOST_REQUIRE(orch.grant_approval("ka1", 1).is_ok());
  BOOST_TEST(orch.list_pending_workflows("a").value()
               == std::vector<std::string>{a2.run_id},
             boost::test_tools::per_element());
  BOOST_TEST(orch.list_pending_workflows("b").value()
               == std::vector<std::string>{b1.run_id},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(cancel_run_cancels_it_and_its_approvals) {
  auto after = std::make_shared<std::atomic<int>>(0);
  orchestrator orch;
  orch.register_workflow("single", test::single_approval_workflow(after, true));
  auto target = orch.execute("single", test::key_input("shared")).value();
  auto bystander = orch.execute("single", test::key_input("shared")).value();
  auto cancelled = orch.cancel_run(target.run_id, "customer withdrew");
  BOOST_REQUIRE(cancelled.is_ok());
  BOOST_TEST(to_string(cancelled->status) == "cancelled");
  BOOST_TEST(cancelled->pending_approvals == std::vector<std::string>{"shared"},
             boost::test_tools::per_element());
  auto s = orch.get_workflow_status(target.run_id).value();
  BOOST_TEST(to_string(s.status) == "cancelled");
  BOOST_TEST(s.outcome->error().message == "customer withdrew");
  auto approval = orch.get_approval("shared").value();
  BOOST_TEST(to_string(approval.status.state) == "cancelled");
  BOOST_TEST(approval.status.reason == "customer withdrew");
  // The key is global: the other run waiting on it sees the cancellation.
  auto other = orch.get_workflow_status(bystander.run_id).value();
  BOOST_TEST(other.outcome->value().at("branch").as_string()
             == "APPROVAL_CANCELLED");
  // The cancelled run itself did not execute again.
  BOOST_TEST(*after == 1);
  auto again = orch.cancel_run(target.run_id);
  BOOST_REQUIRE(again.is_err());
  BOOST_TEST(again.error().type == "INVALID_RUN_STATE");
}

BOOST_DATA_TEST_CASE(cancel_run_records_who_cancelled_it,
                     lifecycle_cases::both_stores, kind) {
  test::test_stores stores{kind};
  auto after = std::make_shared<std::atomic<int>>(0);
  std::string named;
  std::string unnamed;
  {
    orchestrator orch{stores.options()};
    orch.register_workflow("single",
                           test::single_approval_workflow(after, true));
    named = orch.execute("single", test::key_input("k-named")).value().run_id;
    unnamed
      = orch.execute("single", test::key_input("k-unnamed")).value().run_id;
    auto cancelled = orch.cancel_run(named, "withdrawn", "ops@example.com");
    BOOST_REQUIRE(cancelled.is_ok());
    BOOST_TEST(cancelled->outcome->error().details.at("cancelledBy")
               == "ops@example.com");
    BOOST_REQUIRE(orch.cancel_run(unnamed).is_ok());
  }
  // A new orchestrator over the same stores reads what was stored.
  orchestrator orch{stores.options()};
  const auto check = [&](const std::string& run_id, const std::string& key,
                         const std::string& actor) {
    auto run = orch.get_workflow_status(run_id).value();
    BOOST_TEST(to_string(run.status) == "cancelled");
    BOOST_TEST(run.cancelled_by == actor);
    BOOST_TEST(run.outcome->error().details.at("cancelledBy") == actor.c_str());
    BOOST_TEST(orch.get_approval(key).value().status.decided_by == actor);
    auto trail = orch.audit_trail(key).value();
    BOOST_REQUIRE(!trail.empty());
    BOOST_TEST(trail.back().action == "cancelled");
    BOOST_TEST(trail.back().actor == actor);
  };
  check(named, "k-named", "ops@example.com");
  // Nobody named: recorded as cancelled on the run's behalf.
  check(unnamed, "k-unnamed", "run:" + unnamed);
}

BOOST_AUTO_TEST_CASE(cleanup_removes_old_finished_runs_never_paused_ones) {
  auto after = std::make_shared<std::atomic<int>>(0);
  test::manual_clock clock;
  orchestrator_options options;
  options.clock = clock.fn();
  orchestrator orch{std::move(options)};
  orch.register_workflow("single",
                         test::single_approval_workflow(after, false));
  auto done = orch.execute("single", test::key_input("old")).value();
  BOOST_REQUIRE(orch.grant_approval("old", 1).is_ok());
  auto waiting = orch.execute("single", test::key_input("waiting")).value();
  clock.advance(48h);
  auto recent = orch.execute("single", test::key_input("recent")).value();
  BOOST_REQUIRE(orch.grant_approval("recent", 1).is_ok());

  // An age older than the epoch removes nothing (and does not overflow).
  auto none = orch.cleanup(model::duration::max());
  BOOST_REQUIRE(none.is_ok());
  BOOST_TEST(none->runs.empty());
  BOOST_TEST(model::to_millis(none->cutoff) == 0);

  auto report = orch.cleanup(model::duration{24h});
  BOOST_REQUIRE(report.is_ok());
  BOOST_TEST(model::to_millis(report->cutoff)
             == model::to_millis(clock.now() - 24h));
  BOOST_TEST(report->runs == std::vector<std::string>{done.run_id},
             boost::test_tools::per_element());
  BOOST_TEST(report->approvals == std::vector<std::string>{"old"},
             boost::test_tools::per_element());
  BOOST_TEST(orch.get_workflow_status(done.run_id).error().type == "NOT_FOUND");
  BOOST_TEST(orch.get_approval("old").error().type == "NOT_FOUND");
  BOOST_TEST(to_string(orch.get_workflow_status(waiting.run_id)->status)
             == "paused");
  BOOST_TEST(orch.get_approval("waiting").value().status.is_pending());
  BOOST_TEST(to_string(orch.get_workflow_status(recent.run_id)->status)
             == "completed");
  // Even a zero age never removes a paused run or its approval.
  clock.advance(1h);
  auto all = orch.cleanup(model::duration{0});
  BOOST_REQUIRE(all.is_ok());
  BOOST_TEST(all->runs == std::vector<std::string>{recent.run_id},
             boost::test_tools::per_element());
  BOOST_TEST(to_string(orch.get_workflow_status(waiting.run_id)->status)
             == "paused");
  BOOST_REQUIRE(orch.grant_approval("waiting", 2).is_ok());
  BOOST_TEST(*after == 3);
}

BOOST_AUTO_TEST_CASE(list_runs_filters_by_workflow_and_status) {
  auto after = std::make_shared<std::atomic<int>>(0);
  orchestrator orch;
  orch.register_workflow("single",
                         test::single_approval_workflow(after, false));
  auto done = orch.execute("single", test::key_input("a"), {"run-a", {}});
  auto waiting = orch.execute("single", test::key_input("b"), {"run-b", {}});
  BOOST_REQUIRE(done.is_ok() && waiting.is_ok());
  BOOST_REQUIRE(orch.grant_approval("a", 1).is_ok());
  using ids = std::vector<std::string>;
  BOOST_TEST(orch.list_runs().value() == (ids{"run-a", "run-b"}),
             boost::test_tools::per_element());
  BOOST_TEST(orch.list_runs({.status = model::run_status::completed}).value()
               == ids{"run-a"},
             boost::test_tools::per_element());
  BOOST_TEST(orch.list_runs({.workflow_name = "single",
                             .status = model::run_status::paused})
                 .value()
               == ids{"run-b"},
             boost::test_tools::per_element());
  BOOST_TEST(orch.list_runs({.workflow_name = "other"}).value().empty());
}

BOOST_AUTO_TEST_SUITE_END()
