#include "signoff/webhook.hpp"

#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

using namespace signoff;

namespace {

/// An orchestrator with one run waiting on "approval:order:1".
struct waiting_run {
  std::shared_ptr<std::atomic<int>> after
    = std::make_shared<std::atomic<int>>(0);
  orchestrator orch;
  approval_webhook_handler handle{orch};
  std::string run_id;

  waiting_run() {
    orch.register_workflow("single",
                           test::single_approval_workflow(after, true));
    run_id = orch.execute("single", test::key_input("approval:order:1"))
               .value()
               .run_id;
  }

  /// Everything a refused body must leave as it was.
  std::string snapshot() {
    auto record = orch.get_approval("approval:order:1").value();
    auto trail = orch.audit_trail("approval:order:1").value();
    auto run = orch.get_workflow_status(run_id).value();
    return boost::json::serialize(boost::json::value_from(record))
           + boost::json::serialize(boost::json::value_from(trail))
           + boost::json::serialize(boost::json::value_from(run));
  }

  void expect_refused(std::string_view body, std::string_view message_part) {
    const auto before = snapshot();
    auto response = handle.handle_text(body);
    BOOST_TEST(!response.success, body);
    BOOST_TEST(response.message.find(message_part) != std::string::npos,
               response.message << " lacks " << message_part);
    BOOST_TEST(snapshot() == before);
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(webhook)

BOOST_AUTO_TEST_CASE(approve_resumes_the_run) {
  waiting_run f;
  auto response = f.handle.handle_text(
    R"({"key":"approval:order:1","action":"approve",)"
    R"("value":{"approvedBy":"jane"},"actorId":"jane@example.com"})");
  BOOST_TEST(response.success);
  BOOST_TEST(response.message == "approval 'approval:order:1' approved");
  BOOST_TEST(
    boost::json::serialize(response.to_json())
    == R"({"success":true,"message":"approval 'approval:order:1' approved"})");
  auto status = f.orch.get_workflow_status(f.run_id).value();
  BOOST_TEST(to_string(status.status) == "completed");
  BOOST_TEST(status.outcome->value().at("value").at("approvedBy").as_string()
             == "jane");
  auto record = f.orch.get_approval("approval:order:1").value();
  BOOST_TEST(record.status.decided_by == "jane@example.com");
}

BOOST_AUTO_TEST_CASE(reject_edit_and_cancel_actions) {
  {
    waiting_run f;
    auto r
      = f.handle.handle_text(R"({"key":"approval:order:1","action":"reject",)"
                             R"("reason":"Budget exceeded","actorId":"john"})");
    BOOST_TEST(r.success);
    auto s = f.orch.get_workflow_status(f.run_id).value();
    BOOST_TEST(s.outcome->value().at("branch").as_string()
               == "APPROVAL_REJECTED");
  }
  {
    waiting_run f;
    auto r = f.handle.handle_text(
      R"({"key":"approval:order:1","action":"edit","value":{"qty":5}})");
    BOOST_TEST(r.success);
    BOOST_TEST(to_string(f.orch.get_approval("approval:order:1")->status.state)
               == "edited");
  }
  {
    waiting_run f;
    auto r
      = f.handle.handle_text(R"({"key":"approval:order:1","action":"cancel"})");
    BOOST_TEST(r.success);
    auto s = f.orch.get_workflow_status(f.run_id).value();
    BOOST_TEST(s.outcome->value().at("branch").as_string()
               == "APPROVAL_CANCELLED");
  }
}

BOOST_AUTO_TEST_CASE(bad_bodies_are_refused_and_change_nothing) {
  waiting_run f;
  f.expect_refused(R"({"action":"approve"})", "'key' is missing");
  f.expect_refused(R"({"key":42,"action":"approve"})",
                   "'key' must be a string");
  f.expect_refused(R"({"key":"","action":"approve"})", "must not be empty");
  f.expect_refused(R"({"key":"approval:order:1","action":"bless"})",
                   "unknown action 'bless'");
  f.expect_refused(R"({"key":"approval:order:1"})", "'action' must be one of");
  f.expect_refused(R"({"key":"approval:order:1","action":"reject"})",
                   "needs a non-empty 'reason'");
  f.expect_refused(
    R"({"key":"approval:order:1","action":"reject","reason":""})",
    "needs a non-empty 'reason'");
  f.expect_refused(R"({"key":"approval:order:1","action":"reject","reason":7})",
                   "'reason' must be a string");
  f.expect_refused(R"({"key":"approval:order:1","action":"edit"})",
                   "needs a 'value'");
  f.expect_refused(
    R"({"key":"approval:order:1","action":"approve","actorId":["x"]})",
    "'actorId' must be a string");
  f.expect_refused(R"({"key":"approval:order:1","action":)", "not valid JSON");
  f.expect_refused(R"(["approval:order:1","approve"])",
                   "must be a JSON object");
  f.expect_refused(R"({"key":"approval:unknown","action":"approve"})",
                   "no approval 'approval:unknown' exists");
  std::string huge
    = R"({"key":"approval:order:1","action":"approve","value":")"
      + std::string(approval_webhook_handler::max_body_bytes, 'x') + R"("})";
  f.expect_refused(huge, "larger than");
  BOOST_TEST(f.orch.get_approval("approval:unknown").error().type
             == "NOT_FOUND");
}

BOOST_AUTO_TEST_CASE(a_second_decision_is_a_conflict) {
  waiting_run f;
  BOOST_TEST(
    f.handle
      .handle_text(
        R"({"key":"approval:order:1","action":"approve","actorId":"a"})")
      .success);
  auto repeat = f.handle.handle_text(
    R"({"key":"approval:order:1","action":"approve","actorId":"a"})");
  BOOST_TEST(repeat.success);
  f.expect_refused(
    R"({"key":"approval:order:1","action":"reject","reason":"r","actorId":"b"})",
    "already approved by a");
}

BOOST_AUTO_TEST_CASE(handler_over_a_store_and_the_approval_checker) {
  auto store = persistence::make_memory_approval_store();
  test::manual_clock clock;
  BOOST_REQUIRE(store->create_approval("k", {}, "test", clock.now()).is_ok());
  approval_webhook_handler handle{store, clock.fn()};
  auto check = approval_checker(store, clock.fn());
  BOOST_TEST(check("k")->is_pending());
  BOOST_TEST(check("unknown")->is_pending());
  auto r = handle(boost::json::parse(
    R"({"key":"k","action":"approve","value":1,"actorId":"jane"})"));
  BOOST_TEST(r.success);
  auto status = check("k").value();
  BOOST_TEST(to_string(status.state) == "approved");
  BOOST_TEST(status.value.as_int64() == 1);
  BOOST_TEST(status.decided_by == "jane");
}

BOOST_AUTO_TEST_SUITE_END()
