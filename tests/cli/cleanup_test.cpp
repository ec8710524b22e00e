// The cleanup command: finished runs older than the given age go, with the
// decided approvals no paused run waits on; paused runs, recent runs and
// pending or still-awaited approvals stay. A malformed age changes nothing.

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

using namespace signoff;
using test::cli_fixture;
namespace json = boost::json;

namespace {

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> strings_of(const json::value& list) {
  std::vector<std::string> out;
  for (const auto& s : list.as_array())
    out.emplace_back(s.as_string());
  return out;
}

const std::vector<std::string> all_keys{"approval:old:1", "approval:shared",
                                        "approval:still-pending",
                                        "approval:recent", "approval:paused"};

struct seeded : cli_fixture {
  seeded() {
    for (const auto& key : all_keys)
      add_approval(key, "Sign-off");
    for (const auto& key : {"approval:old:1", "approval:shared",
                            "approval:recent", "approval:paused"})
      grant(key);
    const auto old = 40 * day;
    using model::run_status;
    add_run("run-old-1", "orders", run_status::completed, {},
            {"approval:old:1"}, old);
    // Decided, but a paused run still waits on it (a wake was lost).
    add_run("run-old-2", "orders", run_status::failed, {}, {"approval:shared"},
            old);
    add_run("run-waiting", "orders", run_status::paused, {"approval:shared"},
            {"approval:shared"}, old);
    add_run("run-old-3", "orders", run_status::cancelled, {},
            {"approval:still-pending"}, old);
    add_run("run-recent", "orders", run_status::completed, {},
            {"approval:recent"}, day);
    add_run("run-paused", "orders", run_status::paused, {"approval:paused"},
            {"approval:paused"}, old);
  }

  [[nodiscard]] json::value everything() const {
    return snapshot(all_keys);
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(cli_cleanup)

BOOST_FIXTURE_TEST_CASE(removes_old_finished_runs_and_their_approvals, seeded) {
  auto r = run({"cleanup", "--older-than", "30d", "--json"});
  BOOST_TEST(r.exit_code == 0, r.err);
  auto answer = r.out_json();
  BOOST_TEST(
    strings_of(answer.at("runsRemoved"))
      == (std::vector<std::string>{"run-old-1", "run-old-2", "run-old-3"}),
    boost::test_tools::per_element());
  BOOST_TEST(strings_of(answer.at("approvalsRemoved"))
               == std::vector<std::string>{"approval:old:1"},
             boost::test_tools::per_element());
  for (const auto* gone : {"run-old-1", "run-old-2", "run-old-3"})
    BOOST_TEST(!has_run(gone), gone);
  for (const auto* kept : {"run-waiting", "run-recent", "run-paused"})
    BOOST_TEST(has_run(kept), kept);
  BOOST_TEST(!find("approval:old:1").has_value());
  BOOST_TEST(trail_length("approval:old:1") == 0U);
  for (const auto* kept : {"approval:shared", "approval:still-pending",
                           "approval:recent", "approval:paused"})
    BOOST_TEST(find(kept).has_value(), kept);
}

BOOST_FIXTURE_TEST_CASE(a_second_cleanup_finds_nothing, seeded) {
  BOOST_TEST(run({"cleanup", "--older-than", "30d"}).exit_code == 0);
  const auto before = everything();
  auto r = run({"cleanup", "--older-than", "720h"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.out, "removed 0 finished runs"));
  BOOST_TEST(everything() == before);
}

BOOST_FIXTURE_TEST_CASE(text_output_names_what_was_removed, seeded) {
  auto r = run({"cleanup", "--older-than", "90m"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.out, "removed 4 finished runs"));
  BOOST_TEST(contains(r.out, "and 2 approvals"));
  BOOST_TEST(contains(r.out, "run run-recent"));
  BOOST_TEST(contains(r.out, "approval approval:recent"));
  BOOST_TEST(has_run("run-paused"));
  BOOST_TEST(has_run("run-waiting"));
}

BOOST_FIXTURE_TEST_CASE(an_age_beyond_the_epoch_removes_nothing, seeded) {
  const auto before = everything();
  auto r = run({"cleanup", "--older-than", "100000w", "--json"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out_json().at("runsRemoved").as_array().empty());
  BOOST_TEST(everything() == before);
}

BOOST_FIXTURE_TEST_CASE(a_malformed_age_is_a_usage_error, seeded) {
  const auto before = everything();
  for (const auto* bad : {"30", "d", "-3d", "3x", "", "1.5h",
                          "99999999999999999999d", "9999999999999999w"}) {
    auto r = run({"cleanup", "--older-than", bad});
    BOOST_TEST(r.exit_code == 2, bad);
    BOOST_TEST(contains(r.err, "--older-than"), bad);
  }
  BOOST_TEST(run({"cleanup"}).exit_code == 2);
  BOOST_TEST(everything() == before);
}

BOOST_AUTO_TEST_SUITE_END()
