// The read-only commands: pending, show, runs and status, as text and as
// JSON, and what they answer for something that does not exist.

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

using namespace signoff;
using test::cli_fixture;
namespace json = boost::json;

namespace {

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

/// The "key" of every approval in a `pending --json` answer.
std::vector<std::string> keys_of(const json::value& answer) {
  std::vector<std::string> out;
  for (const auto& a : answer.at("approvals").as_array())
    out.emplace_back(a.at("key").as_string());
  return out;
}

/// Pending, decided and expired approvals, and runs in each state.
struct seeded : cli_fixture {
  seeded() {
    add_approval("approval:order:1", "Manager sign-off");
    add_approval("approval:order:2", "Two directors", 2);
    add_approval("approval:expense:9", "Finance sign-off");
    add_approval("approval:order:late", "Too late", 1, now() - hour);
    add_approval("approval:order:done", "Decided");
    grant("approval:order:done");
    add_run("run-1", "order-approval", model::run_status::paused,
            {"approval:order:1"}, {"approval:order:1"}, hour);
    add_run("run-2", "order-approval", model::run_status::completed, {},
            {"approval:order:done"}, day);
    add_run("run-3", "expense", model::run_status::paused,
            {"approval:expense:9"}, {"approval:expense:9"}, hour);
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(cli_queries)

BOOST_FIXTURE_TEST_CASE(pending_lists_undecided_unexpired_approvals, seeded) {
  auto r = run({"pending"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.err.empty());
  BOOST_TEST(contains(r.out, "approval:order:1"));
  BOOST_TEST(contains(r.out, "Manager sign-off"));
  BOOST_TEST(contains(r.out, "0/2"));
  BOOST_TEST(contains(r.out, "approval:expense:9"));
  BOOST_TEST(!contains(r.out, "approval:order:late"));
  BOOST_TEST(!contains(r.out, "approval:order:done"));
}

BOOST_FIXTURE_TEST_CASE(pending_as_json_carries_the_records, seeded) {
  auto r = run({"pending", "--json"});
  BOOST_TEST(r.exit_code == 0);
  auto answer = r.out_json();
  BOOST_TEST(keys_of(answer)
               == (std::vector<std::string>{
                 "approval:expense:9", "approval:order:1", "approval:order:2"}),
             boost::test_tools::per_element());
  const auto& first = answer.at("approvals").at(0);
  BOOST_TEST(first.at("pendingReason").as_string() == "Finance sign-off");
  BOOST_TEST(first.at("status").at("status").as_string() == "pending");
  BOOST_TEST(first.at("metadata").at("amount").as_int64() == 1200);
}

BOOST_FIXTURE_TEST_CASE(pending_filters_by_a_literal_prefix, seeded) {
  auto answer = run({"--json", "pending", "--prefix", "approval:order:"});
  BOOST_TEST(
    keys_of(answer.out_json())
      == (std::vector<std::string>{"approval:order:1", "approval:order:2"}),
    boost::test_tools::per_element());
  auto none = run({"pending", "--prefix=approval:order:*"});
  BOOST_TEST(none.exit_code == 0);
  BOOST_TEST(contains(none.out, "no pending approvals"));
}

BOOST_FIXTURE_TEST_CASE(show_prints_the_record_and_its_audit_trail, seeded) {
  auto r = run({"show", "approval:order:done"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.out, "approved by boss"));
  BOOST_TEST(contains(r.out, R"({"ok":true})"));
  BOOST_TEST(contains(r.out, "audit trail"));
  BOOST_TEST(contains(r.out, "created"));
  BOOST_TEST(contains(r.out, "run:seed"));
}

BOOST_FIXTURE_TEST_CASE(show_as_json_has_record_status_and_trail, seeded) {
  auto answer = run({"show", "approval:order:late", "--json"}).out_json();
  BOOST_TEST(answer.at("approval").at("key").as_string()
             == "approval:order:late");
  // Past its deadline: stored as pending, read as expired. A server shows
  // every approval as of now, so its record reads expired too.
  BOOST_TEST(answer.at("approval").at("status").at("status").as_string()
             == (on_server() ? "expired" : "pending"));
  BOOST_TEST(answer.at("currentStatus").at("status").as_string() == "expired");
  const auto& trail = answer.at("auditTrail").as_array();
  // A server's deadline timer may have expired it meanwhile, which its
  // trail then tells.
  BOOST_REQUIRE(!trail.empty());
  BOOST_REQUIRE(trail.size() <= (on_server() ? 2U : 1U));
  BOOST_TEST(trail.at(0).at("action").as_string() == "created");
  if (trail.size() == 2) {
    BOOST_TEST(trail.at(1).at("action").as_string() == "expired");
    BOOST_TEST(trail.at(1).at("actor").as_string() == "system");
  }
}

BOOST_FIXTURE_TEST_CASE(show_of_an_unknown_key_is_not_found, seeded) {
  auto r = run({"show", "approval:order:nope"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(contains(r.err, "approval:order:nope"));
  auto j = run({"show", "approval:order:nope", "--json"});
  BOOST_TEST(j.exit_code == 1);
  BOOST_TEST(j.err_json().at("error").at("type").as_string() == "NOT_FOUND");
}

BOOST_FIXTURE_TEST_CASE(runs_lists_and_filters_runs, seeded) {
  auto all = run({"runs"});
  BOOST_TEST(all.exit_code == 0);
  BOOST_TEST(contains(all.out, "run-1"));
  BOOST_TEST(contains(all.out, "run-2"));
  BOOST_TEST(contains(all.out, "completed"));
  BOOST_TEST(contains(all.out, "approval:expense:9"));

  auto paused = run({"runs", "--status", "paused", "--json"}).out_json();
  const auto& runs = paused.at("runs").as_array();
  BOOST_REQUIRE_EQUAL(runs.size(), 2U);
  BOOST_TEST(runs.at(0).at("runId").as_string() == "run-1");
  BOOST_TEST(runs.at(0).at("pendingApprovals").at(0).as_string()
             == "approval:order:1");
  BOOST_TEST(runs.at(1).at("runId").as_string() == "run-3");

  auto orders = run({"runs", "--workflow", "order-approval", "--status",
                     "completed", "--json"})
                  .out_json();
  BOOST_REQUIRE_EQUAL(orders.at("runs").as_array().size(), 1U);
  BOOST_TEST(orders.at("runs").at(0).at("runId").as_string() == "run-2");

  auto none = run({"runs", "--workflow", "nothing"});
  BOOST_TEST(none.exit_code == 0);
  BOOST_TEST(contains(none.out, "no runs"));
  auto unnamed = run({"runs", "--workflow="});
  BOOST_TEST(unnamed.exit_code == 0);
  BOOST_TEST(contains(unnamed.out, "no runs"));
}

BOOST_FIXTURE_TEST_CASE(status_shows_one_run, seeded) {
  auto r = run({"status", "run-1"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.out, "order-approval"));
  BOOST_TEST(contains(r.out, "paused"));
  BOOST_TEST(contains(r.out, "approval:order:1"));
  BOOST_TEST(contains(r.out, "create-order"));

  auto answer = run({"status", "run-2", "--json"}).out_json();
  const auto& state = answer.at("run");
  BOOST_TEST(state.at("runId").as_string() == "run-2");
  BOOST_TEST(state.at("status").as_string() == "completed");
  BOOST_TEST(state.at("result").at("ok").as_bool());
}

BOOST_FIXTURE_TEST_CASE(status_names_who_cancelled_a_run, cli_fixture) {
  model::saved_workflow_state s;
  s.run_id = "run-c";
  s.workflow_name = "order-approval";
  s.status = model::run_status::cancelled;
  s.started_at = s.updated_at = now() - hour;
  s.outcome = model::make_error(model::error_type::approval_cancelled, "dup");
  s.cancelled_by = "ops@example.com";
  BOOST_REQUIRE(stores.runs->save(s).is_ok());
  auto r = run({"status", "run-c"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(contains(r.out, "cancelled by  ops@example.com"), r.out);
  auto answer = run({"status", "run-c", "--json"}).out_json();
  BOOST_TEST(answer.at("run").at("cancelledBy").as_string()
             == "ops@example.com");
  // A run nobody cancelled shows no such line.
  add_run("run-d", "order-approval", model::run_status::completed, {}, {},
          hour);
  BOOST_TEST(!contains(run({"status", "run-d"}).out, "cancelled by"));
}

BOOST_FIXTURE_TEST_CASE(a_run_id_with_slash_percent_and_unicode, cli_fixture) {
  const std::string odd = "run/100% \xC3\xBC";
  add_run(odd, "order-approval", model::run_status::completed, {}, {}, hour);
  auto r = run({"status", odd, "--json"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out_json().at("run").at("runId").as_string() == odd);
  auto listed = run({"runs", "--json"});
  BOOST_TEST(listed.out_json().at("runs").at(0).at("runId").as_string() == odd);
}

BOOST_FIXTURE_TEST_CASE(status_of_an_unknown_run_is_not_found, seeded) {
  auto r = run({"status", "run-404", "--json"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(r.err_json().at("error").at("type").as_string() == "NOT_FOUND");
}

BOOST_AUTO_TEST_SUITE_END()
