// What user code in a workflow can do to a run, through the blocking
// facade on real threads: entries into the workflow function and its steps
// on the resident path and on the replay path (passivated, restarted), a
// catch-all around an approval, values JSON cannot carry, and workflow
// functions that are no proper coroutines.

#include "signoff/orchestrator.hpp"

#include <cmath>
#include <coroutine>
#include <limits>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "fixtures.hpp"
#include "support/must.hpp"
#include "support/printing.hpp"

using namespace signoff;
using namespace std::chrono_literals;

namespace {

using value_task = task<model::result<boost::json::value>>;

/// Entries into the workflow function and into each step, by run.
struct entries {
  std::mutex mutex;
  std::map<std::string, int> counts;

  void count(const std::string& what) {
    std::lock_guard guard{mutex};
    ++counts[what];
  }
  int operator[](const std::string& what) {
    std::lock_guard guard{mutex};
    return counts[what];
  }
};

/// Three approvals in sequence, a step before each and one at the end,
/// every entry counted under "<run>/<what>".
workflow three_approvals(std::shared_ptr<entries> n) {
  return [n](step& step, const boost::json::value&) -> value_task {
    const auto run = step.run_id();
    n->count(run + "/entry");
    boost::json::array got;
    for (const auto* level : {"a", "b", "c"}) {
      co_await step.run(std::string{"prepare-"} + level,
                        [&] { n->count(run + "/prepare-" + level); });
      got.push_back(co_await step.approval(run + ":" + level));
    }
    co_await step.run("ship", [&] { n->count(run + "/ship"); });
    co_return boost::json::value(std::move(got));
  };
}

/// Grants the three approvals of `run` in turn; each must resume it.
void grant_three(orchestrator& orch, const std::string& run) {
  for (const auto* level : {"a", "b", "c"}) {
    auto report
      = test::must(orch.grant_approval(run + ":" + level, level, {"jane"}));
    BOOST_TEST(report.resumed_workflows == std::vector<std::string>{run},
               boost::test_tools::per_element());
  }
  BOOST_TEST(test::must(orch.get_workflow_status(run)).status
             == model::run_status::completed);
}

void check_steps_once(entries& n, const std::string& run) {
  for (const auto* step : {"prepare-a", "prepare-b", "prepare-c", "ship"})
    BOOST_TEST(n[run + "/" + step] == 1, run << "/" << step);
}

persistence::lmdb_stores open_stores(const test::temp_dir& dir) {
  auto opened = persistence::open_lmdb_stores(
    {.path = dir.str(), .durability = persistence::lmdb_durability::no_sync});
  BOOST_TEST_REQUIRE(opened.is_ok());
  return opened.value();
}

/// Run actors the orchestrator holds in memory.
std::size_t resident(orchestrator& orch) {
  caf::scoped_actor self{orch.system()};
  std::size_t out = 0;
  self->request(orch.handle(), caf::infinite, actors::resident_atom_v)
    .receive([&](std::size_t n) { out = n; },
             [](caf::error& e) { BOOST_FAIL(to_string(e)); });
  return out;
}

double nan() {
  return std::numeric_limits<double>::quiet_NaN();
}

} // namespace

BOOST_AUTO_TEST_SUITE(workflow_code)

// A run passivated at every pause (no resident run allowed) replays from
// the top on each wake: four entries, each step still once (a resident run
// is entered once: lifecycle's three_approvals_in_sequence_run_each_step_once).
BOOST_AUTO_TEST_CASE(a_passivated_run_replays_from_the_top) {
  test::temp_dir dir;
  auto stores = open_stores(dir);
  auto n = std::make_shared<entries>();
  auto options = test::lmdb_orchestrator_options(stores);
  options.max_resident_runs = 0;
  orchestrator orch{options};
  test::must(orch.register_workflow("three", three_approvals(n)));
  test::must(orch.execute("three", nullptr, {.run_id = "r"}));
  grant_three(orch, "r");
  BOOST_TEST((*n)["r/entry"] == 4);
  check_steps_once(*n, "r");
}

// Each run passivates as soon as it parked, before the caller can decide:
// `execute` answers once the directory knows the run parked, so the grant
// that follows always finds it passivated, and replays it (200 runs, none
// may be woken resident).
BOOST_AUTO_TEST_CASE(execute_answers_once_the_directory_knows_the_pause) {
  auto n = std::make_shared<entries>();
  orchestrator_options options;
  options.max_resident_runs = 0;
  orchestrator orch{options};
  test::must(orch.register_workflow(
    "one", [n](step& step, const boost::json::value&) -> value_task {
      n->count(step.run_id());
      co_return co_await step.approval("one:" + step.run_id());
    }));
  int resumed_resident = 0;
  for (int i = 0; i < 200; ++i) {
    const auto id = std::to_string(i);
    test::must(orch.execute("one", nullptr, {.run_id = id}));
    test::must(orch.grant_approval("one:" + id, "yes", {"jane"}));
    resumed_resident += (*n)[id] == 1 ? 1 : 0;
  }
  BOOST_TEST(resumed_resident == 0);
}

