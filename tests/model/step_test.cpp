#include "signoff/model/step.hpp"

#include <cmath>
#include <coroutine>
#include <map>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "support/printing.hpp"

#include "signoff/model/approval.hpp"
#include "signoff/model/approval_wait.hpp"
#include "signoff/model/decision_rules.hpp"
#include "signoff/model/error.hpp"
#include "signoff/model/limits.hpp"
#include "signoff/model/result.hpp"
#include "signoff/model/task.hpp"
#include "signoff/model/time.hpp"
#include "signoff/model/workflow_state.hpp"

namespace bj = boost::json;
namespace model = signoff::model;
using namespace signoff::model;

namespace {

const time_point t0 = from_millis(1'700'000'000'000);

/// Approvals over a map: unknown keys are pending. Counts the reaches and
/// keeps the requests it was asked.
class map_gate {
public:
  std::map<std::string, approval_status> statuses;
  int reaches = 0;
  std::map<std::string, int> reaches_by_key;
  std::vector<approval_request> requests;
  /// When set, reach() fails with this error (a storage failure).
  std::optional<error> failure;

  model::result<approval_status> reach(const approval_request& request) {
    ++reaches;
    ++reaches_by_key[request.key];
    requests.push_back(request);
    if (failure)
      return *failure;
    auto it = statuses.find(request.key);
    return it == statuses.end() ? approval_status{} : it->second;
  }

  void approve(const std::string& key, bj::value value,
               const std::string& by = "jane") {
    approval_status s;
    s.state = approval_state::approved;
    s.value = std::move(value);
    s.decided_by = by;
    s.decided_at = t0;
    statuses[key] = s;
  }

  void decide(const std::string& key, approval_state state,
              const std::string& reason = {}) {
    approval_status s;
    s.state = state;
    s.decided_by = state == approval_state::expired ? "system" : "bob";
    s.decided_at = t0;
    s.reason = reason;
    statuses[key] = s;
  }
};

saved_workflow_state new_run(bj::value input = {}) {
  saved_workflow_state s;
  s.run_id = "run-1";
  s.workflow_name = "test";
  s.input = std::move(input);
  s.started_at = t0;
  s.updated_at = t0;
  return s;
}

/// A typed payload with Boost.JSON conversions.
struct order {
  std::string id;
  int total = 0;
  friend bool operator==(const order&, const order&) = default;
};

void tag_invoke(bj::value_from_tag, bj::value& out, const order& o) {
  out = {{"id", o.id}, {"total", o.total}};
}

bj::result<order> tag_invoke(bj::try_value_to_tag<order>, const bj::value& in) {
  const auto* obj = in.if_object();
  if (obj == nullptr)
    return bj::make_error_code(bj::error::not_object);
  const auto* id = obj->if_contains("id");
  const auto* total = obj->if_contains("total");
  if (id == nullptr || !id->is_string() || total == nullptr
      || !total->is_int64())
    return bj::make_error_code(bj::error::not_found);
  return order{std::string{id->get_string()},
               static_cast<int>(total->get_int64())};
}

/// Persists and reloads `state` as a store would between executions.
saved_workflow_state reload(const saved_workflow_state& state) {
  auto back = bj::try_value_to<saved_workflow_state>(
    bj::parse(bj::serialize(bj::value_from(state))));
  BOOST_REQUIRE(!back.has_error());
  return *back;
}

const std::string& outcome_type(const saved_workflow_state& s) {
  BOOST_REQUIRE(s.outcome.has_value());
  BOOST_REQUIRE(s.outcome->is_err());
  return s.outcome->error().type;
}

const bj::value& outcome_value(const saved_workflow_state& s) {
  BOOST_REQUIRE(s.outcome.has_value());
  BOOST_REQUIRE_MESSAGE(
    s.outcome->is_ok(),
    "outcome is an error: " << (s.outcome->is_err() ? s.outcome->error().message
                                                    : ""));
  return s.outcome->value();
}

/// A workflow over the model's step (the actor layer adds `request`).
using workflow = std::function<task<model::result<bj::value>>(
  model::step&, const bj::value&)>;

/// Hosts one execution of a workflow as the run actor does, over a map of
/// approvals, with the run's state as its checkpoints. Blocking jobs run at
/// once, or wait in `jobs` when `defer_jobs` is set.
class test_host final : public step_host {
public:
  test_host(saved_workflow_state& state, map_gate& gate)
      : state_(state), gate_(gate) {}

  const std::string& run_id() const noexcept override {
    return state_.run_id;
  }

  const checkpoint* saved(std::string_view key) const noexcept override {
    auto it = state_.checkpoints.find(std::string{key});
    return it == state_.checkpoints.end() ? nullptr : &it->second;
  }

  void keep(std::string key, checkpoint result) override {
    state_.checkpoints.insert_or_assign(std::move(key), std::move(result));
  }

  std::optional<approval_status> reach(const approval_request& request,
                                       step_waiter& w) override {
    auto& keys = state_.approval_keys;
    if (std::find(keys.begin(), keys.end(), request.key) == keys.end())
      keys.push_back(request.key);
    auto status = gate_.reach(request);
    if (status.is_err()) {
      end_run(status.error());
      return std::nullopt;
    }
    if (!status->is_pending())
      return status.value();
    waiting = request;
    waiter = &w;
    return std::nullopt;
  }

  bool reach_several(approval_wait& wait, const approval_options& options,
                     step_waiter& w) override {
    for (std::size_t i = 0; i < wait.keys.size(); ++i) {
      auto status = gate_.reach({wait.keys[i], options});
      if (status.is_err()) {
        end_run(status.error());
        return false;
      }
      wait.statuses[i] = status.value();
    }
    if (wait.over())
      return true;
    several = &wait;
    several_options = options;
    waiter = &w;
    return false;
  }

  bool cancel_pending(std::vector<std::string> keys, std::string reason,
                      step_waiter&) override {
    for (auto& key : keys)
      cancels.emplace_back(std::move(key), reason);
    return false;
  }

  bool run_blocking(blocking_job& job, step_waiter& w) override {
    if (!defer_jobs) {
      job.run();
      return false;
    }
    jobs.emplace_back(&job, &w);
    return true;
  }

  void end_run(error e) override {
    ended = std::move(e);
  }

  std::optional<approval_request> waiting;
  /// A wait on several approvals, while the run waits on it.
  approval_wait* several = nullptr;
  approval_options several_options;
  /// The cancels asked for: key and reason.
  std::vector<std::pair<std::string, std::string>> cancels;
  step_waiter* waiter = nullptr;
  std::optional<error> ended;
  bool defer_jobs = false;
  std::vector<std::pair<blocking_job*, step_waiter*>> jobs;

private:
  saved_workflow_state& state_;
  map_gate& gate_;
};

/// One run kept in memory between its pauses, as a resident run actor
/// keeps its suspended coroutine.
class resident_run {
public:
  resident_run(workflow wf, saved_workflow_state& state, map_gate& gate)
      : wf_(std::move(wf)), state_(state), gate_(gate), host_(state, gate),
        step_(host_) {}

  test_host& host() {
    return host_;
  }

