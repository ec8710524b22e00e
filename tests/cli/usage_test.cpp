// The command line itself: help, usage errors (exit 2) before anything is
// opened, and storage errors (exit 3) for a directory that holds no usable
// database, which is never created.

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

#include "fixture.hpp"

using namespace signoff;
using test::cli_fixture;

namespace {

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(cli_usage)

BOOST_FIXTURE_TEST_CASE(help_lists_every_command, cli_fixture) {
  for (const auto* flag : {"--help", "-h"}) {
    auto r = run_raw({flag});
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(r.err.empty());
    for (const auto* command :
         {"pending", "show KEY", "approve KEY", "reject KEY --reason R",
          "edit KEY", "cancel", "comment KEY --text T", "runs", "status RUN",
          "cleanup --older-than"})
      BOOST_TEST(contains(r.out, command), command);
  }
}

BOOST_FIXTURE_TEST_CASE(each_command_has_its_own_help, cli_fixture) {
  struct command_help {
    std::vector<std::string> args;
    std::vector<std::string_view> says;
  };
  const auto missing = db() + "-missing";
  const std::vector<command_help> helps{
    {{"reject", "--help"},
     {"reject an approval", "Usage: signoff reject", "KEY", "--reason R",
      "--by WHO"}},
    {{"bulk", "-h"},
     {"Usage: signoff bulk", "ACTION", "--prefix P", "--keys-from FILE",
      "--value JSON", "--reason R", "--by WHO"}},
    {{"runs", "--help"}, {"list runs", "--workflow NAME", "--status S"}},
    {{"cleanup", "--help"}, {"--older-than DURATION"}},
    // After the target options, and with a KEY and a malformed value:
    // help asks for nothing to be opened.
    {{"--db", missing, "approve", "k", "--help"},
     {"grant an approval", "--value JSON", "--by WHO"}},
  };
  for (const auto& help : helps) {
    auto r = run_raw(help.args);
    BOOST_TEST(r.exit_code == 0, help.args.front());
    BOOST_TEST(r.err.empty(), r.err);
    for (const auto says : help.says)
      BOOST_TEST(contains(r.out, says), help.args.front() << ": " << says);
    // One command's help, not the list of them all.
    BOOST_TEST(!contains(r.out, "status RUN"), help.args.front());
  }
  BOOST_TEST(!std::filesystem::exists(missing));
}

BOOST_FIXTURE_TEST_CASE(unknown_options_are_named, cli_fixture) {
  add_approval("k", "Manager sign-off");
  const auto before = snapshot({"k"});
  struct bad_line {
    std::vector<std::string> args;
    std::string_view says;
  };
  const std::vector<bad_line> lines{
    {{"approve", "k", "--vlaue", "{}"},
     "unknown option '--vlaue' for 'approve'"},
    {{"approve", "k", "-x"}, "unknown option '-x' for 'approve'"},
    {{"--verbose", "approve", "k"}, "unknown option '--verbose' for 'approve'"},
    {{"--verbose"}, "unknown option '--verbose'"},
    {{"pending", "--verbose=3"}, "unknown option '--verbose' for 'pending'"},
    // A command's option before the command: said where it goes.
    {{"--by", "jane", "approve", "k"},
     "option '--by' of 'approve' goes after the command"},
  };
  for (const auto& line : lines) {
    auto r = run(line.args);
    BOOST_TEST(r.exit_code == 2, line.says);
    BOOST_TEST(r.out.empty(), line.says);
    BOOST_TEST(contains(r.err, line.says), r.err);
  }
  BOOST_TEST(snapshot({"k"}) == before);
}

BOOST_FIXTURE_TEST_CASE(a_missing_required_option_is_named, cli_fixture) {
  add_approval("k", "Manager sign-off");
  const auto before = snapshot({"k"});
  for (const auto& [args, says] :
       std::vector<std::pair<std::vector<std::string>, std::string_view>>{
         {{"reject", "k", "--by", "jane"}, "--reason is required"},
         {{"edit", "k"}, "--value is required"},
         {{"comment", "k"}, "--text is required"},
         {{"cleanup"}, "--older-than is required"}}) {
    auto r = run(args);
    BOOST_TEST(r.exit_code == 2, says);
    BOOST_TEST(contains(r.err, says), r.err);
    auto j = run_raw({"--db", db(), "--json", args.front()});
    BOOST_TEST(j.exit_code == 2, says);
    BOOST_TEST(j.err_json().at("error").at("type").as_string()
               == "USAGE_ERROR");
  }
  BOOST_TEST(snapshot({"k"}) == before);
}

BOOST_FIXTURE_TEST_CASE(malformed_values_are_refused_before_the_database_opens,
                        cli_fixture) {
  // On a directory that holds no database, opening it fails with exit 3:
  // exit 2 and the value's own message show it was never tried.
  const auto missing = db() + "-missing";
  struct bad_line {
    std::vector<std::string> args;
    std::string_view says;
  };
  const std::vector<bad_line> lines{
    {{"approve", "k", "--value", "{"}, "--value is not valid JSON"},
    {{"edit", "k", "--value="}, "--value is not valid JSON"},
    {{"bulk", "edit", "--prefix", "a", "--value", "[1,"},
     "--value is not valid JSON"},
    {{"reject", "k", "--reason", "late", "--by", ""}, "--by must not be empty"},
    {{"runs", "--status", "sleeping"}, "--status 'sleeping' is not one of"},
    {{"cleanup", "--older-than", "3x"}, "--older-than '3x' is not a duration"},
  };
  for (const auto& line : lines) {
    auto args = line.args;
    args.insert(args.begin(), {"--db", missing});
    auto r = run_raw(args);
    BOOST_TEST(r.exit_code == 2, line.says);
    BOOST_TEST(r.out.empty(), line.says);
    BOOST_TEST(contains(r.err, line.says), r.err);
  }
  BOOST_TEST(!std::filesystem::exists(missing));
}

BOOST_FIXTURE_TEST_CASE(target_options_go_before_or_after_the_command,
                        cli_fixture) {
  add_approval("approval:a", "Manager sign-off");
  auto listed = run_raw({"pending", "--db", db(), "--json"});
  BOOST_TEST(listed.exit_code == 0, listed.err);
  BOOST_TEST(listed.out_json().at("approvals").as_array().size() == 1);
  auto approved
    = run_raw({"approve", "approval:a", "--by", "jane", "--db", db()});
  BOOST_TEST(approved.exit_code == 0, approved.err);
  BOOST_TEST(approval("approval:a").status.decided_by == "jane");
  // After `--` everything is the command's subject, even `--db`.
  auto ended = run_raw({"--db", db(), "show", "--", "--db"});
  BOOST_TEST(ended.exit_code == 1, ended.err);
  BOOST_TEST(contains(ended.err, "no approval '--db'"), ended.err);
}

BOOST_FIXTURE_TEST_CASE(the_environment_is_the_default_target, cli_fixture) {
  // A malformed SIGNOFF_SERVER or SIGNOFF_TOKEN is refused like the flag
  // would be, before anything is sent (port 1 would be unreachable).
  auto url = run_raw({"pending"}, {{"SIGNOFF_SERVER", "ftp://example.com"}});
  BOOST_TEST(url.exit_code == 2);
  BOOST_TEST(contains(url.err, "not an http URL"), url.err);
  auto token = run_raw({"pending"}, {{"SIGNOFF_SERVER", "http://127.0.0.1:1"},
                                     {"SIGNOFF_TOKEN", "two words"}});
  BOOST_TEST(token.exit_code == 2);
  BOOST_TEST(contains(token.err, "the token"), token.err);
  // The flags win: --db ignores both variables, also after the command.
  add_approval("approval:a", "Manager sign-off");
  auto local = run_raw(
    {"pending", "--db", db()},
    {{"SIGNOFF_SERVER", "ftp://example.com"}, {"SIGNOFF_TOKEN", "two words"}});
  BOOST_TEST(local.exit_code == 0, local.err);
  BOOST_TEST(contains(local.out, "approval:a"));
}

BOOST_FIXTURE_TEST_CASE(usage_errors_exit_2_with_a_message, cli_fixture) {
  struct bad_line {
    std::vector<std::string> args;
    std::string_view says;
  };
  const std::vector<bad_line> lines{
    {{}, "no command"},
    {{"--db", db()}, "no command"},
    {{"--db", db(), "frobnicate"}, "unknown command 'frobnicate'"},
    {{"pending"}, "--db DIR or --server URL is required"},
    {{"--db"}, "--db: 1 required DIR missing"},
    {{"--db", db(), "pending", "--verbose", "yes"},
     "unknown option '--verbose'"},
    {{"--db", db(), "pending", "--json=yes"}, "disallowed flag override"},
    {{"--db", db(), "show"}, "KEY is required"},
    {{"--db", db(), "status"}, "RUN is required"},
    {{"--db", db(), "runs", "--status", "sleeping"}, "--status 'sleeping'"},
    {{"--db", db(), "pending", "extra"}, "unexpected argument 'extra'"},
    {{"--db", db(), "--db", db(), "pending"}, "--db: At Most 1"},
  };
  for (const auto& line : lines) {
    auto r = run_raw(line.args);
    BOOST_TEST(r.exit_code == 2, line.says);
    BOOST_TEST(r.out.empty(), line.says);
    BOOST_TEST(contains(r.err, line.says), r.err);
  }
}

BOOST_FIXTURE_TEST_CASE(usage_errors_as_json, cli_fixture) {
  auto r = run({"--json", "frobnicate"});
  BOOST_TEST(r.exit_code == 2);
  const auto error = r.err_json().at("error");
  BOOST_TEST(error.at("type").as_string() == "USAGE_ERROR");
  BOOST_TEST(
    contains(std::string{error.at("message").as_string()}, "frobnicate"));
}

BOOST_FIXTURE_TEST_CASE(a_usage_error_wins_over_a_missing_database,
                        cli_fixture) {
  const auto missing = db() + "-missing";
  auto r = run_raw({"--db", missing, "approve", "k", "--value", "{"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(!std::filesystem::exists(missing));
}

BOOST_FIXTURE_TEST_CASE(a_missing_database_is_a_storage_error_and_not_created,
                        cli_fixture) {
  const auto missing = db() + "-missing";
  auto r = run_raw({"--db", missing, "approve", "k"});
  BOOST_TEST(r.exit_code == 3);
  BOOST_TEST(contains(r.err, "no signoff database"));
  BOOST_TEST(!std::filesystem::exists(missing));
  auto j = run_raw({"--db", missing, "pending", "--json"});
  BOOST_TEST(j.exit_code == 3);
  BOOST_TEST(j.err_json().at("error").at("type").as_string()
             == "STORAGE_ERROR");
}

BOOST_FIXTURE_TEST_CASE(a_corrupt_database_is_a_storage_error, cli_fixture) {
  const auto corrupt = db() + "-corrupt";
  std::filesystem::create_directories(corrupt);
  {
    std::ofstream junk{corrupt + "/data.mdb"};
    junk << std::string(8192, 'x');
  }
  auto r = run_raw({"--db", corrupt, "pending"});
  BOOST_TEST(r.exit_code == 3);
  BOOST_TEST(contains(r.err, "LMDB"), r.err);
}

BOOST_AUTO_TEST_SUITE_END()
