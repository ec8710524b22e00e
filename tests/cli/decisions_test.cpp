// The deciding commands: approve, reject, edit and cancel, and comment,
// which decides nothing. Each decision is in the store once the binary
// exited; a key nobody asked for, a decided approval or bad input is
// refused with the right exit code and changes nothing.

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

using namespace signoff;
using test::cli_fixture;
namespace json = boost::json;

namespace {

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

const std::string key = "approval:order:1";
const std::string quorum_key = "approval:order:2";

struct seeded : cli_fixture {
  seeded() {
    add_approval(key, "Manager sign-off");
    add_approval(quorum_key, "Two directors", 2);
    add_run("run-1", "order-approval", model::run_status::paused, {key}, {key},
            hour);
  }

  [[nodiscard]] json::value everything() const {
    return snapshot({key, quorum_key, "approval:order:typo"});
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(cli_decisions)

BOOST_FIXTURE_TEST_CASE(approve_grants_with_value_and_actor, seeded) {
  auto r
    = run_as("jane", {"approve", key, "--value", R"({"approvedBy":"jane"})"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.err.empty());
  BOOST_TEST(contains(r.out, "approved by jane"));
  auto a = approval(key);
  BOOST_TEST(to_string(a.status.state) == "approved");
  BOOST_TEST(a.status.decided_by == "jane");
  BOOST_TEST(a.status.value == (json::value{{"approvedBy", "jane"}}));
  BOOST_TEST(trail_length(key) == 2U);
}

BOOST_FIXTURE_TEST_CASE(approve_defaults_to_the_login_name_and_null, seeded) {
  auto r = run({"approve", key, "--json"});
  BOOST_TEST(r.exit_code == 0);
  auto answer = r.out_json();
  BOOST_TEST(answer.at("decision").as_string() == "grant");
  BOOST_TEST(answer.at("applied").as_bool());
  BOOST_TEST(answer.at("approval").at("status").at("decidedBy").as_string()
             == cli_fixture::user);
  auto a = approval(key);
  BOOST_TEST(a.status.decided_by == cli_fixture::user);
  BOOST_TEST(a.status.value.is_null());
}

BOOST_FIXTURE_TEST_CASE(a_repeated_decision_changes_nothing, seeded) {
  BOOST_TEST(run_as("jane", {"approve", key}).exit_code == 0);
  const auto before = everything();
  auto again = run_as("jane", {"approve", key});
  BOOST_TEST(again.exit_code == 0);
  BOOST_TEST(contains(again.out, "nothing changed"));
  auto as_json = run_as("jane", {"approve", key, "--json"}).out_json();
  BOOST_TEST(!as_json.at("applied").as_bool());
  BOOST_TEST(everything() == before);
}

BOOST_FIXTURE_TEST_CASE(a_conflicting_decision_is_refused, seeded) {
  BOOST_TEST(run_as("jane", {"approve", key}).exit_code == 0);
  const auto before = everything();
  auto r = run_as("bob", {"reject", key, "--reason", "too late"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(contains(r.err, "already approved by jane"));
  auto j = run({"cancel", key, "--json"});
  BOOST_TEST(j.exit_code == 1);
  const auto error = j.err_json().at("error");
  BOOST_TEST(error.at("type").as_string() == "APPROVAL_CONFLICT");
  BOOST_TEST(error.at("details").at("decidedBy").as_string() == "jane");
  BOOST_TEST(everything() == before);
}

BOOST_FIXTURE_TEST_CASE(a_typo_key_is_not_found_and_not_created, seeded) {
  const auto before = everything();
  for (const auto& args : std::vector<std::vector<std::string>>{
         {"approve", "approval:order:typo"},
         {"reject", "approval:order:typo", "--reason", "no"},
         {"edit", "approval:order:typo", "--value", "1"},
         {"cancel", "approval:order:typo"}}) {
    auto r = run(args);
    BOOST_TEST(r.exit_code == 1, args.front());
    BOOST_TEST(contains(r.err, "approval:order:typo"), args.front());
  }
  BOOST_TEST(!find("approval:order:typo").has_value());
  BOOST_TEST(everything() == before);
}

BOOST_FIXTURE_TEST_CASE(a_quorum_counts_distinct_approvers, seeded) {
  auto first = run_as("ann", {"approve", quorum_key});
  BOOST_TEST(first.exit_code == 0);
  BOOST_TEST(contains(first.out, "1 of 2"));
  BOOST_TEST(approval(quorum_key).status.is_pending());
  auto second = run_as("ben", {"approve", quorum_key, "--json"});
  BOOST_TEST(second.exit_code == 0);
  BOOST_TEST(second.out_json().at("approval").at("grants").as_array().size()
             == 2U);
  auto a = approval(quorum_key);
  BOOST_TEST(to_string(a.status.state) == "approved");
  BOOST_TEST(a.grants.size() == 2U);
}

BOOST_FIXTURE_TEST_CASE(reject_records_the_reason, seeded) {
  auto r = run_as("cfo", {"reject", key, "--reason", "over budget"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.out, "rejected by cfo"));
  auto a = approval(key);
  BOOST_TEST(to_string(a.status.state) == "rejected");
  BOOST_TEST(a.status.reason == "over budget");
}

BOOST_FIXTURE_TEST_CASE(text_output_escapes_control_characters, seeded) {
  // A reason that would forge a line, retitle the terminal (OSC), move the
  // cursor (a C1 CSI) and reverse the text after it.
  const std::string reason = "fine\nstatus    approved\x1b]0;pwned\x07\r"
                             "\xc2\x9b"
                             "2J\xe2\x80\xae"
                             "evil";
  auto rejected = run_as("cfo", {"reject", key, "--reason", reason});
  BOOST_TEST_REQUIRE(rejected.exit_code == 0, rejected.err);
  BOOST_TEST(approval(key).status.reason == reason);
  auto shown = run({"show", key});
  BOOST_TEST_REQUIRE(shown.exit_code == 0, shown.err);
  for (const std::string_view raw :
       {"\x1b", "\x07", "\r", "\xc2\x9b", "\xe2\x80\xae"})
    BOOST_TEST(!contains(shown.out, raw), "printed as it is: " << raw.size());
  BOOST_TEST(contains(shown.out, "fine\\x0Astatus    approved\\x1B]0;pwned"
                                 "\\x07\\x0D\\u{009B}2J\\u{202E}evil"),
             shown.out);
  std::size_t status_lines = 0;
  for (std::size_t at = 0; at != std::string::npos;
       at = shown.out.find('\n', at + 1))
    if (shown.out.compare(at == 0 ? 0 : at + 1, 6, "status") == 0)
      ++status_lines;
  BOOST_TEST(status_lines == 1U, shown.out);
  // JSON keeps the text as it is, escaped the JSON way.
  auto as_json = run({"show", key, "--json"});
  BOOST_TEST(
    as_json.out_json().at("approval").at("status").at("reason").as_string()
    == reason);
  // A byte that is no UTF-8 (a raw C1 CSI) stored by another program.
  add_approval("approval:order:raw", "wait\x9b"
                                     "2J");
  for (const auto& args : std::vector<std::vector<std::string>>{
         {"show", "approval:order:raw"}, {"pending"}}) {
    auto r = run(args);
    BOOST_TEST(r.exit_code == 0, r.err);
    BOOST_TEST(contains(r.out, "wait"), r.out);
    BOOST_TEST(!contains(r.out, "\x9b"), args.front());
  }
}

BOOST_FIXTURE_TEST_CASE(reject_with_an_empty_reason_is_invalid, seeded) {
  const auto before = everything();
  auto r = run({"reject", key, "--reason=", "--json"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.err_json().at("error").at("type").as_string()
             == "INVALID_ARGUMENT");
  BOOST_TEST(everything() == before);
}

BOOST_FIXTURE_TEST_CASE(edit_grants_a_changed_value, seeded) {
  auto r = run_as("jane", {"edit", key, "--value", R"({"qty":5})"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.out, "edited by jane"));
  auto a = approval(key);
  BOOST_TEST(to_string(a.status.state) == "edited");
  BOOST_TEST(a.status.value == (json::value{{"qty", 5}}));
}

BOOST_FIXTURE_TEST_CASE(edit_to_null_is_an_edit, seeded) {
  auto r = run({"edit", key, "--value", "null", "--json"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out_json().at("decision").as_string() == "edit");
  auto a = approval(key);
  BOOST_TEST(to_string(a.status.state) == "edited");
  BOOST_TEST(a.status.value.is_null());
}

BOOST_FIXTURE_TEST_CASE(cancel_with_and_without_a_reason, seeded) {
  auto r = run({"cancel", key, "--reason", "order withdrawn"});
  BOOST_TEST(r.exit_code == 0);
  auto a = approval(key);
  BOOST_TEST(to_string(a.status.state) == "cancelled");
  BOOST_TEST(a.status.reason == "order withdrawn");
  BOOST_TEST(a.status.decided_by == cli_fixture::user);
  BOOST_TEST(run_as("ops", {"cancel", quorum_key}).exit_code == 0);
  BOOST_TEST(to_string(approval(quorum_key).status.state) == "cancelled");
}

BOOST_FIXTURE_TEST_CASE(an_expired_approval_cannot_be_decided, cli_fixture) {
  add_approval("approval:late", "Too late", 1, now() - hour);
  const auto before = snapshot({"approval:late"});
  auto r = run({"approve", "approval:late", "--json"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.err_json().at("error").at("type").as_string()
             == "APPROVAL_CONFLICT");
  if (on_server() && snapshot({"approval:late"}) != before) {
    // The server's deadline timer expired the approval meanwhile (it is
    // past its deadline): the one change allowed, and not the refused
    // decision's.
    const auto a = approval("approval:late");
    BOOST_TEST(to_string(a.status.state) == "expired");
    BOOST_TEST(a.status.decided_by == "system");
    BOOST_TEST(trail_length("approval:late") == 2U);
    return;
  }
  BOOST_TEST(snapshot({"approval:late"}) == before);
}

BOOST_FIXTURE_TEST_CASE(malformed_value_is_a_usage_error, seeded) {
  const auto before = everything();
  for (const auto& bad : {"{bad", "approved", "", "[1,"}) {
    auto r = run({"approve", key, "--value", bad});
    BOOST_TEST(r.exit_code == 2, bad);
    BOOST_TEST(contains(r.err, "--value"), bad);
  }
  auto j = run({"edit", key, "--value", "{", "--json"});
  BOOST_TEST(j.exit_code == 2);
  BOOST_TEST(j.err_json().at("error").at("type").as_string() == "USAGE_ERROR");
  BOOST_TEST(everything() == before);
}

BOOST_FIXTURE_TEST_CASE(missing_or_unknown_arguments_are_usage_errors, seeded) {
  const auto before = everything();
  for (const auto& args : std::vector<std::vector<std::string>>{
         {"approve"},
         {"reject", key},
         {"reject", key, "--reason"},
         {"reject", key, "--reason", "--by", "x"},
         {"edit", key},
         {"approve", key, "--by", ""},
         {"approve", key, "--by", "a", "--by", "b"},
         {"approve", key, "--reason", "no such option"},
         {"approve", key, "extra"},
         {"approve", key, "-x"}}) {
    auto r = run(args);
    BOOST_TEST(r.exit_code == 2, args.size());
    BOOST_TEST(r.out.empty());
    BOOST_TEST(!r.err.empty());
  }
  BOOST_TEST(everything() == before);
}

BOOST_FIXTURE_TEST_CASE(keys_that_look_like_options_follow_a_double_dash,
                        cli_fixture) {
  add_approval("--odd", "Odd key");
  auto r = run_as("jane", {"approve", "--", "--odd"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(to_string(approval("--odd").status.state) == "approved");
}

BOOST_FIXTURE_TEST_CASE(keys_with_percent_slash_space_and_unicode,
                        cli_fixture) {
  // "approval:order:100%/sure or not ü?#&": one key, whatever the target.
  const std::string odd = "approval:order:100%/sure or not \xC3\xBC?#&";
  add_approval(odd, "Odd key");
  auto shown = run({"show", odd, "--json"});
  BOOST_TEST(shown.exit_code == 0, shown.err);
  BOOST_TEST(shown.out_json().at("approval").at("key").as_string() == odd);
  auto listed = run({"pending", "--prefix", "approval:order:100%/", "--json"});
  BOOST_TEST(listed.exit_code == 0, listed.err);
  BOOST_TEST(listed.out_json().at("approvals").at(0).at("key").as_string()
             == odd);
  auto r = run_as("jane", {"approve", odd});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(to_string(approval(odd).status.state) == "approved");
  BOOST_TEST(approval(odd).status.decided_by == "jane");
}

// bulk: one decision per key of a list or a prefix, each reported; a key
// not decided fails the command (exit 1) without undoing the others.
BOOST_FIXTURE_TEST_CASE(bulk_decides_each_key_of_a_list, seeded) {
  const auto keys = write_file("keys.txt", key + "\r\n\n" + quorum_key
                                             + "\napproval:order:typo\n");
  auto r = run_as("jane", {"bulk", "approve", "--keys-from", keys, "--json"});
  BOOST_TEST(r.exit_code == 1, r.err);
  const auto answer = r.out_json();
  BOOST_TEST(answer.at("decided") == 2);
  BOOST_TEST(answer.at("failed") == 1);
  const auto& lines = answer.at("results").as_array();
  BOOST_TEST_REQUIRE(lines.size() == 3U);
  BOOST_TEST(lines[0].at("status").as_string() == "approved");
  BOOST_TEST(lines[1].at("status").as_string() == "pending"); // 1 of 2
  BOOST_TEST(lines[2].at("error").as_string() == "NOT_FOUND");
  BOOST_TEST(approval(key).status.decided_by == "jane");
  BOOST_TEST(approval(quorum_key).grants.size() == 1U);
  BOOST_TEST(!find("approval:order:typo").has_value());
  BOOST_TEST(trail_length(key) == 2U);
}

BOOST_FIXTURE_TEST_CASE(bulk_rejects_what_is_pending_under_a_prefix, seeded) {
  add_approval("approval:invoice:9", "Finance");
  auto r = run_as("cfo", {"bulk", "reject", "--prefix",
                          "approval:order:", "--reason", "budget frozen"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(contains(r.out, "2 decided by cfo, 0 not"), r.out);
  BOOST_TEST(contains(r.out, "rejected"), r.out);
  for (const auto& k : {key, quorum_key}) {
    BOOST_TEST(to_string(approval(k).status.state) == "rejected", k);
    BOOST_TEST(approval(k).status.reason == "budget frozen", k);
  }
  BOOST_TEST(approval("approval:invoice:9").status.is_pending());
  // Nothing pending there any more: nothing to do, no error.
  auto again = run({"bulk", "cancel", "--prefix", "approval:order:"});
  BOOST_TEST(again.exit_code == 0, again.err);
  BOOST_TEST(contains(again.out, "nothing decided"), again.out);
}

BOOST_FIXTURE_TEST_CASE(a_bad_bulk_decision_changes_nothing, seeded) {
  const auto before = everything();
  const auto twice = write_file("twice.txt", key + "\n" + key + "\n");
  const auto none = write_file("none.txt", "\n");
  for (const auto& [args, code] :
       std::vector<std::pair<std::vector<std::string>, int>>{
         {{"bulk", "approve"}, 2},
         {{"bulk", "approve", "--prefix", "a", "--keys-from", none}, 2},
         {{"bulk", "sign", "--prefix", "approval:"}, 2},
         {{"bulk", "reject", "--prefix", "approval:"}, 2},
         {{"bulk", "edit", "--prefix", "approval:"}, 2},
         {{"bulk", "approve", "--keys-from", "/nonexistent/keys"}, 2},
         {{"bulk", "approve", "--keys-from", twice}, 1},
         {{"bulk", "approve", "--keys-from", none}, 1}}) {
    auto r = run(args);
    BOOST_TEST(r.exit_code == code, args[1] << " " << r.err);
    BOOST_TEST(r.out.empty(), r.out);
  }
  BOOST_TEST(everything() == before);
}

// A comment discusses an approval, before or after its decision, and
// decides nothing.
BOOST_FIXTURE_TEST_CASE(comment_is_audited_and_decides_nothing, seeded) {
  auto r = run_as("jane", {"comment", key, "--text", "why this supplier?"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.err.empty());
  BOOST_TEST(contains(r.out, "comment by jane recorded on '" + key + "' (#2)"),
             r.out);
  BOOST_TEST(approval(key).status.is_pending());
  auto trail = stores.approvals->audit_trail(key);
  BOOST_TEST_REQUIRE(trail.is_ok());
  BOOST_TEST_REQUIRE(trail->size() == 2U);
  BOOST_TEST(trail->back().action == "commented");
  BOOST_TEST(trail->back().actor == "jane");
  BOOST_TEST(trail->back().reason == "why this supplier?");

  BOOST_TEST(run_as("bob", {"approve", key}).exit_code == 0);
  auto later = run({"comment", key, "--text", "paid", "--json"});
  BOOST_TEST(later.exit_code == 0, later.err);
  const auto entry = later.out_json().at("comment");
  BOOST_TEST(entry.at("action").as_string() == "commented");
  BOOST_TEST(entry.at("actor").as_string() == cli_fixture::user);
  BOOST_TEST(entry.at("reason").as_string() == "paid");
  BOOST_TEST(entry.at("sequence") == 4);
  const auto a = approval(key);
  BOOST_TEST(to_string(a.status.state) == "approved");
  BOOST_TEST(a.status.decided_by == "bob");
  BOOST_TEST(trail_length(key) == 4U);
}

BOOST_FIXTURE_TEST_CASE(a_bad_comment_changes_nothing, seeded) {
  const auto before = everything();
  for (const auto& [args, code] :
       std::vector<std::pair<std::vector<std::string>, int>>{
         {{"comment", key}, 2},
         {{"comment", "--text", "hi"}, 2},
         {{"comment", key, "--text", "hi", "--by", ""}, 2},
         {{"comment", key, "--text", ""}, 1},
         {{"comment", key, "--text", std::string(4001, 'x')}, 1},
         {{"comment", "approval:order:typo", "--text", "hi"}, 1}}) {
    auto r = run(args);
    BOOST_TEST(r.exit_code == code, args.size() << " " << r.err);
    BOOST_TEST(r.out.empty(), r.out);
    BOOST_TEST(!r.err.empty());
  }
  BOOST_TEST(!find("approval:order:typo").has_value());
  BOOST_TEST(everything() == before);
}

// Reassign replaces who may decide; delegate hands a named assignee's
// place on; both are audited and decide nothing.
BOOST_FIXTURE_TEST_CASE(reassign_and_delegate_change_who_may_decide, seeded) {
  auto r = run({"reassign", key, "--assignees", "jane,joe", "--groups",
                "managers", "--reason", "holiday"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(contains(r.out, "'" + key + "' reassigned by "
                               + std::string{cli_fixture::user}),
             r.out);
  BOOST_TEST(contains(r.out, "assignees: jane, joe\ngroups: managers"), r.out);
  auto a = approval(key);
  BOOST_TEST(a.status.is_pending());
  BOOST_TEST((a.spec.assignees == std::vector<std::string>{"jane", "joe"}));
  BOOST_TEST((a.spec.candidate_groups == std::vector<std::string>{"managers"}));
  auto trail = stores.approvals->audit_trail(key);
  BOOST_TEST_REQUIRE(trail.is_ok());
  BOOST_TEST(trail->back().action == "reassigned");
  BOOST_TEST(trail->back().reason == "holiday");
  const auto length = trail->size();

  auto again
    = run({"reassign", key, "--assignees", "jane,joe", "--groups", "managers"});
  BOOST_TEST(again.exit_code == 0, again.err);
  BOOST_TEST(contains(again.out, "nothing changed"), again.out);
  BOOST_TEST(trail_length(key) == length);

  auto handed = run_as("jane", {"delegate", key, "--to", "bob", "--json"});
  BOOST_TEST(handed.exit_code == 0, handed.err);
  const auto answer = handed.out_json();
  BOOST_TEST(answer.at("change").as_string() == "delegate");
  BOOST_TEST(answer.at("applied").as_bool());
  a = approval(key);
  BOOST_TEST((a.spec.assignees == std::vector<std::string>{"joe", "bob"}
              || a.spec.assignees == std::vector<std::string>{"bob", "joe"}));
  trail = stores.approvals->audit_trail(key);
  BOOST_TEST_REQUIRE(trail.is_ok());
  BOOST_TEST(trail->back().action == "delegated");
  BOOST_TEST(trail->back().actor == "jane");
  BOOST_TEST(a.status.is_pending());
}

BOOST_FIXTURE_TEST_CASE(a_bad_reassign_or_delegate_changes_nothing, seeded) {
  const auto before = everything();
  for (const auto& [args, code] :
       std::vector<std::pair<std::vector<std::string>, int>>{
         {{"reassign", key}, 2},
         {{"reassign", key, "--assignees", "jane,,joe"}, 2},
         {{"reassign", key, "--groups", ","}, 2},
         {{"delegate", key}, 2},
         {{"delegate", key, "--to", ""}, 2},
         {{"reassign", "approval:order:typo", "--assignees", "jane"}, 1},
         {{"delegate", "approval:order:typo", "--to", "bob"}, 1}}) {
    auto r = run(args);
    BOOST_TEST(r.exit_code == code, args.size() << " " << r.err);
    BOOST_TEST(r.out.empty(), r.out);
    BOOST_TEST(!r.err.empty());
  }
  BOOST_TEST(!find("approval:order:typo").has_value());
  BOOST_TEST(everything() == before);

  BOOST_TEST(run({"approve", key}).exit_code == 0);
  const auto decided = everything();
  auto late = run({"reassign", key, "--assignees", "jane"});
  BOOST_TEST(late.exit_code == 1, late.err);
  BOOST_TEST(everything() == decided);
}

BOOST_AUTO_TEST_SUITE_END()
