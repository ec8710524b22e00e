#include "signoff/orchestrator.hpp"

#include <barrier>
#include <mutex>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

using namespace signoff;

BOOST_AUTO_TEST_SUITE(concurrency)

BOOST_AUTO_TEST_CASE(one_of_32_concurrent_deciders_wins) {
  auto after = std::make_shared<std::atomic<int>>(0);
  orchestrator orch;
  orch.register_workflow("single", test::single_approval_workflow(after, true));
  auto run = orch.execute("single", test::key_input("contested"));
  BOOST_REQUIRE(run.is_ok());

  constexpr int deciders = 32;
  std::barrier start{deciders};
  std::mutex m;
  std::vector<model::result<decision_report>> results;
  std::vector<std::thread> threads;
  for (int i = 0; i < deciders; ++i)
    threads.emplace_back([&, i] {
      const auto who = "approver-" + std::to_string(i);
      start.arrive_and_wait();
      auto r = i % 2 == 0
                 ? orch.grant_approval("contested", i, {.approved_by = who})
                 : orch.reject_approval("contested", "no " + who,
                                        {.rejected_by = who});
      std::lock_guard guard{m};
      results.push_back(std::move(r));
    });
  for (auto& t : threads)
    t.join();

  const auto winner = orch.get_approval("contested").value().status;
  BOOST_TEST(!winner.is_pending());
  int wins = 0;
  for (const auto& r : results) {
    if (r.is_ok()) {
      ++wins;
      BOOST_TEST(r->applied);
      continue;
    }
    BOOST_TEST(r.error().type == "APPROVAL_CONFLICT");
    BOOST_TEST(r.error().details.at("decidedBy").as_string()
               == winner.decided_by);
  }
  BOOST_TEST(wins == 1);
  BOOST_TEST(*after == 1);
  // The trail holds the creation and exactly one decision.
  BOOST_TEST(orch.audit_trail("contested")->size() == 2U);
  // The winner repeating itself is a no-op, not a conflict.
  auto repeat = winner.state == model::approval_state::approved
                  ? orch.grant_approval("contested", winner.value,
                                        {.approved_by = winner.decided_by})
                  : orch.reject_approval("contested", winner.reason,
                                         {.rejected_by = winner.decided_by});
  BOOST_REQUIRE(repeat.is_ok());
  BOOST_TEST(!repeat->applied);
  BOOST_TEST(orch.audit_trail("contested")->size() == 2U);
}

BOOST_AUTO_TEST_CASE(concurrent_resumes_and_wakes_execute_a_run_once) {
  auto after = std::make_shared<std::atomic<int>>(0);
  orchestrator orch;
  orch.register_workflow("single",
                         test::single_approval_workflow(after, false));
  auto run = orch.execute("single", test::key_input("once"));
  BOOST_REQUIRE(run.is_ok());
  BOOST_REQUIRE(orch
                  .grant_approval("once", "v",
                                  {.approved_by = "jane", .auto_resume = false})
                  .is_ok());

  constexpr int callers = 32;
  std::barrier start{callers};
  std::atomic<int> completed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < callers; ++i)
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      if (i % 2 == 0) {
        auto r = orch.resume(run->run_id);
        if (r.is_ok() && r->status == model::run_status::completed)
          ++completed;
      } else {
        // The same decision again: a no-op that still wakes the run.
        auto r = orch.grant_approval("once", "v", {.approved_by = "jane"});
        if (r.is_ok() && !r->applied)
          ++completed;
      }
    });
  for (auto& t : threads)
    t.join();
  BOOST_TEST(completed == callers);
  BOOST_TEST(*after == 1);
  auto s = orch.get_workflow_status(run->run_id);
  BOOST_TEST(to_string(s->status) == "completed");
  BOOST_TEST(s->outcome->value().as_string() == "v");
}

BOOST_AUTO_TEST_CASE(ten_thousand_paused_runs_granted_from_four_threads) {
  constexpr int runs = 10'000;
  constexpr int threads_n = 4;
  auto counters = std::make_shared<test::order_counters>();
  orchestrator orch;
  orch.register_workflow("order-approval", test::order_workflow(counters));

  auto in_parallel = [](const std::function<void(int)>& body) {
    std::vector<std::thread> threads;
    for (int t = 0; t < threads_n; ++t)
      threads.emplace_back([&body, t] {
        for (int i = t; i < runs; i += threads_n)
          body(i);
      });
    for (auto& th : threads)
      th.join();
  };

  std::atomic<int> paused{0};
  in_parallel([&](int i) {
    auto r = orch.execute("order-approval",
                          test::order_input("ord_" + std::to_string(i)));
    if (r.is_ok() && r->status == model::run_status::paused)
      ++paused;
  });
  BOOST_REQUIRE_EQUAL(paused.load(), runs);
  BOOST_TEST(orch.list_pending_workflows("order-approval")->size()
             == std::size_t{runs});
  BOOST_TEST(counters->fulfil_order == 0);

  std::atomic<int> resumed{0};
  in_parallel([&](int i) {
    auto r
      = orch.grant_approval("approval:manager:ord_" + std::to_string(i),
                            {{"approvedBy", "jane"}}, {.approved_by = "jane"});
    if (r.is_ok() && r->resumed_workflows.size() == 1)
      ++resumed;
  });
  BOOST_TEST(resumed == runs);
  BOOST_TEST(counters->create_order == runs);
  BOOST_TEST(counters->fulfil_order == runs);
  BOOST_TEST(orch.list_pending_workflows()->empty());
  BOOST_TEST(orch.list_pending_approvals()->empty());
}

BOOST_AUTO_TEST_SUITE_END()
