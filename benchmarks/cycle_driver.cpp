#include "cycle_driver.hpp"

#include <future>
#include <memory>

#include <caf/all.hpp>

#include "measure.hpp"
#include "order_workflow.hpp"

namespace signoff::bench {

namespace {

/// What the driving actor shares with its callbacks. Only that actor
/// touches it, so it needs no lock.
struct cycles_job {
  actors::orchestrator_actor orchestrator;
  std::size_t next = 0;
  std::size_t end = 0;
  std::size_t in_flight = 0;
  std::promise<void> done;
};

using job_ptr = std::shared_ptr<cycles_job>;

void start_cycle(caf::event_based_actor* self, const job_ptr& job);

void on_actor_error(const caf::error& e) {
  fail("a request to the orchestrator failed: " + caf::to_string(e));
}

/// Books a finished cycle and starts the next, or ends the job.
void cycle_done(caf::event_based_actor* self, const job_ptr& job) {
  --job->in_flight;
  if (job->next < job->end) {
    start_cycle(self, job);
  } else if (job->in_flight == 0) {
    job->done.set_value();
    self->quit();
  }
}

void grant(caf::event_based_actor* self, const job_ptr& job, std::size_t i) {
  self
    ->request(job->orchestrator, caf::infinite, actors::decide_atom_v,
              actors::decision_request{grant_decision(i)})
    .then(
      [self, job, i](model::result<actors::decision_report>& r) {
        expect_granted(r, i, true);
        cycle_done(self, job);
      },
      on_actor_error);
}

void start_cycle(caf::event_based_actor* self, const job_ptr& job) {
  const auto i = job->next++;
  ++job->in_flight;
  self
    ->request(job->orchestrator, caf::infinite, actors::execute_atom_v,
              actors::execute_request{.workflow_name = workflow_name,
                                      .input = order_input(i),
                                      .run_id = run_id(i)})
    .then(
      [self, job, i](model::result<model::execution_result>& r) {
        expect_paused(r, i);
        grant(self, job, i);
      },
      on_actor_error);
}

} // namespace

double drive_typed_cycles(caf::actor_system& system,
                          const actors::orchestrator_actor& orchestrator,
                          std::size_t first, std::size_t count,
                          std::size_t window) {
  if (count == 0)
    return 0; // the actor would never finish, nor the wait below
  auto job = std::make_shared<cycles_job>();
  job->orchestrator = orchestrator;
  job->next = first;
  job->end = first + count;
  auto finished = job->done.get_future();
  const auto start = bench_clock::now();
  system.spawn([job, window](caf::event_based_actor* self) {
    for (std::size_t w = 0; w < window && job->next < job->end; ++w)
      start_cycle(self, job);
  });
  finished.wait();
  return seconds_since(start);
}

double drive_facade_cycles(orchestrator& orch, std::size_t first,
                           std::size_t count, std::vector<double>* wake_us) {
  const auto start = bench_clock::now();
  for (auto i = first; i < first + count; ++i) {
    expect_paused(
      orch.execute(workflow_name, order_input(i), {.run_id = run_id(i)}), i);
    const auto granted = bench_clock::now();
    expect_granted(orch.decide(grant_decision(i)), i, true);
    if (wake_us != nullptr)
      wake_us->push_back(microseconds_since(granted));
  }
  return seconds_since(start);
}

} // namespace signoff::bench
