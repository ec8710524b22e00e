#include "store_writer.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "scheduler.hpp"

namespace signoff::actors::detail {

namespace {

/// Largest number of batches in one commit, so one transaction stays small
/// even when a burst queues far more; the rest go into the next one.
constexpr std::size_t max_batches_per_commit = 4096;

/// Settled batches wait this long for a commit to ride on, then commit on
/// their own: a store left idle after a burst must not keep owing wakes
/// already done (the owed-wake poll would keep waking their keys for
/// nothing, and queue a settled batch for each).
constexpr auto settles_wait_at_most = std::chrono::seconds{1};

using results = std::vector<model::result<void>>;
using commit_promise = caf::typed_response_promise<model::result<void>>;
using pair_promise
  = caf::typed_response_promise<model::result<void>, model::result<void>>;

/// The batches of one commit, and who waits for their results.
struct commit_job {
  std::vector<persistence::write_batch> batches;
  /// One per batch that someone waits for; settled batches have none.
  std::vector<std::pair<std::size_t, commit_promise>> waiting;
  /// One per two batches committed together; the index of the first.
  std::vector<std::pair<std::size_t, pair_promise>> waiting_pairs;

  [[nodiscard]] bool awaited() const noexcept {
    return !waiting.empty() || !waiting_pairs.empty();
  }
};

void answer(commit_job& job, results& out) {
  for (auto& [index, promise] : job.waiting)
    promise.deliver(std::move(out[index]));
  for (auto& [index, promise] : job.waiting_pairs)
    promise.deliver(std::move(out[index]), std::move(out[index + 1]));
}

/// Owners wait for their commits and nothing else answers them: a promise
/// dropped unanswered (CAF 0.17 sends nothing for it) would hang its owner
/// and the system's shutdown with it.
void refuse(commit_job& job) {
  const model::result<void> refused{
    model::make_error(model::error_type::storage_error,
                      "the store writer stopped before committing this write")};
  for (auto& [index, promise] : job.waiting)
    promise.deliver(refused);
  for (auto& [index, promise] : job.waiting_pairs)
    promise.deliver(refused, refused);
}

/// Commits `batches`, counting the commit's duration and size. What the
/// journal throws (no memory left) fails every batch, not the process.
results commit_counted(persistence::journal& journal,
                       orchestrator_counters& counted,
                       const std::vector<persistence::write_batch>& batches) {
  const auto began = std::chrono::steady_clock::now();
  results out;
  try {
    out = journal.commit(batches);
  } catch (const std::exception& e) {
    out.assign(batches.size(),
               model::make_error(model::error_type::storage_error, e.what()));
  }
  counted.commit_seconds.observe(
    std::chrono::duration<double>(std::chrono::steady_clock::now() - began)
      .count());
  counted.commit_batches.observe(static_cast<double>(batches.size()));
  return out;
}

/// A commit made on the thread: its results, and its batches to be freed
/// by the writer.
struct commit_outcome {
  results out;
  /// The workers allocated them, so a worker frees them: a thread that
  /// only frees overflows its allocator's per-thread cache into frees
  /// that lock the workers' arenas while they allocate (at 1,000 durable
  /// cycles in flight, a tenth of all time went to that lock's syscalls).
  std::vector<persistence::write_batch> spent;
};

/// The thread a writer commits on, so that an fsync blocks no worker.
/// After a commit it polls for the next one for a while before it sleeps:
/// the next commit of a cycle in progress usually comes sooner than a
/// sleeping thread is woken (tens of microseconds on a VM, three times a
/// durable cycle).
class commit_thread {
public:
  commit_thread(std::shared_ptr<persistence::journal> journal,
                std::shared_ptr<orchestrator_counters> counted,
                caf::weak_actor_ptr writer, std::chrono::microseconds spin)
      : shared_(std::make_shared<shared>(std::move(journal), std::move(counted),
                                         std::move(writer), spin)),
        thread_([data = shared_] { run(*data); }) {}

  commit_thread(const commit_thread&) = delete;
  commit_thread& operator=(const commit_thread&) = delete;

  ~commit_thread() {
    stop();
  }

  /// Commits `batches` on the thread; the writer hears `committed_atom`
  /// once `take` holds the results.
  void submit(std::vector<persistence::write_batch> batches) {
    auto& data = *shared_;
    {
      std::lock_guard guard{data.lock};
      data.next = std::move(batches);
      data.handed.store(true, std::memory_order_release);
    }
    data.ready.notify_one();
  }