  /// Runs the workflow from the top until it pauses or ends.
  void start(time_point now) {
    try {
      root_ = wf_(step_, state_.input);
    } catch (const std::exception& e) {
      // A workflow function that is no coroutine may throw when called.
      finish(err(make_error(error_type::unexpected_error, e.what())));
      return;
    }
    root_.start();
    settle(now);
  }

  /// Resumes the coroutine with the approval's status from the gate; false
  /// (and nothing happens) while it is still pending.
  bool resume(time_point now) {
    if (host_.several != nullptr) {
      auto& wait = *host_.several;
      for (std::size_t i = 0; i < wait.keys.size(); ++i)
        if (auto it = gate_.statuses.find(wait.keys[i]);
            it != gate_.statuses.end())
          wait.statuses[i] = it->second;
      if (!wait.over())
        return false;
      host_.several = nullptr;
      std::exchange(host_.waiter, nullptr)->finished();
      settle(now);
      return true;
    }
    if (!host_.waiting)
      return false;
    // The decision comes with the wake: nobody asks the gate again.
    auto it = gate_.statuses.find(host_.waiting->key);
    if (it == gate_.statuses.end() || it->second.is_pending())
      return false;
    host_.waiting.reset();
    std::exchange(host_.waiter, nullptr)->decided(it->second);
    settle(now);
    return true;
  }

  /// Runs the first deferred blocking job and resumes its step.
  void finish_job(time_point now) {
    BOOST_REQUIRE(!host_.jobs.empty());
    auto [job, waiter] = host_.jobs.front();
    host_.jobs.erase(host_.jobs.begin());
    job->run();
    waiter->finished();
    settle(now);
  }

  /// True while a coroutine is alive (suspended).
  [[nodiscard]] bool suspended() const noexcept {
    return static_cast<bool>(root_) && !root_.done();
  }

private:
  /// Reads what the coroutine came to, as the run actor does.
  void settle(time_point now) {
    state_.updated_at = now;
    state_.pending_approvals.clear();
    state_.pending_reason.clear();
    if (host_.ended) {
      finish(err(*std::exchange(host_.ended, std::nullopt)));
    } else if (root_.done()) {
      try {
        finish(root_.result());
      } catch (const std::exception& e) {
        finish(err(make_error(error_type::unexpected_error, e.what())));
      } catch (...) {
        finish(err(make_error(error_type::unexpected_error, "non-standard")));
      }
    } else if (host_.waiting) {
      state_.status = run_status::paused;
      state_.pending_approvals = {host_.waiting->key};
      state_.pending_reason = host_.waiting->options.pending_reason;
    } else if (host_.several != nullptr) {
      state_.status = run_status::paused;
      state_.pending_approvals = host_.several->pending_keys();
      state_.pending_reason = host_.several_options.pending_reason;
    } else {
      state_.status = run_status::running;
    }
  }

  void finish(model::result<bj::value> outcome) {
    root_.reset();
    state_.status
      = outcome.is_ok() ? run_status::completed : run_status::failed;
    state_.outcome = std::move(outcome);
  }

  workflow wf_;
  saved_workflow_state& state_;
  map_gate& gate_;
  test_host host_;
  model::step step_;
  task<model::result<bj::value>> root_;
};

/// Executes `wf` once from the top over `state`'s checkpoints until it
/// pauses or ends, then drops the coroutine: the path of a run re-activated
/// from the store.
void run_workflow(const workflow& wf, saved_workflow_state& state,
                  map_gate& gate, time_point now) {
  resident_run run{wf, state, gate};
  run.start(now);
}

} // namespace

BOOST_AUTO_TEST_SUITE(step)

// --- plain steps -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(run_with_explicit_keys_returns_values) {
  map_gate gate;
  auto state = new_run({{"qty", 3}});
  std::string seen_run_id;
  workflow wf = [&](model::step& s,
                    const bj::value& input) -> task<model::result<bj::value>> {
    seen_run_id = s.run_id();
    int price
      = co_await s.run("price", []() -> model::result<int> { return 5; });
    std::string sku
      = co_await s.run("sku", [] { return std::string{"WIDGET"}; });
    bj::value qty = co_await s.run("qty", [&] { return input.at("qty"); });
    co_return bj::value{{"sku", sku}, {"total", price * qty.to_number<int>()}};
  };
  run_workflow(wf, state, gate, t0 + duration{1});

  BOOST_TEST(state.status == run_status::completed);
  BOOST_TEST(outcome_value(state)
             == bj::value({{"sku", "WIDGET"}, {"total", 15}}));
  BOOST_TEST(seen_run_id == "run-1");
  BOOST_TEST((state.updated_at == t0 + duration{1}));
  BOOST_REQUIRE_EQUAL(state.checkpoints.size(), 3U);
  BOOST_TEST(state.checkpoints.at("price").value() == bj::value(5));
  BOOST_TEST(state.checkpoints.at("sku").value() == bj::value("WIDGET"));
  BOOST_TEST(state.checkpoints.at("qty").value() == bj::value(3));
  BOOST_TEST(gate.reaches == 0);
  BOOST_TEST(state.pending_approvals.empty());
}

// Step functions capturing objects with destructors (a shared_ptr), plain
// and async, with a pause between: each capture is released exactly once.
// They are named before the co_await: g++ 12 destroys a temporary closure
// written inside a co_await expression twice, so `step::run` refuses one at
// compile time (see tests/model/gcc12_temporary_guard.cpp).
BOOST_AUTO_TEST_CASE(step_functions_release_their_captures_once) {
  map_gate gate;
  auto state = new_run();
  auto shared = std::make_shared<int>(7);
  long paused_count = 0;
  workflow wf
    = [shared, &paused_count](
        model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    auto plain = [shared] {
      return *shared;
    };
    auto async = [shared]() -> task<int> {
      co_return *shared + 1;
    };
    int a = co_await s.run("plain", plain);
    int b = co_await s.run("async", async);
    paused_count = shared.use_count();
    co_await s.approval("k");
    auto after = [shared, a, b] {
      return *shared + a + b;
    };
    int c = co_await s.run("after", after);
    co_return bj::value(c);
  };
  {
    resident_run run{wf, state, gate};
    run.start(t0);
    // Ours, the workflow function's two copies (ours and the run's) and the
    // two step functions the paused frame keeps: no copy a finished step
    // made is left behind.
    BOOST_TEST(paused_count == shared.use_count());
    BOOST_TEST(shared.use_count() == 3 + 2);
    gate.decide("k", approval_state::approved);
    BOOST_TEST(run.resume(t0));
  }
  BOOST_TEST(state.status == run_status::completed);
  BOOST_TEST(outcome_value(state) == bj::value(7 + 7 + 8));
  wf = nullptr;
  BOOST_TEST(shared.use_count() == 1);
}