// A restart of the orchestrator over the same directory between each
// decision: the run is replayed from the store by the new orchestrator.
BOOST_AUTO_TEST_CASE(a_restarted_run_replays_from_the_top) {
  test::temp_dir dir;
  auto n = std::make_shared<entries>();
  {
    auto stores = open_stores(dir);
    orchestrator orch{test::lmdb_orchestrator_options(stores)};
    test::must(orch.register_workflow("three", three_approvals(n)));
    test::must(orch.execute("three", nullptr, {.run_id = "r"}));
  }
  for (const auto* level : {"a", "b", "c"}) {
    auto stores = open_stores(dir);
    orchestrator orch{test::lmdb_orchestrator_options(stores)};
    test::must(orch.register_workflow("three", three_approvals(n)));
    auto report = test::must(
      orch.grant_approval(std::string{"r:"} + level, level, {"jane"}));
    BOOST_TEST(report.resumed_workflows == std::vector<std::string>{"r"},
               boost::test_tools::per_element());
  }
  auto stores = open_stores(dir);
  auto final_state = test::must(stores.runs->load("r"));
  BOOST_TEST_REQUIRE(final_state.has_value());
  BOOST_TEST(final_state->status == model::run_status::completed);
  BOOST_TEST((*n)["r/entry"] == 4);
  check_steps_once(*n, "r");
}

// A catch-all around an approval cannot swallow the pause: the run pauses,
// the code in the handler never runs, and the grant resumes the run inside
// the try block. (The model step suite checks a rejection and a step
// value holding NaN the same way; what only the run actor does is here.)
BOOST_AUTO_TEST_CASE(a_catch_all_around_an_approval_still_pauses) {
  auto swallowed = std::make_shared<std::atomic<int>>(0);
  auto after = std::make_shared<std::atomic<int>>(0);
  orchestrator orch;
  test::must(orch.register_workflow(
    "greedy",
    [swallowed, after](step& step, const boost::json::value&) -> value_task {
      boost::json::value got;
      try {
        got = co_await step.approval("greedy");
      } catch (...) {
        ++*swallowed;
        co_return boost::json::value("swallowed");
      }
      co_await step.run("after", [&] { ++*after; });
      co_return got;
    }));
  auto run = test::must(orch.execute("greedy", nullptr, {.run_id = "g"}));
  BOOST_TEST(run.status == model::run_status::paused);
  BOOST_TEST(*swallowed == 0);
  BOOST_TEST(*after == 0);
  test::must(orch.grant_approval("greedy", "yes", {"jane"}));
  auto done = test::must(orch.get_workflow_status("g"));
  BOOST_TEST(done.status == model::run_status::completed);
  BOOST_TEST(done.outcome->value() == boost::json::value("yes"));
  BOOST_TEST(*swallowed == 0);
  BOOST_TEST(*after == 1);
}

// A workflow returning a value with NaN fails with an error saying so, and
// the LMDB store keeps a run it can read back.
BOOST_AUTO_TEST_CASE(a_result_json_cannot_carry_fails_the_run) {
  test::temp_dir dir;
  auto stores = open_stores(dir);
  orchestrator orch{test::lmdb_orchestrator_options(stores)};
  test::must(orch.register_workflow(
    "nan", [](step& step, const boost::json::value&) -> value_task {
      co_await step.run("fine", [] { return 1; });
      co_return boost::json::value{{"ratio", nan()}};
    }));
  auto run = test::must(orch.execute("nan", nullptr, {.run_id = "n"}));
  BOOST_TEST(run.status == model::run_status::failed);
  BOOST_TEST_REQUIRE(run.outcome.has_value());
  BOOST_TEST(run.outcome->error().type == model::error_type::unexpected_error);
  BOOST_TEST(run.outcome->error().message.find("NaN") != std::string::npos,
             run.outcome->error().message);
  auto stored = test::must(orch.get_workflow_status("n"));
  BOOST_TEST(stored.status == model::run_status::failed);
  BOOST_TEST(stored.checkpoints.contains("fine"));
}

// A workflow function that is no coroutine and throws when called fails
// the run with the exception's message; the run is stored failed and no
// actor of it stays behind.
BOOST_AUTO_TEST_CASE(a_workflow_function_throwing_when_called_fails_the_run) {
  orchestrator orch;
  test::must(orch.register_workflow(
    "eager", [](step&, const boost::json::value& in) -> value_task {
      if (!in.is_object())
        throw std::invalid_argument("an object, please");
      throw std::logic_error("unreachable");
    }));
  auto run = test::must(orch.execute("eager", 42, {.run_id = "e"}));
  BOOST_TEST(run.status == model::run_status::failed);
  BOOST_TEST(run.outcome->error().type == model::error_type::unexpected_error);
  BOOST_TEST(run.outcome->error().message == "an object, please");
  BOOST_TEST(test::must(orch.get_workflow_status("e")).status
             == model::run_status::failed);
  BOOST_TEST(resident(orch) == 0U);
}