  /// The last commit, once made.
  std::optional<commit_outcome> take() {
    std::lock_guard guard{shared_->lock};
    return std::exchange(shared_->done, std::nullopt);
  }

  /// Makes the commit handed over, if any, then ends the thread.
  void stop() {
    {
      std::lock_guard guard{shared_->lock};
      shared_->stopping = true;
    }
    shared_->ready.notify_one();
    if (!thread_.joinable())
      return;
    // The writer's last handle may go on the thread itself (after a
    // commit), which cannot join itself: it ends on its own, and what it
    // uses lives as long as it does.
    if (thread_.get_id() == std::this_thread::get_id())
      thread_.detach();
    else
      thread_.join();
  }

private:
  /// What the thread uses, owned by it and by this object both.
  struct shared {
    shared(std::shared_ptr<persistence::journal> j,
           std::shared_ptr<orchestrator_counters> c, caf::weak_actor_ptr w,
           std::chrono::microseconds s)
        : journal(std::move(j)), counted(std::move(c)), writer(std::move(w)),
          spin(s) {}

    std::shared_ptr<persistence::journal> journal;
    std::shared_ptr<orchestrator_counters> counted;
    caf::weak_actor_ptr writer;
    std::chrono::microseconds spin;
    std::mutex lock;
    std::condition_variable ready;
    std::atomic<bool> handed{false};
    std::vector<persistence::write_batch> next;
    std::optional<commit_outcome> done;
    bool stopping = false;
  };

  static void run(shared& data) {
    for (;;) {
      const auto until = std::chrono::steady_clock::now() + data.spin;
      while (!data.handed.load(std::memory_order_acquire)
             && std::chrono::steady_clock::now() < until)
        std::this_thread::yield();
      std::vector<persistence::write_batch> batches;
      {
        std::unique_lock guard{data.lock};
        data.ready.wait(guard, [&data] {
          return data.handed.load(std::memory_order_relaxed) || data.stopping;
        });
        if (!data.handed.load(std::memory_order_relaxed))
          return;
        batches = std::move(data.next);
        data.handed.store(false, std::memory_order_relaxed);
      }
      auto out = commit_counted(*data.journal, *data.counted, batches);
      {
        std::lock_guard guard{data.lock};
        data.done = commit_outcome{std::move(out), std::move(batches)};
      }
      if (auto writer = data.writer.lock())
        caf::anon_send(caf::actor_cast<caf::actor>(writer), committed_atom_v);
    }
  }

  std::shared_ptr<shared> shared_;
  // Last: it starts once everything above is.
  std::thread thread_;
};

/// The writer's own messages stay out of its public handle.
using writer_impl
  = store_writer_actor::extend<caf::reacts_to<flush_atom>,
                               caf::reacts_to<settle_flush_atom>,
                               caf::reacts_to<committed_atom>>;

struct writer_state {
  std::shared_ptr<persistence::journal> journal;
  std::shared_ptr<orchestrator_counters> counted;
  /// What the next commit holds.
  commit_job queued;
  /// The commit in progress on `thread` (its batches handed over).
  std::optional<commit_job> committing;
  /// Null when the writer commits inline (on the scheduler's thread).
  std::unique_ptr<commit_thread> thread;
  bool flush_scheduled = false;
  bool settle_flush_scheduled = false;