BOOST_AUTO_TEST_CASE(typed_values_use_their_json_conversions) {
  map_gate gate;
  auto state = new_run();
  int calls = 0;
  std::vector<order> seen;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    order o = co_await s.run("create-order", [&]() -> model::result<order> {
      ++calls;
      return order{"ord_1", 15000};
    });
    seen.push_back(o);
    co_await s.approval("approve");
    co_return bj::value_from(o);
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::paused);
  BOOST_TEST(state.checkpoints.at("create-order").value()
             == bj::value({{"id", "ord_1"}, {"total", 15000}}));

  // Replayed from the (persisted) checkpoint: converted back to `order`.
  state = reload(state);
  gate.approve("approve", true);
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::completed);
  BOOST_TEST(calls == 1);
  BOOST_REQUIRE_EQUAL(seen.size(), 2U);
  BOOST_TEST((seen[0] == order{"ord_1", 15000}));
  BOOST_TEST((seen[1] == seen[0]));
  BOOST_TEST(outcome_value(state)
             == bj::value({{"id", "ord_1"}, {"total", 15000}}));
}

BOOST_AUTO_TEST_CASE(checkpoint_not_convertible_to_the_type_is_an_error) {
  map_gate gate;
  auto state = new_run();
  state.checkpoints["create-order"] = ok(bj::value("not an order"));
  int calls = 0;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    auto r = co_await s.try_run("create-order", [&]() -> model::result<order> {
      ++calls;
      return order{"ord_1", 1};
    });
    if (r.is_err())
      co_return r.error();
    co_return bj::value_from(r.value());
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(calls == 0);
  BOOST_TEST(state.status == run_status::failed);
  BOOST_TEST(outcome_type(state) == "UNEXPECTED_ERROR");
}

BOOST_AUTO_TEST_CASE(implicit_keys_follow_call_order) {
  map_gate gate;
  auto state = new_run();
  std::vector<std::string> calls;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    auto a = co_await s.run([&] {
      calls.push_back("first");
      return std::string{"one"};
    });
    auto b = co_await s.run([&] {
      calls.push_back("second");
      return std::string{"two"};
    });
    co_await s.approval("gate");
    co_return bj::value{a, b};
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::paused);
  BOOST_REQUIRE_EQUAL(state.checkpoints.count("#1"), 1U);
  BOOST_REQUIRE_EQUAL(state.checkpoints.count("#2"), 1U);
  BOOST_TEST(state.checkpoints.at("#1").value() == bj::value("one"));
  BOOST_TEST(state.checkpoints.at("#2").value() == bj::value("two"));

  // A new execution numbers from #1 again, so the checkpoints match.
  gate.approve("gate", nullptr);
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::completed);
  BOOST_TEST(calls == (std::vector<std::string>{"first", "second"}),
             boost::test_tools::per_element());
  BOOST_TEST(outcome_value(state) == bj::value({"one", "two"}));
}

BOOST_AUTO_TEST_CASE(checkpointed_step_is_not_called_again) {
  map_gate gate;
  auto state = new_run();
  int create_calls = 0;
  int fulfil_calls = 0;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    int id = co_await s.run("create", [&] { return ++create_calls * 100; });
    co_await s.approval("approve");
    co_await s.run("fulfil", [&] { ++fulfil_calls; });
    co_return id;
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::paused);
  BOOST_TEST(create_calls == 1);

  // Still pending: the run pauses again without re-running the first step.
  run_workflow(wf, state, gate, t0);
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::paused);
  BOOST_TEST(create_calls == 1);
  BOOST_TEST(fulfil_calls == 0);

  gate.approve("approve", true);
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::completed);
  BOOST_TEST(create_calls == 1);
  BOOST_TEST(fulfil_calls == 1);
  BOOST_TEST(outcome_value(state) == bj::value(100));
}

BOOST_AUTO_TEST_CASE(error_result_ends_the_run_early) {
  map_gate gate;
  auto state = new_run();
  int later = 0;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    co_await s.run("first", [] { return 1; });
    co_await s.run("reserve", []() -> model::result<int> {
      return make_error("OUT_OF_STOCK", "no widgets", {{"sku", "W"}});
    });
    co_await s.run("later", [&] { ++later; });
    co_await s.approval("never-reached");
    co_return bj::value("done");
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::failed);
  BOOST_TEST(outcome_type(state) == "OUT_OF_STOCK");
  BOOST_TEST(state.outcome->error().message == "no widgets");
  BOOST_TEST(state.outcome->error().details == bj::value({{"sku", "W"}}));
  BOOST_TEST(later == 0);
  BOOST_TEST(gate.reaches == 0);
  BOOST_TEST(state.checkpoints.count("later") == 0U);
  // A domain error is a completed step: it is checkpointed.
  BOOST_REQUIRE_EQUAL(state.checkpoints.count("reserve"), 1U);
  BOOST_TEST(state.checkpoints.at("reserve").is_err());
  BOOST_TEST(state.checkpoints.at("reserve").error().type == "OUT_OF_STOCK");
}

BOOST_AUTO_TEST_CASE(workflow_returning_an_error_fails) {
  map_gate gate;
  auto state = new_run();
  workflow wf
    = [](model::step&, const bj::value&) -> task<model::result<bj::value>> {
    co_return make_error("VALIDATION", "bad input");
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::failed);
  BOOST_TEST(outcome_type(state) == "VALIDATION");
}

BOOST_AUTO_TEST_CASE(
  exception_becomes_unexpected_error_and_is_not_checkpointed) {
  map_gate gate;
  auto state = new_run();
  int calls = 0;
  int later = 0;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    auto v = co_await s.run("flaky", [&]() -> int {
      if (++calls == 1)
        throw std::runtime_error("database unavailable");
      return 7;
    });
    co_await s.run("later", [&] { ++later; });
    co_return v;
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::failed);
  BOOST_TEST(outcome_type(state) == "UNEXPECTED_ERROR");
  BOOST_TEST(state.outcome->error().message == "database unavailable");
  BOOST_TEST(state.checkpoints.count("flaky") == 0U);
  BOOST_TEST(later == 0);

  // Not checkpointed, so executing the run again retries the step.
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(calls == 2);
  BOOST_TEST(state.status == run_status::completed);
  BOOST_TEST(outcome_value(state) == bj::value(7));
  BOOST_TEST(later == 1);
}

BOOST_AUTO_TEST_CASE(non_standard_exceptions_become_unexpected_error) {
  map_gate gate;
  auto state = new_run();
  workflow in_step
    = [](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    co_await s.run("odd", []() -> int { throw 42; });
    co_return nullptr;
  };
  run_workflow(in_step, state, gate, t0);
  BOOST_TEST(state.status == run_status::failed);
  BOOST_TEST(outcome_type(state) == "UNEXPECTED_ERROR");
  BOOST_TEST(state.checkpoints.empty());

  // Thrown by the workflow coroutine itself, outside any step.
  auto state2 = new_run();
  workflow outside
    = [](model::step&, const bj::value&) -> task<model::result<bj::value>> {
    throw std::logic_error("workflow bug");
    co_return nullptr;
  };
  run_workflow(outside, state2, gate, t0);
  BOOST_TEST(state2.status == run_status::failed);
  BOOST_TEST(outcome_type(state2) == "UNEXPECTED_ERROR");
  BOOST_TEST(state2.outcome->error().message == "workflow bug");
}