// A workflow function that is no coroutine and returns an empty task has
// nothing to run: the run fails with an error saying so.
BOOST_AUTO_TEST_CASE(a_workflow_function_returning_no_coroutine_fails_the_run) {
  orchestrator orch;
  test::must(orch.register_workflow(
    "hollow",
    [](step&, const boost::json::value&) -> value_task { return {}; }));
  auto run = test::must(orch.execute("hollow", nullptr, {.run_id = "h"}));
  BOOST_TEST(run.status == model::run_status::failed);
  BOOST_TEST(run.outcome->error().type == model::error_type::unexpected_error);
  BOOST_TEST(run.outcome->error().message.find("no coroutine")
               != std::string::npos,
             run.outcome->error().message);
  BOOST_TEST(test::must(orch.get_workflow_status("h")).status
             == model::run_status::failed);
  BOOST_TEST(resident(orch) == 0U);
}

// A workflow awaiting something that is no signoff step would never be
// resumed: the run fails with an error saying so instead of hanging.
BOOST_AUTO_TEST_CASE(a_foreign_awaitable_fails_the_run) {
  orchestrator orch;
  test::must(orch.register_workflow(
    "foreign", [](step& step, const boost::json::value&) -> value_task {
      co_await step.run("first", [] { return 1; });
      co_await std::suspend_always{};
      co_return nullptr;
    }));
  auto run = test::must(orch.execute("foreign", nullptr, {.run_id = "f"}));
  BOOST_TEST(run.status == model::run_status::failed);
  BOOST_TEST(run.outcome->error().message.find("not a signoff step")
               != std::string::npos,
             run.outcome->error().message);
  BOOST_TEST(resident(orch) == 0U);
}

// A step's error result whose details JSON cannot carry (an infinity), the
// workflow branching on it and then pausing: the run is stored so that a
// replay reads it back (no resident run allowed) and completes.
BOOST_AUTO_TEST_CASE(an_error_with_details_json_cannot_carry_is_stored_safely) {
  test::temp_dir dir;
  auto stores = open_stores(dir);
  auto options = test::lmdb_orchestrator_options(stores);
  options.max_resident_runs = 0;
  orchestrator orch{options};
  test::must(orch.register_workflow(
    "odd", [](step& step, const boost::json::value&) -> value_task {
      // Named first: no JSON initializer inside the co_await expression.
      auto measure = []() -> model::result<int> {
        return model::make_error(
          "OUT_OF_RANGE", "too far",
          boost::json::value{
            {"distance", std::numeric_limits<double>::infinity()}});
      };
      auto r = co_await step.try_run("measure", measure);
      co_await step.approval("odd");
      co_return boost::json::value(r.is_err() ? r.error().type : "ok");
    }));
  auto run = test::must(orch.execute("odd", nullptr, {.run_id = "o"}));
  BOOST_TEST_REQUIRE(run.status == model::run_status::paused);
  // Readable: the refused error was not kept.
  auto paused = test::must(orch.get_workflow_status("o"));
  BOOST_TEST(!paused.checkpoints.contains("measure"));
  auto report = test::must(orch.grant_approval("odd", "yes", {"jane"}));
  BOOST_TEST(report.resumed_workflows == std::vector<std::string>{"o"},
             boost::test_tools::per_element());
  auto done = test::must(orch.get_workflow_status("o"));
  BOOST_TEST(done.status == model::run_status::completed);
  BOOST_TEST(done.outcome->value() == boost::json::value("UNEXPECTED_ERROR"));
}

// A workflow returning an error whose details JSON cannot carry fails with
// an error saying so, and the run stays readable.
BOOST_AUTO_TEST_CASE(a_returned_error_json_cannot_carry_fails_readably) {
  test::temp_dir dir;
  auto stores = open_stores(dir);
  orchestrator orch{test::lmdb_orchestrator_options(stores)};
  test::must(orch.register_workflow(
    "odd", [](step&, const boost::json::value&) -> value_task {
      co_return model::make_error("OUT_OF_RANGE", "too far",
                                  boost::json::value{{"distance", nan()}});
    }));
  auto run = test::must(orch.execute("odd", nullptr, {.run_id = "o"}));
  BOOST_TEST(run.status == model::run_status::failed);
  BOOST_TEST(run.outcome->error().type == model::error_type::unexpected_error);
  BOOST_TEST(run.outcome->error().message.find("OUT_OF_RANGE")
               != std::string::npos,
             run.outcome->error().message);
  auto stored = test::must(orch.get_workflow_status("o"));
  BOOST_TEST(stored.status == model::run_status::failed);
}

BOOST_AUTO_TEST_SUITE_END()
