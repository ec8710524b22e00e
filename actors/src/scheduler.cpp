#include "scheduler.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <utility>

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

/// Work sharing: one queue of jobs every worker takes from. Unlike CAF's
/// `work_sharing` (a list, so an allocation per job scheduled), a deque.
class shared_queue : public caf::policy::unprofiled {
public:
  struct coordinator_data {
    explicit coordinator_data(caf::scheduler::abstract_coordinator*) {}
    std::mutex lock;
    std::condition_variable ready;
    std::deque<caf::resumable*> jobs;
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
    std::unique_lock guard{data.lock};
    data.ready.wait(guard, [&] { return !data.jobs.empty(); });
    auto* job = data.jobs.front();
    data.jobs.pop_front();
    return job;
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

void use_signoff_scheduler(caf::actor_system_config& cfg) {
  cfg.load<caf::scheduler::coordinator<shared_queue>>();
}

} // namespace signoff::actors::detail