BOOST_AUTO_TEST_CASE(
  step_errors_are_not_swallowed_by_a_catch_of_std_exception) {
  map_gate gate;
  auto state = new_run();
  bool caught = false;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    try {
      co_await s.run("fails", []() -> model::result<int> {
        return make_error("DOMAIN", "nope");
      });
    } catch (const std::exception&) {
      caught = true;
    }
    co_return bj::value("went on");
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(!caught);
  BOOST_TEST(state.status == run_status::failed);
  BOOST_TEST(outcome_type(state) == "DOMAIN");
}

BOOST_AUTO_TEST_CASE(try_run_returns_the_error_without_ending_the_run) {
  map_gate gate;
  auto state = new_run();
  int later = 0;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    auto reserved = co_await s.try_run("reserve", []() -> model::result<int> {
      return make_error("OUT_OF_STOCK", "none");
    });
    BOOST_TEST(reserved.is_err());
    auto thrown = co_await s.try_run(
      "throws", []() -> int { throw std::runtime_error("boom"); });
    BOOST_TEST(thrown.is_err());
    auto fine = co_await s.try_run("fine", [] { return 3; });
    BOOST_TEST(fine.is_ok());
    co_await s.run("later", [&] { ++later; });
    co_return bj::value{{"reserve", reserved.error().type},
                        {"throws", thrown.error().type},
                        {"throwsMessage", thrown.error().message},
                        {"fine", fine.value()}};
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::completed);
  BOOST_TEST(later == 1);
  BOOST_TEST(outcome_value(state)
             == bj::value({{"reserve", "OUT_OF_STOCK"},
                           {"throws", "UNEXPECTED_ERROR"},
                           {"throwsMessage", "boom"},
                           {"fine", 3}}));
  BOOST_TEST(state.checkpoints.count("reserve") == 1U);
  BOOST_TEST(state.checkpoints.count("throws") == 0U);
}

BOOST_AUTO_TEST_CASE(void_steps) {
  map_gate gate;
  auto state = new_run();
  int notified = 0;
  int checked = 0;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    co_await s.run("notify", [&] { ++notified; });
    co_await s.run("check", [&]() -> model::result<void> {
      ++checked;
      return ok();
    });
    model::result<void> r
      = co_await s.try_run("soft-check", []() -> model::result<void> {
          return make_error("SOFT", "ignored");
        });
    BOOST_TEST(r.is_err());
    co_await s.approval("approve");
    co_await s.run("hard-check", []() -> model::result<void> {
      return make_error("HARD", "stops the run");
    });
    co_return bj::value("unreachable");
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::paused);
  BOOST_TEST(notified == 1);
  BOOST_TEST(checked == 1);
  BOOST_REQUIRE_EQUAL(state.checkpoints.count("notify"), 1U);
  BOOST_TEST(state.checkpoints.at("notify").is_ok());
  BOOST_TEST(state.checkpoints.at("notify").value().is_null());
  BOOST_TEST(state.checkpoints.at("check").is_ok());
  BOOST_TEST(state.checkpoints.at("soft-check").error().type == "SOFT");

  gate.approve("approve", nullptr);
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(notified == 1);
  BOOST_TEST(checked == 1);
  BOOST_TEST(state.status == run_status::failed);
  BOOST_TEST(outcome_type(state) == "HARD");
}

