// One approval cycle in memory: execute (the run pauses), grant, resume to
// completion, through the blocking facade and through typed messages with
// 1, 16 and 256 cycles in flight. Items per second are cycles per second.

#include <benchmark/benchmark.h>

#include "cycle_driver.hpp"
#include "order_workflow.hpp"

namespace {

using namespace signoff::bench;

/// Cycles per benchmark iteration, so starting the driver is amortized.
constexpr std::size_t batch = 256;

/// An in-memory orchestrator running the order workflow.
struct order_orchestrator {
  std::shared_ptr<step_counts> counts = std::make_shared<step_counts>();
  signoff::orchestrator orch;
  order_orchestrator() {
    orch.register_workflow(workflow_name, order_workflow(counts));
  }
};

void finish(benchmark::State& state, const order_orchestrator& o,
            std::size_t cycles) {
  expect_step_counts(*o.counts, cycles, cycles);
  state.SetItemsProcessed(static_cast<std::int64_t>(cycles));
}

void facade_cycles(benchmark::State& state) {
  order_orchestrator o;
  std::size_t done = 0;
  for (auto _ : state) {
    drive_facade_cycles(o.orch, done, batch);
    done += batch;
  }
  finish(state, o, done);
}
BENCHMARK(facade_cycles)->UseRealTime();

void typed_cycles(benchmark::State& state) {
  order_orchestrator o;
  const auto window = static_cast<std::size_t>(state.range(0));
  std::size_t done = 0;
  for (auto _ : state) {
    drive_typed_cycles(o.orch.system(), o.orch.handle(), done, batch, window);
    done += batch;
  }
  finish(state, o, done);
}
BENCHMARK(typed_cycles)
  ->ArgName("in_flight")
  ->Arg(1)
  ->Arg(16)
  ->Arg(256)
  ->UseRealTime();

} // namespace

BENCHMARK_MAIN();
