#include "signoff/actors/orchestrator_actor.hpp"

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "fixtures.hpp"

using namespace signoff;
using namespace std::string_literals;

BOOST_AUTO_TEST_SUITE(typed_api)

// The Quick Start again, driven only by typed messages from a scoped actor,
// as a server that is itself an actor would.
BOOST_AUTO_TEST_CASE(quick_start_through_typed_messages) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto orch = actors::spawn_orchestrator(sys, {});
  auto counters = std::make_shared<test::order_counters>();
  {
    caf::scoped_actor self{sys};
    auto fail = [](caf::error& e) {
      BOOST_FAIL(to_string(e));
    };

    self
      ->request(orch, caf::infinite, actors::register_atom_v,
                actors::workflow_registration{"order-approval",
                                              test::order_workflow(counters)})
      .receive([](bool registered) { BOOST_TEST(registered); }, fail);

    std::string run_id;
    self
      ->request(orch, caf::infinite, actors::execute_atom_v,
                actors::execute_request{.workflow_name = "order-approval",
                                        .input = test::order_input("ord_123")})
      .receive(
        [&](model::result<model::execution_result>& r) {
          BOOST_REQUIRE(r.is_ok());
          BOOST_TEST(to_string(r->status) == "paused");
          BOOST_REQUIRE_EQUAL(r->pending_approvals.size(), 1U);
          BOOST_TEST(r->pending_approvals[0] == "approval:manager:ord_123");
          run_id = r->run_id;
        },
        fail);

    self
      ->request(orch, caf::infinite, actors::decide_atom_v,
                actors::decision_request{model::decision::grant(
                  "approval:manager:ord_123",
                  {{"approvedBy", "jane@example.com"}}, "jane@example.com")})
      .receive(
        [&](model::result<actors::decision_report>& r) {
          BOOST_REQUIRE(r.is_ok());
          BOOST_TEST(to_string(r->approval.status.state) == "approved");
          BOOST_REQUIRE_EQUAL(r->resumed_workflows.size(), 1U);
          BOOST_TEST(r->resumed_workflows[0] == run_id);
        },
        fail);

    self->request(orch, caf::infinite, actors::status_atom_v, run_id)
      .receive(
        [&](model::result<model::saved_workflow_state>& r) {
          BOOST_REQUIRE(r.is_ok());
          BOOST_TEST(to_string(r->status) == "completed");
          BOOST_REQUIRE(r->outcome && r->outcome->is_ok());
          BOOST_TEST(r->outcome->value().at("orderId").as_string()
                     == "ord_123");
          BOOST_TEST(r->outcome->value().at("approvedBy").as_string()
                     == "jane@example.com");
        },
        fail);

    self
      ->request(orch, caf::infinite, actors::audit_atom_v,
                "approval:manager:ord_123"s)
      .receive(
        [&](model::result<std::vector<model::audit_entry>>& r) {
          BOOST_REQUIRE(r.is_ok());
          BOOST_REQUIRE_EQUAL(r->size(), 2U);
          BOOST_TEST(r->at(0).action == "created");
          BOOST_TEST(r->at(1).action == "approved");
          BOOST_TEST(r->at(1).actor == "jane@example.com");
        },
        fail);
  }
  BOOST_TEST(counters->create_order == 1);
  BOOST_TEST(counters->fulfil_order == 1);
  caf::anon_send_exit(orch, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(errors_travel_as_values) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto orch = actors::spawn_orchestrator(sys, {});
  {
    caf::scoped_actor self{sys};
    self
      ->request(orch, caf::infinite, actors::execute_atom_v,
                actors::execute_request{.workflow_name = "nope"})
      .receive(
        [](model::result<model::execution_result>& r) {
          BOOST_REQUIRE(r.is_err());
          BOOST_TEST(r.error().type == "UNKNOWN_WORKFLOW");
        },
        [](caf::error& e) { BOOST_FAIL(to_string(e)); });
    self->request(orch, caf::infinite, actors::status_atom_v, "run_x"s)
      .receive(
        [](model::result<model::saved_workflow_state>& r) {
          BOOST_REQUIRE(r.is_err());
          BOOST_TEST(r.error().type == "NOT_FOUND");
        },
        [](caf::error& e) { BOOST_FAIL(to_string(e)); });
  }
  caf::anon_send_exit(orch, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_SUITE_END()