// --- approvals
// -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(pending_approval_pauses_the_run) {
  map_gate gate;
  auto state = new_run();
  int after = 0;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    // A braced JSON object inside a co_await expression does not compile
    // with g++ 12 ("array used as initializer"): built before it.
    bj::value metadata{{"orderId", "ord_1"}};
    auto v = co_await s.approval("approval:manager:ord_1",
                                 approval_options{}
                                   .with_reason("Waiting for manager approval")
                                   .with_quorum(2)
                                   .expiring_in(duration{60'000})
                                   .with_metadata(std::move(metadata)));
    ++after;
    co_return v;
  };
  run_workflow(wf, state, gate, t0 + duration{5});
  BOOST_TEST(state.status == run_status::paused);
  BOOST_TEST(state.pending_approvals
               == (std::vector<std::string>{"approval:manager:ord_1"}),
             boost::test_tools::per_element());
  BOOST_TEST(state.pending_reason == "Waiting for manager approval");
  BOOST_TEST(!state.outcome.has_value());
  BOOST_TEST(after == 0);
  BOOST_TEST(state.checkpoints.empty());
  BOOST_TEST((state.updated_at == t0 + duration{5}));

  // The gate was asked with the options given.
  BOOST_REQUIRE_EQUAL(gate.requests.size(), 1U);
  const auto& request = gate.requests[0];
  BOOST_TEST(request.key == "approval:manager:ord_1");
  BOOST_TEST(request.options.pending_reason == "Waiting for manager approval");
  BOOST_TEST(request.options.quorum == 2U);
  BOOST_TEST((request.options.expires_in == std::optional{duration{60'000}}));
  BOOST_TEST(request.options.metadata == bj::value({{"orderId", "ord_1"}}));

  auto answer = execution_result::of(state);
  BOOST_TEST(answer.status == run_status::paused);
  BOOST_TEST(answer.run_id == "run-1");
  BOOST_TEST(answer.reason == "Waiting for manager approval");
  BOOST_TEST(answer.pending_approvals.size() == 1U);
}

BOOST_AUTO_TEST_CASE(approved_returns_the_value_and_is_kept) {
  map_gate gate;
  auto state = new_run();
  int fulfil = 0;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    auto approval = co_await s.approval("approve", "waiting");
    co_await s.run("fulfil", [&] { ++fulfil; });
    co_return approval;
  };
  run_workflow(wf, state, gate, t0);
  BOOST_REQUIRE(state.status == run_status::paused);

  gate.approve("approve", {{"approvedBy", "jane"}});
  run_workflow(wf, state, gate, t0 + duration{10});
  BOOST_TEST(state.status == run_status::completed);
  BOOST_TEST(outcome_value(state) == bj::value({{"approvedBy", "jane"}}));
  BOOST_TEST(state.pending_approvals.empty());
  BOOST_TEST(state.pending_reason.empty());
  BOOST_TEST((state.updated_at == t0 + duration{10}));
  BOOST_TEST(fulfil == 1);
  BOOST_TEST(gate.reaches == 2);
  BOOST_REQUIRE_EQUAL(state.checkpoints.count("approve"), 1U);
  BOOST_TEST(state.checkpoints.at("approve").value()
             == bj::value({{"approvedBy", "jane"}}));

  // A later change of the approval does not change what the run saw.
  gate.decide("approve", approval_state::rejected, "changed my mind");
  run_workflow(wf, state, gate, t0 + duration{20});
  BOOST_TEST(state.status == run_status::completed);
  BOOST_TEST(outcome_value(state) == bj::value({{"approvedBy", "jane"}}));
  BOOST_TEST(gate.reaches == 2);
  BOOST_TEST(fulfil == 1);
}

BOOST_AUTO_TEST_CASE(edited_approval_returns_the_edited_value) {
  map_gate gate;
  auto state = new_run();
  approval_status edited;
  edited.state = approval_state::edited;
  edited.value = {{"amount", 900}};
  edited.decided_by = "jane";
  gate.statuses["approve"] = edited;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    co_return co_await s.approval("approve");
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::completed);
  BOOST_TEST(outcome_value(state) == bj::value({{"amount", 900}}));
}

BOOST_AUTO_TEST_CASE(rejected_expired_cancelled_are_errors_to_branch_on) {
  struct the_case {
    approval_state state;
    std::string reason;
    std::string type;
  };
  const the_case cases[] = {
    {approval_state::rejected, "too expensive", "APPROVAL_REJECTED"},
    {approval_state::expired, "", "APPROVAL_EXPIRED"},
    {approval_state::cancelled, "order withdrawn", "APPROVAL_CANCELLED"},
    {approval_state::cancelled, "", "APPROVAL_CANCELLED"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("state " << to_string(c.state)) {
      map_gate gate;
      gate.decide("approve", c.state, c.reason);

      // Branchable with try_approval: the run goes on.
      auto handled = new_run();
      workflow branch
        = [&](model::step& s,
              const bj::value&) -> task<model::result<bj::value>> {
        auto r = co_await s.try_approval("approve");
        if (r.is_ok())
          co_return bj::value("approved");
        co_return bj::value{{"branch", r.error().type},
                            {"message", r.error().message},
                            {"status", r.error().details.at("status")}};
      };
      run_workflow(branch, handled, gate, t0);
      BOOST_TEST(handled.status == run_status::completed);
      const auto& v = outcome_value(handled);
      BOOST_TEST(v.at("branch").as_string() == c.type);
      BOOST_TEST(v.at("status").as_string() == to_string(c.state));
      if (!c.reason.empty())
        BOOST_TEST(v.at("message").as_string() == c.reason);
      else
        BOOST_TEST(!v.at("message").as_string().empty());

      // Unhandled: the run ends failed with that error.
      auto unhandled = new_run();
      int after = 0;
      workflow plain = [&](model::step& s,
                           const bj::value&) -> task<model::result<bj::value>> {
        auto value = co_await s.approval("approve");
        ++after;
        co_return value;
      };
      run_workflow(plain, unhandled, gate, t0);
      BOOST_TEST(unhandled.status == run_status::failed);
      BOOST_TEST(outcome_type(unhandled) == c.type);
      BOOST_TEST(after == 0);
      BOOST_TEST(unhandled.checkpoints.count("approve") == 1U);
    }
  }
}

BOOST_AUTO_TEST_CASE(rejection_carries_the_reason_and_status) {
  map_gate gate;
  gate.decide("approve", approval_state::rejected, "budget exceeded");
  auto state = new_run();
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    co_return co_await s.approval("approve");
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(outcome_type(state) == "APPROVAL_REJECTED");
  const auto& e = state.outcome->error();
  BOOST_TEST(e.message == "budget exceeded");
  BOOST_TEST(e.details.at("status").as_string() == "rejected");
  BOOST_TEST(e.details.at("decidedBy").as_string() == "bob");
  BOOST_TEST(e.details.at("reason").as_string() == "budget exceeded");
}

BOOST_AUTO_TEST_CASE(approval_step_like_create_approval_step) {
  map_gate gate;
  const approval_step require_manager{
    {.key =
       [](std::string_view order_id) {
         return "approval:manager:" + std::string{order_id};
       },
     .options
     = approval_options{}.with_reason("Waiting for manager approval")}};

  const auto request = require_manager("ord_123");
  BOOST_TEST(request.key == "approval:manager:ord_123");
  BOOST_TEST(request.options.pending_reason == "Waiting for manager approval");

  auto state = new_run({{"items", {"WIDGET"}}});
  int create_calls = 0;
  int fulfil_calls = 0;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    order o = co_await s.run("create-order", [&] {
      ++create_calls;
      return order{"ord_123", 15000};
    });
    auto approval
      = co_await s.run("approval:manager:" + o.id, require_manager(o.id));
    co_await s.run("fulfil-order", [&] { ++fulfil_calls; });
    co_return bj::value{{"orderId", o.id},
                        {"approvedBy", approval.at("approvedBy")}};
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::paused);
  BOOST_TEST(state.pending_approvals
               == (std::vector<std::string>{"approval:manager:ord_123"}),
             boost::test_tools::per_element());
  BOOST_TEST(state.pending_reason == "Waiting for manager approval");
  BOOST_TEST(fulfil_calls == 0);

  gate.approve("approval:manager:ord_123",
               {{"approvedBy", "jane@example.com"}});
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::completed);
  BOOST_TEST(
    outcome_value(state)
    == bj::value({{"orderId", "ord_123"}, {"approvedBy", "jane@example.com"}}));
  BOOST_TEST(create_calls == 1);
  BOOST_TEST(fulfil_calls == 1);
}

BOOST_AUTO_TEST_CASE(approval_step_without_key_function_uses_the_subject) {
  const approval_step by_subject{
    {.options = approval_options{}.with_quorum(3)}};
  auto request = by_subject("raw-key");
  BOOST_TEST(request.key == "raw-key");
  BOOST_TEST(request.options.quorum == 3U);
}

BOOST_AUTO_TEST_CASE(step_returning_pending_approval_pauses_uncheckpointed) {
  map_gate gate;
  auto state = new_run();
  bool decided = false;
  int calls = 0;
  int after = 0;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    auto v
      = co_await s.run("external:approval", [&]() -> model::result<bj::value> {
          ++calls;
          if (!decided)
            return make_error(error_type::pending_approval,
                              "Waiting for the external system");
          return bj::value{{"approvedBy", "ext"}};
        });
    ++after;
    co_return v;
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::paused);
  BOOST_TEST(!state.outcome.has_value());
  BOOST_TEST(state.pending_approvals
               == (std::vector<std::string>{"external:approval"}),
             boost::test_tools::per_element());
  BOOST_TEST(state.pending_reason == "Waiting for the external system");
  BOOST_TEST(state.checkpoints.count("external:approval") == 0U);
  BOOST_TEST(after == 0);

  // Not checkpointed: the next execution asks again.
  decided = true;
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(calls == 2);
  BOOST_TEST(state.status == run_status::completed);
  BOOST_TEST(outcome_value(state) == bj::value({{"approvedBy", "ext"}}));
  BOOST_TEST(after == 1);
}

BOOST_AUTO_TEST_CASE(pending_approval_via_try_run_still_pauses) {
  map_gate gate;
  auto state = new_run();
  bool branched = false;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    auto r = co_await s.try_approval("approve", "wait");
    branched = true;
    co_return r;
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::paused);
  BOOST_TEST(!branched);
  BOOST_TEST(state.pending_reason == "wait");
}

BOOST_AUTO_TEST_CASE(gate_failure_ends_the_run_with_its_error) {
  map_gate gate;
  gate.failure = make_error(error_type::storage_error, "disk full");
  auto state = new_run();
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    auto r = co_await s.try_approval("approve");
    co_return r;
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::failed);
  BOOST_TEST(outcome_type(state) == "STORAGE_ERROR");
  BOOST_TEST(state.checkpoints.count("approve") == 0U);
}

