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
    {{"--db"}, "needs a value"},
    {{"--db", db(), "pending", "--verbose", "yes"},
     "unknown option '--verbose'"},
    {{"--db", db(), "pending", "--json=yes"}, "unknown option '--json'"},
    {{"--db", db(), "show"}, "'show' needs a KEY"},
    {{"--db", db(), "status"}, "'status' needs a RUN"},
    {{"--db", db(), "runs", "--status", "sleeping"}, "--status 'sleeping'"},
    {{"--db", db(), "pending", "extra"}, "unexpected argument 'extra'"},
    {{"--db", db(), "--db", db(), "pending"}, "given twice"},
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
