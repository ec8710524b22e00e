#include "actor_scenarios.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <future>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "measure.hpp"
#include "order_workflow.hpp"
#include "signoff/signoff.hpp"

namespace signoff::bench {

namespace {

// ---- bare-actor -----------------------------------------------------------

using ping_atom = caf::atom_constant<caf::atom("ping")>;
constexpr ping_atom ping_atom_v{};

void bare_actor_scenario_in(caf::actor_system& system, std::size_t n) {
  std::vector<caf::actor> actors;
  actors.reserve(n);
  const auto before = resident_now();
  for (std::size_t i = 0; i < n; ++i)
    actors.push_back(system.spawn([](caf::event_based_actor*) -> caf::behavior {
      return {[](ping_atom) {
        return true;
      }};
    }));
  // Each actor has run its first message (its behavior is built) once it
  // answered one.
  caf::scoped_actor self{system};
  for (const auto& a : actors)
    self->request(a, caf::infinite, ping_atom_v)
      .receive([](bool) {},
               [](caf::error& e) { fail("ping: " + caf::to_string(e)); });
  report_memory_per("bare_actor.n" + std::to_string(n), "actor",
                    resident_now() - before, n);
  for (const auto& a : actors)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

// ---- slow-actor -----------------------------------------------------------

using charge_atom = caf::atom_constant<caf::atom("charge")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
constexpr charge_atom charge_atom_v{};
constexpr tick_atom tick_atom_v{};

/// Answers each charge (with twice its amount) after `reply_delay`, holding
/// no thread meanwhile: a service that is slow, not busy.
using slow_service = caf::typed_actor<
  caf::replies_to<charge_atom, std::uint64_t>::with<std::uint64_t>,
  caf::reacts_to<tick_atom>>;

constexpr std::chrono::milliseconds reply_delay{100};

/// What the benchmark reads from the service while it runs.
struct service_progress {
  std::size_t expected = 0;
  std::promise<void> all_received;
  std::atomic<std::size_t> answered{0};
};

struct slow_state {
  struct waiting {
    std::chrono::steady_clock::time_point due;
    caf::typed_response_promise<std::uint64_t> reply;
    std::uint64_t amount;
  };
  std::deque<waiting> queue;
  bool ticking = false;
  std::size_t received = 0;
  std::shared_ptr<service_progress> progress;
};

slow_service::behavior_type
slow_service_behavior(slow_service::stateful_pointer<slow_state> self,
                      std::shared_ptr<service_progress> progress) {
  self->state.progress = std::move(progress);
  return {
    [self](charge_atom,
           std::uint64_t amount) -> caf::typed_response_promise<std::uint64_t> {
      auto& st = self->state;
      auto rp = self->make_response_promise<std::uint64_t>();
      st.queue.push_back(
        {std::chrono::steady_clock::now() + reply_delay, rp, amount});
      if (++st.received == st.progress->expected)
        st.progress->all_received.set_value();
      if (!st.ticking) {
        st.ticking = true;
        self->delayed_send(self, reply_delay, tick_atom_v);
      }
      return rp;
    },
    [self](tick_atom) {
      auto& st = self->state;
      const auto now = std::chrono::steady_clock::now();
      while (!st.queue.empty() && st.queue.front().due <= now) {
        auto& w = st.queue.front();
        w.reply.deliver(w.amount * 2);
        st.queue.pop_front();
        ++st.progress->answered;
      }
      st.ticking = !st.queue.empty();
      if (st.ticking)
        self->delayed_send(self, st.queue.front().due - now, tick_atom_v);
    },
  };
}

/// One step: the service's reply, which is also the run's result.
workflow charging_workflow(slow_service service) {
  return [service](step& step, const boost::json::value& in)
           -> task<model::result<boost::json::value>> {
    const auto amount = in.at("amount").to_number<std::uint64_t>();
    auto charged = co_await step.request("charge", std::chrono::seconds{60},
                                         service, charge_atom_v, amount);
    co_return boost::json::value(charged);
  };
}

/// Executes the charging runs [0, n) at once from one actor; the future is
/// ready once every run answered, with the time from the first execute.
std::future<double> start_charging_runs(caf::actor_system& system,
                                        const actors::orchestrator_actor& orch,
                                        std::size_t n) {
  auto done = std::make_shared<std::promise<double>>();
  auto answered = done->get_future();
  system.spawn([orch, n, done](caf::event_based_actor* self) {
    const auto start = bench_clock::now();
    auto left = std::make_shared<std::size_t>(n);
    for (std::size_t i = 0; i < n; ++i)
      self
        ->request(
          orch, caf::infinite, actors::execute_atom_v,
          actors::execute_request{.workflow_name = "charge",
                                  .input = {{"amount", i}},
                                  .run_id = "charge-" + std::to_string(i)})
        .then(
          [self, i, left, done,
           start](model::result<model::execution_result>& r) {
            if (r.is_err() || r->status != model::run_status::completed
                || !r->outcome || r->outcome->is_err()
                || r->outcome->value() != boost::json::value(2 * i))
              fail("charge-" + std::to_string(i)
                   + " did not complete with its reply");
            if (--*left == 0) {
              done->set_value(seconds_since(start));
              self->quit();
            }
          },
          [](caf::error& e) { fail("execute: " + caf::to_string(e)); });
  });
  return answered;
}

} // namespace

void bare_actor_scenario(const bench_options& o) {
  // The orchestrator's own system, so that the scheduler and allocator are
  // those a run actor lives with.
  orchestrator orch;
  bare_actor_scenario_in(orch.system(), o.pending);
}

void slow_actor_scenario(const bench_options& o) {
  const auto label = "slow_actor.n" + std::to_string(o.pending);
  orchestrator_options options;
  options.worker_threads = 2;
  orchestrator orch{std::move(options)};
  auto progress = std::make_shared<service_progress>();
  progress->expected = o.pending;
  auto all_received = progress->all_received.get_future();
  auto service = orch.system().spawn(slow_service_behavior, progress);
  orch.register_workflow("charge", charging_workflow(service));
  auto counts = std::make_shared<step_counts>();
  orch.register_workflow(workflow_name, order_workflow(counts));
  // An order waits on its manager before the charges start.
  expect_paused(
    orch.execute(workflow_name, order_input(0), {.run_id = run_id(0)}), 0);

  auto finished = start_charging_runs(orch.system(), orch.handle(), o.pending);
  // Every run awaits the service now; the grant comes meanwhile.
  all_received.wait();
  const auto granted = bench_clock::now();
  expect_granted(orch.decide(grant_decision(0)), 0, true);
  const auto decision_us = microseconds_since(granted);
  const auto still_waiting = o.pending - progress->answered.load();
  const auto complete_s = finished.get();
  if (still_waiting == 0)
    std::cerr << "slow-actor: the grant returned after every charge was "
                 "answered (a loaded machine?): its time is not one made "
                 "during the wait\n";
  expect_step_counts(*counts, 1, 1);
  report(label + ".complete_time", complete_s * 1e3, "ms");
  report(label + ".decision_time", decision_us, "us");
  report(label + ".waiting_at_decision", static_cast<double>(still_waiting),
         "runs");
  caf::anon_send_exit(service, caf::exit_reason::user_shutdown);
}

} // namespace signoff::bench