BOOST_AUTO_TEST_CASE(three_approvals_each_step_runs_once_over_four_executions) {
  map_gate gate;
  auto state = new_run();
  std::map<std::string, int> calls;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    bj::array trail;
    trail.push_back(co_await s.run("a", [&] { return ++calls["a"]; }));
    trail.push_back(co_await s.approval("k1", "first"));
    trail.push_back(co_await s.run("b", [&] { return ++calls["b"]; }));
    trail.push_back(co_await s.approval("k2", "second"));
    trail.push_back(co_await s.run("c", [&] { return ++calls["c"]; }));
    trail.push_back(co_await s.approval("k3", "third"));
    trail.push_back(co_await s.run("d", [&] { return ++calls["d"]; }));
    co_return bj::value(std::move(trail));
  };

  const std::pair<const char*, const char*> pauses[]
    = {{"k1", "first"}, {"k2", "second"}, {"k3", "third"}};
  for (const auto& [key, reason] : pauses) {
    run_workflow(wf, state, gate, t0);
    BOOST_TEST_CONTEXT("paused on " << key) {
      BOOST_TEST(state.status == run_status::paused);
      BOOST_TEST(state.pending_approvals == (std::vector<std::string>{key}),
                 boost::test_tools::per_element());
      BOOST_TEST(state.pending_reason == reason);
    }
    // Persist and reload between executions, as the run actor does.
    state = reload(state);
    gate.approve(key, bj::value_from(std::string{"ok-"} + key));
  }
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::completed);
  BOOST_TEST(outcome_value(state)
             == bj::value({1, "ok-k1", 1, "ok-k2", 1, "ok-k3", 1}));
  for (const char* k : {"a", "b", "c", "d"}) {
    BOOST_TEST_INFO("step " << k);
    BOOST_TEST(calls[k] == 1);
  }
  // Each approval was asked while pending and once more when decided.
  for (const char* k : {"k1", "k2", "k3"}) {
    BOOST_TEST_INFO("approval " << k);
    BOOST_TEST(gate.reaches_by_key[k] == 2);
  }
  BOOST_TEST(state.approval_keys
               == (std::vector<std::string>{"k1", "k2", "k3"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(approval_keys_records_each_key_once) {
  map_gate gate;
  auto state = new_run();
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    co_await s.approval("shared");
    // The same approval waited for under another step key.
    co_await s.run("again", approval_request{"shared", {}});
    co_await s.approval("second");
    co_return nullptr;
  };
  for (int i = 0; i < 3; ++i)
    run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::paused);
  BOOST_TEST(state.approval_keys == (std::vector<std::string>{"shared"}),
             boost::test_tools::per_element());

  gate.approve("shared", 1);
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::paused);
  BOOST_TEST(state.pending_approvals == (std::vector<std::string>{"second"}),
             boost::test_tools::per_element());
  BOOST_TEST(state.approval_keys
               == (std::vector<std::string>{"shared", "second"}),
             boost::test_tools::per_element());
  BOOST_TEST(state.checkpoints.count("shared") == 1U);
  BOOST_TEST(state.checkpoints.count("again") == 1U);

  gate.approve("second", 2);
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::completed);
  BOOST_TEST(state.approval_keys.size() == 2U);
}

// --- coroutines: a pause suspends ------------------------------------------

BOOST_AUTO_TEST_CASE(a_resident_run_continues_where_it_paused) {
  map_gate gate;
  auto state = new_run();
  int entries = 0;
  std::map<std::string, int> steps;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    ++entries;
    auto a = co_await s.run("a", [&] { return ++steps["a"]; });
    auto v = co_await s.approval("k", "wait");
    auto b = co_await s.run("b", [&] { return ++steps["b"]; });
    co_return bj::value{a, v, b};
  };
  resident_run run{wf, state, gate};
  run.start(t0);
  BOOST_TEST(state.status == run_status::paused);
  BOOST_TEST(run.suspended());
  BOOST_TEST(!run.resume(t0)); // still pending: nothing happens
  gate.approve("k", "yes");
  BOOST_TEST(run.resume(t0 + duration{3}));
  BOOST_TEST(state.status == run_status::completed);
  BOOST_TEST(outcome_value(state) == bj::value({1, "yes", 1}));
  // One entry into the workflow, one call of each step, and the approval
  // asked for once: the decision came with the resume.
  BOOST_TEST(entries == 1);
  BOOST_TEST(steps["a"] == 1);
  BOOST_TEST(steps["b"] == 1);
  BOOST_TEST(gate.reaches_by_key["k"] == 1);

  // The same run re-activated from the store instead replays from the top.
  auto replayed = new_run();
  entries = 0;
  steps.clear();
  gate.statuses.clear();
  run_workflow(wf, replayed, gate, t0);
  replayed = reload(replayed);
  gate.approve("k", "yes");
  run_workflow(wf, replayed, gate, t0);
  BOOST_TEST(replayed.status == run_status::completed);
  BOOST_TEST(entries == 2);
  BOOST_TEST(steps["a"] == 1);
  BOOST_TEST(steps["b"] == 1);
}

BOOST_AUTO_TEST_CASE(a_catch_all_cannot_swallow_a_pause) {
  map_gate gate;
  auto state = new_run();
  int caught = 0;
  int effects = 0;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    try {
      co_await s.approval("k");
    } catch (...) {
      ++caught;
    }
    co_await s.run("effect", [&] { ++effects; });
    co_return bj::value("done");
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::paused);
  BOOST_TEST(caught == 0);
  BOOST_TEST(effects == 0);
}

BOOST_AUTO_TEST_CASE(a_catch_all_cannot_swallow_an_ending_error) {
  map_gate gate;
  gate.decide("k", approval_state::rejected, "no");
  auto state = new_run();
  int caught = 0;
  int effects = 0;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    try {
      co_await s.approval("k");
      co_await s.run("fails", []() -> model::result<int> {
        return make_error("DOMAIN", "nope");
      });
    } catch (...) {
      ++caught;
    }
    co_await s.run("effect", [&] { ++effects; });
    co_return bj::value("went on");
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::failed);
  BOOST_TEST(outcome_type(state) == "APPROVAL_REJECTED");
  BOOST_TEST(caught == 0);
  BOOST_TEST(effects == 0);
}

BOOST_AUTO_TEST_CASE(an_async_step_is_awaited_and_kept) {
  map_gate gate;
  auto state = new_run();
  int calls = 0;
  auto twice = [](int x) -> task<int> {
    co_return 2 * x;
  };
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    auto v = co_await s.run("async", [&]() -> task<model::result<int>> {
      ++calls;
      co_return co_await twice(21);
    });
    auto thrown = co_await s.try_run("throws", []() -> task<int> {
      throw std::runtime_error("async boom");
      co_return 0;
    });
    co_await s.approval("k");
    co_return bj::value{v, thrown.error().message};
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::paused);
  BOOST_TEST(state.checkpoints.at("async").value() == bj::value(42));
  // An exception is reported, not kept: a later execution tries again.
  BOOST_TEST(state.checkpoints.count("throws") == 0U);
  gate.approve("k", true);
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(calls == 1);
  BOOST_TEST(outcome_value(state) == bj::value({42, "async boom"}));
}

