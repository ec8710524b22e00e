#include "scheduler.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/config_value.hpp>
#include <caf/settings.hpp>

#include <caf/logger.hpp>
#include <caf/policy/unprofiled.hpp>
#include <caf/resumable.hpp>

// CAF 0.17.6 as Debian builds it (log level QUIET, so with a logger) has
// its worker loop record the running actor's id for the logger before
// every job: a dynamic_cast from `resumable` to `abstract_actor`, a cross
// cast that compares type names (~1,200 instructions), and two calls into
// the logger, about 1,400 instructions per job and a tenth of a decision
// cycle's. The loop is a template instantiated here for our policy, so
// the macro that records the id is emptied before its header is read; no
// other header uses it, and nothing logs through it at level QUIET.
#undef CAF_PUSH_AID_FROM_PTR
#define CAF_PUSH_AID_FROM_PTR(unused) static_cast<void>(0)
#include <caf/scheduler/coordinator.hpp>

namespace signoff::actors::detail {

namespace {

constexpr const char idle_spin_key[] = "signoff.idle-spin-us";

/// Work sharing: one queue of jobs every worker takes from. Unlike CAF's
/// `work_sharing` (a list, so an allocation per job scheduled), a deque.
/// A worker that finds it empty polls it for a while before it sleeps.
class shared_queue : public caf::policy::unprofiled {
public:
  struct coordinator_data {
    explicit coordinator_data(caf::scheduler::abstract_coordinator* parent)
        : idle_spin(idle_spin_of(parent->system())) {}
    std::mutex lock;
    std::condition_variable ready;
    std::deque<caf::resumable*> jobs;
    /// The length of `jobs`, read without the lock by polling workers.
    std::atomic<std::size_t> queued{0};
    std::chrono::microseconds idle_spin;
  };

  struct worker_data {
    explicit worker_data(caf::scheduler::abstract_coordinator*) {}
  };

  template <class Coordinator>
  void central_enqueue(Coordinator* self, caf::resumable* job) {
    auto& data = self->data();
    {
      std::lock_guard guard{data.lock};
      data.jobs.push_back(job);
      data.queued.store(data.jobs.size(), std::memory_order_relaxed);
    }
    data.ready.notify_one();
  }

  template <class Worker>
  void external_enqueue(Worker* self, caf::resumable* job) {
    central_enqueue(self->parent(), job);
  }

  template <class Worker>
  void internal_enqueue(Worker* self, caf::resumable* job) {
    central_enqueue(self->parent(), job);
  }

  template <class Worker>
  void resume_job_later(Worker* self, caf::resumable* job) {
    central_enqueue(self->parent(), job);
  }

  template <class Worker>
  caf::resumable* dequeue(Worker* self) {
    auto& data = self->parent()->data();
    poll_while_idle(data);
    std::unique_lock guard{data.lock};
    data.ready.wait(guard, [&] { return !data.jobs.empty(); });
    auto* job = data.jobs.front();
    data.jobs.pop_front();
    data.queued.store(data.jobs.size(), std::memory_order_relaxed);
    return job;
  }

  /// Polls the empty queue for up to `idle_spin`, yielding the core
  /// meanwhile: the reply a run or a caller waits for (a commit's end, the
  /// next request) comes within that often, and a worker that sleeps must
  /// be woken by the kernel first, tens of microseconds on a VM.
  static void poll_while_idle(const coordinator_data& data) {
    if (data.idle_spin.count() <= 0
        || data.queued.load(std::memory_order_relaxed) != 0)
      return;
    const auto until = std::chrono::steady_clock::now() + data.idle_spin;
    while (data.queued.load(std::memory_order_relaxed) == 0
           && std::chrono::steady_clock::now() < until)
      std::this_thread::yield();
  }

  /// Workers keep no jobs of their own.
  template <class Worker, class Visit>
  void foreach_resumable(Worker*, Visit) {}

  /// At shutdown, once the workers are gone: hands every queued job to
  /// `visit`, outside the lock (releasing a job may queue another).
  template <class Coordinator, class Visit>
  void foreach_central_resumable(Coordinator* self, Visit visit) {
    auto& data = self->data();
    for (;;) {
      std::deque<caf::resumable*> left;
      {
        std::lock_guard guard{data.lock};
        left.swap(data.jobs);
      }
      if (left.empty())
        return;
      for (auto* job : left)
        visit(job);
    }
  }
};

} // namespace

void use_signoff_scheduler(caf::actor_system_config& cfg,
                           std::chrono::microseconds idle_spin) {
  // Not a declared option (CAF would refuse to `set` it): put directly.
  caf::put(cfg.content, idle_spin_key,
           static_cast<std::int64_t>(idle_spin.count()));
  cfg.load<caf::scheduler::coordinator<shared_queue>>();
}

std::chrono::microseconds idle_spin_of(const caf::actor_system& system) {
  return std::chrono::microseconds{
    caf::get_or(system.config(), idle_spin_key, std::int64_t{0})};
}

} // namespace signoff::actors::detail
