// One approval cycle in memory: execute (the run pauses), grant, resume to
// completion, through the blocking facade and through typed messages.

#include <string>

#include <benchmark/benchmark.h>
#include <boost/json.hpp>
#include <caf/all.hpp>

#include "signoff/signoff.hpp"

namespace {

using boost::json::value;
using signoff::model::result;

/// Create an order, wait for the manager, fulfil it.
signoff::model::workflow three_step_order() {
  return [](signoff::model::step& step, const value& in) -> result<value> {
    auto order = step.run("create", [&] {
      return value{{"orderId", in.at("orderId")}, {"total", 15000}};
    });
    auto approval = step.approval(
      "approval:manager:" + std::string{order.at("orderId").as_string()});
    step.run("fulfil", [] { return value{{"shipped", true}}; });
    return value{{"orderId", order.at("orderId")}, {"approval", approval}};
  };
}

void check_completed(benchmark::State& state,
                     const result<signoff::model::saved_workflow_state>& s) {
  if (s.is_err() || s->status != signoff::model::run_status::completed)
    state.SkipWithError("a run did not complete");
}

void facade_cycle(benchmark::State& state) {
  signoff::orchestrator orch;
  orch.register_workflow("order", three_step_order());
  std::size_t n = 0;
  for (auto _ : state) {
    const auto id = "ord_" + std::to_string(n++);
    auto run = orch.execute("order", value{{"orderId", id}});
    auto granted = orch.grant_approval("approval:manager:" + id, true);
    if (run.is_err() || granted.is_err()
        || granted->resumed_workflows.size() != 1) {
      state.SkipWithError("cycle failed");
      break;
    }
    check_completed(state, orch.get_workflow_status(run->run_id));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(facade_cycle)->UseRealTime();

void typed_message_cycle(benchmark::State& state) {
  caf::actor_system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  auto orch = signoff::actors::spawn_orchestrator(sys, {});
  {
    caf::scoped_actor self{sys};
    self
      ->request(orch, caf::infinite, signoff::actors::register_atom_v,
                std::string{"order"}, three_step_order())
      .receive([](bool) {}, [](caf::error&) {});
    std::size_t n = 0;
    for (auto _ : state) {
      const auto id = "ord_" + std::to_string(n++);
      bool ok = false;
      self
        ->request(orch, caf::infinite, signoff::actors::execute_atom_v,
                  signoff::actors::execute_request{.workflow_name = "order",
                                                   .input = {{"orderId", id}}})
        .receive(
          [&](result<signoff::model::execution_result>& r) {
            ok = r.is_ok() && r->status == signoff::model::run_status::paused;
          },
          [](caf::error&) {});
      self
        ->request(
          orch, caf::infinite, signoff::actors::decide_atom_v,
          signoff::actors::decision_request{
            signoff::model::decision::grant("approval:manager:" + id, true)})
        .receive(
          [&](result<signoff::actors::decision_report>& r) {
            ok = ok && r.is_ok() && r->resumed_workflows.size() == 1;
          },
          [](caf::error&) {});
      if (!ok) {
        state.SkipWithError("cycle failed");
        break;
      }
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  caf::anon_send_exit(orch, caf::exit_reason::user_shutdown);
}
BENCHMARK(typed_message_cycle)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
