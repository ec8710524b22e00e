// Real threads: blocking steps on the bounded step executor never stop
// the actors that route decisions; the facade over a user's own actor
// system; stopping with work in flight. Nothing here waits for an effect
// by sleeping: threads meet on latches and atomics.
//
// Step functions that capture by value are named before the co_await and
// passed by name: g++ 12 destroys such a temporary closure twice, and the
// step API refuses one (see tests/model/gcc12_temporary_guard.cpp).

#include "signoff/orchestrator.hpp"

#include <atomic>
#include <latch>
#include <memory>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "fixtures.hpp"
#include "support/must.hpp"
#include "support/printing.hpp"

using namespace signoff;
using namespace std::chrono_literals;

namespace {

using value_task = task<model::result<boost::json::value>>;
using execution_reply = model::result<model::execution_result>;

using watch_atom = caf::atom_constant<caf::atom("t_watch")>;
constexpr watch_atom watch_atom_v{};
using ask_atom = caf::atom_constant<caf::atom("t_ask")>;
constexpr ask_atom ask_atom_v{};

/// Waits until `counter` reached `n`; no sleeping, no timeout.
void wait_for(const std::atomic<int>& counter, int n) {
  for (auto seen = counter.load(); seen < n; seen = counter.load())
    counter.wait(seen);
}

void bump(std::atomic<int>& counter) {
  ++counter;
  counter.notify_all();
}

/// Counts the coroutine frames of workflows alive: one guard per frame.
class frame_guard {
public:
  explicit frame_guard(std::shared_ptr<std::atomic<int>> live)
      : live_(std::move(live)) {
    ++*live_;
  }
  ~frame_guard() {
    --*live_;
  }
  frame_guard(const frame_guard&) = delete;
  frame_guard& operator=(const frame_guard&) = delete;

private:
  std::shared_ptr<std::atomic<int>> live_;
};

/// What the shutdown probe's blocking step sees.
struct probe {
  /// Counted down once the step is blocked.
  std::latch entered{1};
  /// Counted down once the run's actor is gone (its orchestrator stops).
  std::latch run_gone{1};
  std::atomic<bool> in_step{false};
  std::atomic<bool> finished{false};
};

/// Monitors every actor that asks it `watch`, and counts `run_gone` down
/// when one of them goes.
caf::behavior watcher(caf::event_based_actor* self, std::shared_ptr<probe> p) {
  self->set_down_handler([p](caf::down_msg&) { p->run_gone.count_down(); });
  return {
    [self](watch_atom) {
      self->monitor(self->current_sender());
      return true;
    },
  };
}

} // namespace

BOOST_AUTO_TEST_SUITE(threads)

// Issue 11's latch: 64 runs whose plain steps block on a latch that only a
// decision on another key opens, made while they block. The executor has
// 4 threads: 4 steps block, 60 wait their turn, and the scheduler's two
// workers stay free for the decision, whose run opens the latch in a
// coroutine step. With steps on the scheduler threads this deadlocks.
BOOST_AUTO_TEST_CASE(blocked_steps_never_stall_the_decision_that_frees_them) {
  constexpr int runs = 64;
  constexpr std::size_t step_threads = 4;
  struct shared {
    std::latch gate{1};
    std::atomic<int> blocked{0};
    std::atomic<int> passed{0};
    std::atomic<bool> opened{false};
  };
  auto s = std::make_shared<shared>();
  orchestrator_options options;
  options.worker_threads = 2;
  options.step_threads = step_threads;
  orchestrator orch{options};
  test::must(orch.register_workflow(
    "blocked", [s](step& step, const boost::json::value&) -> value_task {
      auto wait = [s] {
        bump(s->blocked);
        s->gate.wait();
        ++s->passed;
      };
      co_await step.run("wait", wait);
      co_return boost::json::value("through");
    }));
  test::must(orch.register_workflow(
    "opener", [s](step& step, const boost::json::value&) -> value_task {
      co_await step.approval("open");
      auto open = [s]() -> task<void> {
        s->opened = true;
        s->gate.count_down();
        co_return;
      };
      co_await step.run("open-gate", open);
      co_return boost::json::value("opened");
    }));
  auto opener = test::must(orch.execute("opener", nullptr, {.run_id = "o"}));
  BOOST_TEST_REQUIRE(opener.status == model::run_status::paused);
  {
    caf::scoped_actor self{orch.system()};
    using reply_handle = decltype(self->request(orch.handle(), caf::infinite,
                                                actors::execute_atom_v,
                                                actors::execute_request{}));
    std::vector<reply_handle> pending;
    for (int i = 0; i < runs; ++i) {
      actors::execute_request req;
      req.workflow_name = "blocked";
      req.run_id = "b" + std::to_string(i);
      pending.push_back(self->request(orch.handle(), caf::infinite,
                                      actors::execute_atom_v, std::move(req)));
    }
    // Every executor thread holds a blocked step; no fifth step can start.
    wait_for(s->blocked, static_cast<int>(step_threads));
    BOOST_TEST(s->blocked == static_cast<int>(step_threads));
    BOOST_TEST(s->passed == 0);
    auto report = test::must(orch.grant_approval("open", "go", {"jane"}));
    BOOST_TEST(report.resumed_workflows == std::vector<std::string>{"o"},
               boost::test_tools::per_element());
    BOOST_TEST_REQUIRE(s->opened);
    int completed = 0;
    for (auto& reply : pending)
      reply.receive(
        [&](execution_reply& r) {
          completed
            += test::must(r).status == model::run_status::completed ? 1 : 0;
        },
        [](caf::error& e) { BOOST_FAIL(to_string(e)); });
    BOOST_TEST(completed == runs);
  }
  BOOST_TEST(s->blocked == runs);
  BOOST_TEST(s->passed == runs);
  BOOST_TEST(test::must(orch.get_workflow_status("o")).status
             == model::run_status::completed);
}