  static inline const char* name = "signoff.store_writer";
};

using writer_pointer = writer_impl::stateful_pointer<writer_state>;

/// Takes the queued batches for one commit: at most
/// `max_batches_per_commit`, never parting the two batches of a pair.
commit_job take_queued(writer_state& st) {
  auto& q = st.queued;
  if (q.batches.size() <= max_batches_per_commit)
    return std::exchange(q, {});
  auto cut = max_batches_per_commit;
  for (const auto& pair : q.waiting_pairs)
    if (pair.first + 1 == cut)
      --cut;
  commit_job job;
  const auto split = [cut](auto& from, auto& to) {
    auto kept = std::move(from);
    from.clear();
    for (auto& [index, promise] : kept) {
      if (index < cut)
        to.emplace_back(index, std::move(promise));
      else
        from.emplace_back(index - cut, std::move(promise));
    }
  };
  split(q.waiting, job.waiting);
  split(q.waiting_pairs, job.waiting_pairs);
  const auto end = q.batches.begin() + static_cast<std::ptrdiff_t>(cut);
  job.batches.assign(std::make_move_iterator(q.batches.begin()),
                     std::make_move_iterator(end));
  q.batches.erase(q.batches.begin(), end);
  return job;
}

/// Settled batches left queued commit on their own after a while, unless
/// a commit takes them first.
void schedule_settle_flush(writer_pointer self) {
  auto& st = self->state;
  if (st.settle_flush_scheduled || st.queued.batches.empty())
    return;
  st.settle_flush_scheduled = true;
  self->delayed_send(self, settles_wait_at_most, settle_flush_atom_v);
}

void schedule_flush(writer_pointer self) {
  auto& st = self->state;
  if (st.flush_scheduled)
    return;
  // Behind every message queued so far: those join this commit.
  st.flush_scheduled = true;
  self->send(self, flush_atom_v);
}

/// Starts the next commit of what is queued: on the commit thread unless
/// one is in progress there (its end starts the next), else inline.
void commit_queued(writer_pointer self) {
  auto& st = self->state;
  if (st.committing || st.queued.batches.empty())
    return;
  auto job = take_queued(st);
  if (st.thread) {
    st.thread->submit(std::move(job.batches));
    job.batches.clear();
    st.committing = std::move(job);
    return;
  }
  auto out = commit_counted(*st.journal, *st.counted, job.batches);
  answer(job, out);
  if (st.queued.awaited())
    schedule_flush(self);
  else
    schedule_settle_flush(self);
}

/// Commits an awaited batch: on the commit thread at once when it is
/// idle (what is queued while it commits goes into its next commit), or
/// inline in the flush behind the messages queued so far.
void awaited_queued(writer_pointer self) {
  auto& st = self->state;
  if (st.thread || st.queued.batches.size() >= max_batches_per_commit)
    commit_queued(self);
  else
    schedule_flush(self);
}

writer_impl::behavior_type
writer_behavior(writer_pointer self,
                std::shared_ptr<persistence::journal> journal,
                std::shared_ptr<orchestrator_counters> counted, bool threaded) {
  auto& st = self->state;
  st.journal = std::move(journal);
  st.counted = std::move(counted);
  if (threaded)
    st.thread = std::make_unique<commit_thread>(
      st.journal, st.counted, caf::weak_actor_ptr{self->ctrl()},
      idle_spin_of(self->system()));
  // Every waiting batch is answered before the writer quits: the commit
  // in progress with its results, the rest refused.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    if (st.thread)
      st.thread->stop();
    if (st.committing) {
      if (auto done = st.thread->take())
        answer(*st.committing, done->out);
      else
        refuse(*st.committing);
      st.committing.reset();
    }
    refuse(st.queued);
    st.queued = {};
    self->quit(msg.reason);
  });
  return {
    [self](commit_atom, persistence::write_batch& batch)
      -> caf::result<model::result<void>> {
      auto& q = self->state.queued;
      auto promise = self->make_response_promise<model::result<void>>();
      q.waiting.emplace_back(q.batches.size(), promise);
      q.batches.push_back(std::move(batch));
      awaited_queued(self);
      return promise;
    },
    [self](commit_atom, persistence::write_batch& first,
           persistence::write_batch& second)
      -> caf::result<model::result<void>, model::result<void>> {
      auto& q = self->state.queued;
      auto promise
        = self
            ->make_response_promise<model::result<void>, model::result<void>>();
      q.waiting_pairs.emplace_back(q.batches.size(), promise);
      q.batches.push_back(std::move(first));
      q.batches.push_back(std::move(second));
      awaited_queued(self);
      return promise;
    },
    [self](settle_atom, persistence::write_batch& batch) {
      self->state.queued.batches.push_back(std::move(batch));
      schedule_settle_flush(self);
    },
    [self](settle_flush_atom) {
      auto& st = self->state;
      st.settle_flush_scheduled = false;
      commit_queued(self);
    },
    [self](flush_atom) {
      auto& st = self->state;
      st.flush_scheduled = false;
      if (st.queued.awaited())
        commit_queued(self);
    },
    [self](committed_atom) {
      auto& st = self->state;
      auto done = st.thread->take();
      if (!st.committing || !done)
        return;
      answer(*st.committing, done->out);
      st.committing.reset();
      if (st.queued.awaited())
        commit_queued(self);
      else
        schedule_settle_flush(self);
      // Freed once the next commit is under way, beside its fsync.
      done.reset();
    },
  };
}

} // namespace

store_writer_actor
spawn_store_writer(caf::actor_system& system,
                   std::shared_ptr<persistence::journal> journal, bool detached,
                   std::shared_ptr<orchestrator_counters> counted) {
  return system.spawn(writer_behavior, std::move(journal), std::move(counted),
                      detached);
}

} // namespace signoff::actors::detail
