#include "signoff/orchestrator.hpp"

#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"
#include "support/kv_stores.hpp"

using namespace signoff;

BOOST_AUTO_TEST_SUITE(quick_start)

BOOST_AUTO_TEST_CASE(order_pauses_then_completes_after_grant) {
  auto counters = std::make_shared<test::order_counters>();
  orchestrator orch;
  orch.register_workflow("order-approval", test::order_workflow(counters));

  auto paused = orch.execute("order-approval", test::order_input("ord_123"));
  BOOST_REQUIRE(paused.is_ok());
  BOOST_TEST(to_string(paused->status) == "paused");
  BOOST_TEST(!paused->run_id.empty());
  BOOST_REQUIRE_EQUAL(paused->pending_approvals.size(), 1U);
  BOOST_TEST(paused->pending_approvals[0] == "approval:manager:ord_123");
  BOOST_TEST(paused->reason == "Waiting for manager approval");
  BOOST_TEST(counters->fulfil_order == 0);

  auto granted = orch.grant_approval("approval:manager:ord_123",
                                     {{"approvedBy", "jane@example.com"}},
                                     {.approved_by = "jane@example.com"});
  BOOST_REQUIRE(granted.is_ok());
  BOOST_TEST(granted->applied);
  BOOST_REQUIRE_EQUAL(granted->resumed_workflows.size(), 1U);
  BOOST_TEST(granted->resumed_workflows[0] == paused->run_id);

  auto status = orch.get_workflow_status(paused->run_id);
  BOOST_REQUIRE(status.is_ok());
  BOOST_TEST(to_string(status->status) == "completed");
  BOOST_REQUIRE(status->outcome.has_value());
  BOOST_REQUIRE(status->outcome->is_ok());
  const auto& value = status->outcome->value();
  BOOST_TEST(value.at("orderId").as_string() == "ord_123");
  BOOST_TEST(value.at("approvedBy").as_string() == "jane@example.com");
  BOOST_TEST(counters->create_order == 1);
  BOOST_TEST(counters->fulfil_order == 1);

  // Resuming a completed run answers its result and runs nothing again.
  auto again = orch.resume(paused->run_id);
  BOOST_REQUIRE(again.is_ok());
  BOOST_TEST(to_string(again->status) == "completed");
  BOOST_TEST(counters->create_order == 1);
  BOOST_TEST(counters->fulfil_order == 1);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(quick_start)

// A store a user wrote over a plain key-value map (no indexes, no group
// commit) still carries the whole cycle.
BOOST_AUTO_TEST_CASE(order_completes_on_a_user_written_store) {
  auto db = std::make_shared<test::kv_database>();
  orchestrator_options options;
  options.approval_store = std::make_shared<test::kv_approval_store>(db);
  options.workflow_state_store
    = std::make_shared<test::kv_workflow_state_store>(db);
  auto counters = std::make_shared<test::order_counters>();
  orchestrator orch{std::move(options)};
  orch.register_workflow("order-approval", test::order_workflow(counters));
  auto paused = orch.execute("order-approval", test::order_input("ord_7"));
  BOOST_REQUIRE(paused.is_ok());
  BOOST_TEST(to_string(paused->status) == "paused");
  BOOST_TEST(db->documents.contains("approval/approval:manager:ord_7"));
  auto granted
    = orch.grant_approval("approval:manager:ord_7", {{"approvedBy", "jane"}});
  BOOST_REQUIRE(granted.is_ok());
  BOOST_TEST(granted->resumed_workflows.size() == 1U);
  auto status = orch.get_workflow_status(paused->run_id).value();
  BOOST_TEST(to_string(status.status) == "completed");
  BOOST_TEST(counters->create_order == 1);
  BOOST_TEST(counters->fulfil_order == 1);
}

BOOST_AUTO_TEST_SUITE_END()