// The facade over a user's actor system (sharing scheduler). A run's
// blocking step is in flight when ~orchestrator starts; the step is let go
// only once the run's actor is gone (the destructor stopped it), and the
// destructor returns only after the step returned. The user's system then
// shuts down with nothing of ours left.
BOOST_AUTO_TEST_CASE(the_destructor_waits_for_user_code_on_a_users_system) {
  caf::actor_system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("scheduler.max-threads", std::size_t{2});
  auto sys = std::make_unique<caf::actor_system>(cfg);
  auto p = std::make_shared<probe>();
  auto watch = sys->spawn(watcher, p);
  auto orch = [&] {
    orchestrator_options options;
    options.system = sys.get();
    options.step_threads = 2;
    return std::make_unique<orchestrator>(options);
  }();
  test::must(orch->register_workflow(
    "blocking",
    [p, watch](step& step, const boost::json::value&) -> value_task {
      co_await step.request<bool>("watch", watch, watch_atom_v);
      auto block = [p] {
        p->in_step = true;
        p->entered.count_down();
        p->run_gone.wait();
        p->finished = true;
        p->in_step = false;
      };
      co_await step.run("block", block);
      co_return nullptr;
    }));
  actors::execute_request req;
  req.workflow_name = "blocking";
  req.run_id = "r";
  caf::anon_send(orch->handle(), actors::execute_atom_v, std::move(req));
  p->entered.wait();
  BOOST_TEST(p->in_step);
  orch.reset();
  BOOST_TEST(p->finished);
  BOOST_TEST(!p->in_step);
  caf::anon_send_exit(watch, caf::exit_reason::user_shutdown);
  watch = nullptr;
  sys.reset();
}

// Stopping with everything in flight: runs parked, parked and passivated,
// waiting for a service that never answers, queued for the executor and
// running on it, decisions on their way. The destructor returns, every
// workflow's coroutine frame is destroyed (none leaks, none is destroyed
// twice: ASan watches), and the system shuts down.
BOOST_AUTO_TEST_CASE(stopping_with_work_in_flight_leaks_no_frame) {
  auto live = std::make_shared<std::atomic<int>>(0);
  auto spun = std::make_shared<std::atomic<int>>(0);
  {
    orchestrator_options options;
    options.worker_threads = 2;
    options.step_threads = 2;
    options.max_resident_runs = 16;
    orchestrator orch{options};
    auto asked = std::make_shared<std::atomic<int>>(0);
    // `asked` is an argument, not a capture: CAF 0.17 spawning a function
    // actor with no argument binds a reference to a null tuple (UBSan).
    auto silent = orch.system().spawn(
      [](caf::event_based_actor* self,
         std::shared_ptr<std::atomic<int>> asked) -> caf::behavior {
        return {
          [self, asked](ask_atom, const std::string&) {
            ++*asked;
            // Never answered: the promise is dropped.
            (void)self->make_response_promise<std::string>();
          },
        };
      },
      asked);
    test::must(orch.register_workflow(
      "parker", [live](step& step, const boost::json::value&) -> value_task {
        frame_guard guard{live};
        co_await step.run("before", [] { return 1; });
        auto v = co_await step.approval("park:" + step.run_id());
        co_await step.run("after", [] { return 2; });
        co_return v;
      }));
    test::must(orch.register_workflow(
      "asker",
      [live, silent](step& step, const boost::json::value&) -> value_task {
        frame_guard guard{live};
        std::string what{"anyone?"};
        auto answer = co_await step.try_request<std::string>("ask", silent,
                                                             ask_atom_v, what);
        co_return boost::json::value(answer.is_ok());
      }));
    test::must(orch.register_workflow(
      "spinner",
      [live, spun](step& step, const boost::json::value&) -> value_task {
        frame_guard guard{live};
        auto spin = [spun] {
          std::uint64_t x = 0;
          for (std::uint64_t i = 0; i < 200'000; ++i)
            x += i ^ (x >> 3U);
          ++*spun;
          return x % 1000;
        };
        auto sum = co_await step.run("spin", spin);
        co_await step.approval("spun:" + step.run_id());
        co_return boost::json::value(sum);
      }));
    for (int i = 0; i < 40; ++i)
      test::must(orch.execute("parker", nullptr, {"p" + std::to_string(i)}));
    auto send_execute
      = [&](const std::string& workflow, const std::string& id) {
          actors::execute_request req;
          req.workflow_name = workflow;
          req.run_id = id;
          caf::anon_send(orch.handle(), actors::execute_atom_v, std::move(req));
        };
    for (int i = 0; i < 20; ++i) {
      send_execute("asker", "a" + std::to_string(i));
      send_execute("spinner", "s" + std::to_string(i));
      caf::anon_send(orch.handle(), actors::decide_atom_v,
                     actors::decision_request{model::decision::grant(
                       "park:p" + std::to_string(i), "go", "jane")});
    }
    caf::anon_send_exit(silent, caf::exit_reason::user_shutdown);
  }
  BOOST_TEST(*live == 0);
  BOOST_TEST_MESSAGE("spinning steps that ran: " << *spun);
}

BOOST_AUTO_TEST_SUITE_END()