// An async step returning nothing (`task<void>`), like a plain one.
BOOST_AUTO_TEST_CASE(an_async_step_may_return_nothing) {
  map_gate gate;
  auto state = new_run();
  int calls = 0;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    co_await s.run("notify", [&]() -> task<void> {
      ++calls;
      co_return;
    });
    co_await s.approval("k");
    co_return bj::value("done");
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.checkpoints.at("notify").value() == bj::value{});
  gate.approve("k", true);
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(calls == 1);
  BOOST_TEST(outcome_value(state) == bj::value("done"));

  auto counted = std::make_shared<int>(0);
  auto after = new_run();
  workflow later
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    co_await s.approval("k2");
    // Named first: a by-copy capture in a temporary inside the co_await is
    // refused on g++ 12 (see gcc12_temporary_guard.cpp).
    auto notify = [counted]() -> task<void> {
      ++*counted;
      co_return;
    };
    co_await s.run("notify", notify);
    co_return bj::value("done");
  };
  run_workflow(later, after, gate, t0);
  gate.approve("k2", true);
  run_workflow(later, after, gate, t0);
  BOOST_TEST(*counted == 1);
}

BOOST_AUTO_TEST_CASE(nested_tasks_are_destroyed_with_an_ended_run) {
  map_gate gate;
  auto state = new_run();
  int destroyed = 0;
  struct guard {
    int& n;
    ~guard() {
      ++n;
    }
  };
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    guard outer{destroyed};
    auto inner = [&]() -> task<int> {
      guard g{destroyed};
      co_return co_await s.run("fails", []() -> model::result<int> {
        return make_error("DOMAIN", "stop here");
      });
    };
    co_await inner();
    co_return bj::value("unreachable");
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(outcome_type(state) == "DOMAIN");
  BOOST_TEST(destroyed == 2);
}

BOOST_AUTO_TEST_CASE(values_json_cannot_carry_are_refused_naming_the_step) {
  map_gate gate;
  auto state = new_run();
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    co_await s.run("ratio", [] { return std::nan(""); });
    co_return bj::value("unreachable");
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(state.status == run_status::failed);
  BOOST_TEST(outcome_type(state) == "UNEXPECTED_ERROR");
  BOOST_TEST(state.outcome->error().message.find("'ratio'")
             != std::string::npos);
  BOOST_TEST(state.checkpoints.count("ratio") == 0U);

  auto inf = new_run();
  workflow branch
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    auto r = co_await s.try_run("inf", [] {
      return bj::value{{"x", -HUGE_VAL}};
    });
    co_return bj::value(r.is_err());
  };
  run_workflow(branch, inf, gate, t0);
  BOOST_TEST(outcome_value(inf) == bj::value(true));
  BOOST_TEST(inf.checkpoints.count("inf") == 0U);
}

// The same for an error result whose details JSON cannot carry: the step
// fails naming itself, and nothing is kept.
BOOST_AUTO_TEST_CASE(error_details_json_cannot_carry_are_refused_too) {
  map_gate gate;
  auto state = new_run();
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    // Named first: no JSON initializer inside the co_await expression.
    auto far = []() -> model::result<int> {
      return model::make_error("OUT_OF_RANGE", "too far",
                               bj::value{{"distance", HUGE_VAL}});
    };
    auto r = co_await s.try_run("far", far);
    co_return bj::value(r.is_err() ? r.error().message : "ok");
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(outcome_value(state).as_string().find("'far'")
             != bj::string::npos);
  BOOST_TEST(outcome_value(state).as_string().find("OUT_OF_RANGE")
             != bj::string::npos);
  BOOST_TEST(state.checkpoints.count("far") == 0U);
}

BOOST_AUTO_TEST_CASE(a_blocking_step_suspends_until_its_job_ran) {
  map_gate gate;
  auto state = new_run();
  int calls = 0;
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    auto v = co_await s.run("slow", [&] { return ++calls; });
    co_return v;
  };
  resident_run run{wf, state, gate};
  run.host().defer_jobs = true;
  run.start(t0);
  BOOST_TEST(state.status == run_status::running);
  BOOST_TEST(calls == 0);
  run.finish_job(t0);
  BOOST_TEST(state.status == run_status::completed);
  BOOST_TEST(outcome_value(state) == bj::value(1));
}

BOOST_AUTO_TEST_CASE(a_long_replay_does_not_grow_the_stack) {
  // Each replayed step finishes without suspending; at -O0 a naive
  // symmetric transfer would nest a frame per step and overflow the stack.
  constexpr int steps = 200'000;
  map_gate gate;
  auto state = new_run();
  for (int i = 0; i < steps; ++i)
    state.checkpoints.emplace("s" + std::to_string(i), ok(bj::value(i)));
  workflow wf
    = [&](model::step& s, const bj::value&) -> task<model::result<bj::value>> {
    std::int64_t sum = 0;
    for (int i = 0; i < steps; ++i)
      sum += co_await s.run("s" + std::to_string(i), [] { return -1; });
    co_return sum;
  };
  run_workflow(wf, state, gate, t0);
  BOOST_TEST(outcome_value(state)
             == bj::value(std::int64_t{steps} * (steps - 1) / 2));
}

// --- waits on several approvals ---------------------------------------------

namespace {

approval_status decided_at(approval_state state, time_point at,
                           bj::value value = {}) {
  approval_status s;
  s.state = state;
  s.value = std::move(value);
  s.decided_by = "bob";
  s.decided_at = at;
  if (state == approval_state::rejected)
    s.reason = "no";
  return s;
}

/// first_approval (or its try form) on the keys of `in`, returning the key
/// that decided and its state; counts entries.
workflow first_of(int& entries, bool try_form) {
  return [&entries,
          try_form](model::step& s,
                    const bj::value& in) -> task<model::result<bj::value>> {
    ++entries;
    std::vector<std::string> keys;
    for (const auto& k : in.at("keys").as_array())
      keys.emplace_back(k.as_string());
    auto options = approval_options{}.with_reason("Either will do");
    decided_approval got;
    if (try_form)
      got = co_await s.try_first_approval(keys, options);
    else
      got = co_await s.first_approval(keys, options);
    co_return bj::value{{"key", got.key},
                        {"state", to_string(got.status.state)}};
  };
}

bj::value keys_of(std::initializer_list<const char*> keys) {
  bj::array out;
  for (const auto* k : keys)
    out.emplace_back(k);
  return bj::object{{"keys", std::move(out)}};
}

} // namespace

BOOST_AUTO_TEST_CASE(wait_keys_are_checked_whole) {
  BOOST_TEST(check_wait_keys({"a", "b"}).is_ok());
  auto refused
    = [](const std::vector<std::string>& keys, const std::string& says) {
        auto checked = check_wait_keys(keys);
        BOOST_TEST_REQUIRE(checked.is_err());
        BOOST_TEST(checked.error().type == error_type::invalid_argument);
        BOOST_TEST(checked.error().message.find(says) != std::string::npos,
                   checked.error().message);
      };
  refused({}, "at least one key");
  refused({"a", "b", "a"}, "'a' is given twice");
  refused({"a", ""}, "must not be empty");
  refused({"a", std::string(max_approval_key_bytes + 1, 'k')}, "longer");
  std::vector<std::string> many;
  for (std::size_t i = 0; i <= max_wait_keys; ++i)
    many.push_back("k" + std::to_string(i));
  refused(many, "at most 64 keys, not 65");
  many.pop_back();
  BOOST_TEST(check_wait_keys(many).is_ok());
}

BOOST_AUTO_TEST_CASE(the_earliest_decision_decides_a_wait_ties_by_order) {
  approval_wait wait;
  wait.rule = wait_rule::first;
  wait.keys = {"a", "b", "c"};
  wait.statuses.resize(3);
  BOOST_TEST(!wait.over());
  BOOST_TEST(!wait.deciding().has_value());
  wait.statuses[2] = decided_at(approval_state::approved, t0 + duration{5});
  BOOST_TEST(wait.over());
  BOOST_TEST((wait.deciding() == std::optional<std::size_t>{2}));
  wait.statuses[1] = decided_at(approval_state::rejected, t0 + duration{3});
  BOOST_TEST((wait.deciding() == std::optional<std::size_t>{1}));
  wait.statuses[0] = decided_at(approval_state::cancelled, t0 + duration{3});
  BOOST_TEST((wait.deciding() == std::optional<std::size_t>{0}));
  BOOST_TEST(wait.pending_keys().empty());

  // All of them, granted: a rejection decides; grants alone do not.
  wait.rule = wait_rule::all_granted;
  wait.statuses = {decided_at(approval_state::approved, t0),
                   {},
                   decided_at(approval_state::edited, t0)};
  BOOST_TEST(!wait.over());
  BOOST_TEST(wait.pending_keys() == std::vector<std::string>{"b"},
             boost::test_tools::per_element());
  wait.statuses[1] = decided_at(approval_state::expired, t0);
  BOOST_TEST(wait.over());
  BOOST_TEST((wait.deciding() == std::optional<std::size_t>{1}));
  wait.rule = wait_rule::all;
  BOOST_TEST(wait.over());
  BOOST_TEST(!wait.deciding().has_value());
}

// Two keys decided before the run got there: the earlier decision wins
// whatever the order of the keys, the third key is cancelled as superseded,
// and a replay over the checkpoint returns the same key even once the
// approvals say otherwise.
BOOST_AUTO_TEST_CASE(first_of_several_decided_keys_takes_the_earliest) {
  map_gate gate;
  gate.statuses["a"]
    = decided_at(approval_state::approved, t0 + duration{9}, "late");
  gate.statuses["b"]
    = decided_at(approval_state::approved, t0 + duration{4}, "early");
  auto state = new_run(keys_of({"a", "b", "c"}));
  int entries = 0;
  auto wf = first_of(entries, false);
  {
    resident_run run{wf, state, gate};
    run.start(t0 + duration{10});
    BOOST_TEST(outcome_value(state)
               == bj::value({{"key", "b"}, {"state", "approved"}}));
    BOOST_TEST_REQUIRE(run.host().cancels.size() == 1U);
    BOOST_TEST(run.host().cancels[0].first == "c");
    BOOST_TEST(run.host().cancels[0].second == "superseded by 'b'");
  }
  const std::string step_key = R"(first-of:["a","b","c"])";
  BOOST_TEST_REQUIRE(state.checkpoints.contains(step_key));

  gate.statuses["a"] = decided_at(approval_state::approved, t0, "earliest");
  gate.reaches = 0;
  state = reload(state);
  state.outcome.reset();
  resident_run replay{wf, state, gate};
  replay.start(t0 + duration{20});
  BOOST_TEST(outcome_value(state)
             == bj::value({{"key", "b"}, {"state", "approved"}}));
  BOOST_TEST(gate.reaches == 0);
  // A replay cancels again what is left: the host skips what is decided.
  BOOST_TEST(replay.host().cancels.size() == 1U);
}

// A rejection of one key decides the wait: the try form returns it, the
// plain form ends the run with APPROVAL_REJECTED; the other key is
// cancelled either way.
BOOST_AUTO_TEST_CASE(a_rejection_decides_a_first_of_wait) {
  for (const bool try_form : {true, false}) {
    map_gate gate;
    auto state = new_run(keys_of({"a", "b"}));
    int entries = 0;
    resident_run run{first_of(entries, try_form), state, gate};
    run.start(t0);
    BOOST_TEST(state.status == run_status::paused);
    BOOST_TEST(state.pending_approvals == (std::vector<std::string>{"a", "b"}),
               boost::test_tools::per_element());
    BOOST_TEST(state.pending_reason == "Either will do");
    gate.statuses["b"] = decided_at(approval_state::rejected, t0);
    BOOST_TEST(run.resume(t0 + duration{1}));
    if (try_form)
      BOOST_TEST(outcome_value(state)
                 == bj::value({{"key", "b"}, {"state", "rejected"}}));
    else
      BOOST_TEST(outcome_type(state) == error_type::approval_rejected);
    BOOST_TEST_REQUIRE(run.host().cancels.size() == 1U);
    BOOST_TEST(run.host().cancels[0].first == "a");
  }
}

// Bad keys end the run with INVALID_ARGUMENT, in both forms, before
// anything is asked for.
BOOST_AUTO_TEST_CASE(bad_keys_end_the_run_before_anything_is_asked) {
  for (const bool try_form : {true, false}) {
    map_gate gate;
    auto state = new_run(keys_of({"a", "b", "a"}));
    int entries = 0;
    run_workflow(first_of(entries, try_form), state, gate, t0);
    BOOST_TEST(outcome_type(state) == error_type::invalid_argument);
    BOOST_TEST(gate.reaches == 0);
    BOOST_TEST(state.checkpoints.empty());
  }
}

// All of several: each key's status in the order given once every key is
// decided; the plain form ends the run on a rejection and cancels the rest.
BOOST_AUTO_TEST_CASE(all_of_several_waits_for_every_key) {
  for (const bool try_form : {true, false}) {
    map_gate gate;
    auto state = new_run();
    workflow wf
      = [try_form](model::step& s,
                   const bj::value&) -> task<model::result<bj::value>> {
      std::vector<std::string> keys{"x", "y", "z"};
      std::vector<decided_approval> all;
      if (try_form)
        all = co_await s.try_all_approvals(keys);
      else
        all = co_await s.all_approvals(keys);
      bj::array states;
      for (const auto& d : all)
        states.emplace_back(d.key + "="
                            + std::string{to_string(d.status.state)});
      co_return bj::value(std::move(states));
    };
    resident_run run{wf, state, gate};
    run.start(t0);
    gate.statuses["z"] = decided_at(approval_state::approved, t0);
    BOOST_TEST(!run.resume(t0));
    gate.statuses["x"] = decided_at(approval_state::rejected, t0);
    if (try_form) {
      BOOST_TEST(!run.resume(t0));
      gate.statuses["y"] = decided_at(approval_state::edited, t0);
      BOOST_TEST(run.resume(t0));
      BOOST_TEST(outcome_value(state)
                 == bj::value({"x=rejected", "y=edited", "z=approved"}));
      BOOST_TEST(run.host().cancels.empty());
    } else {
      BOOST_TEST(run.resume(t0));
      BOOST_TEST(outcome_type(state) == error_type::approval_rejected);
      BOOST_TEST_REQUIRE(run.host().cancels.size() == 1U);
      BOOST_TEST(run.host().cancels[0].first == "y");
      BOOST_TEST(run.host().cancels[0].second
                 == "not needed: 'x' was rejected");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
