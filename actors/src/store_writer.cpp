#include "store_writer.hpp"

#include <chrono>
#include <vector>

#include <caf/all.hpp>

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

using commit_promise = caf::typed_response_promise<model::result<void>>;
using pair_promise
  = caf::typed_response_promise<model::result<void>, model::result<void>>;

/// The writer's own flush messages stay out of its public handle.
using writer_impl
  = store_writer_actor::extend<caf::reacts_to<flush_atom>,
                               caf::reacts_to<settle_flush_atom>>;

struct writer_state {
  std::shared_ptr<persistence::journal> journal;
  std::shared_ptr<orchestrator_counters> counted;
  std::vector<persistence::write_batch> batches;
  /// One per batch that someone waits for; settled batches have none.
  std::vector<std::pair<std::size_t, commit_promise>> waiting;
  /// One per two batches committed together; the index of the first.
  std::vector<std::pair<std::size_t, pair_promise>> waiting_pairs;
  bool flush_scheduled = false;
  bool settle_flush_scheduled = false;

  static inline const char* name = "signoff.store_writer";
};

using writer_pointer = writer_impl::stateful_pointer<writer_state>;

void commit_queued(writer_pointer self) {
  auto& st = self->state;
  auto batches = std::move(st.batches);
  auto waiting = std::move(st.waiting);
  auto pairs = std::move(st.waiting_pairs);
  st.batches.clear();
  st.waiting.clear();
  st.waiting_pairs.clear();
  const auto began = std::chrono::steady_clock::now();
  auto results = st.journal->commit(batches);
  st.counted->commit_seconds.observe(
    std::chrono::duration<double>(std::chrono::steady_clock::now() - began)
      .count());
  st.counted->commit_batches.observe(static_cast<double>(batches.size()));
  for (auto& [index, promise] : waiting)
    promise.deliver(std::move(results[index]));
  for (auto& [index, promise] : pairs)
    promise.deliver(std::move(results[index]), std::move(results[index + 1]));
}

void schedule_flush(writer_pointer self) {
  auto& st = self->state;
  if (st.flush_scheduled)
    return;
  // Behind every message queued so far: those join this commit.
  st.flush_scheduled = true;
  self->send(self, flush_atom_v);
}

/// Commits now if the batches queued reached the limit of one commit, else
/// in the flush behind the messages queued so far.
void queued(writer_pointer self) {
  if (self->state.batches.size() >= max_batches_per_commit)
    commit_queued(self);
  else
    schedule_flush(self);
}

writer_impl::behavior_type
writer_behavior(writer_pointer self,
                std::shared_ptr<persistence::journal> journal,
                std::shared_ptr<orchestrator_counters> counted) {
  self->state.journal = std::move(journal);
  self->state.counted = std::move(counted);
  // Owners wait for their commits and nothing else answers them: a promise
  // dropped unanswered (CAF 0.17 sends nothing for it) would hang its
  // owner and the system's shutdown with it. So every waiting batch is
  // refused before the writer quits.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    const auto refused = [] {
      return model::result<void>{model::make_error(
        model::error_type::storage_error,
        "the store writer stopped before committing this write")};
    };
    for (auto& [index, promise] : self->state.waiting)
      promise.deliver(refused());
    for (auto& [index, promise] : self->state.waiting_pairs)
      promise.deliver(refused(), refused());
    self->state.waiting.clear();
    self->state.waiting_pairs.clear();
    self->state.batches.clear();
    self->quit(msg.reason);
  });
  return {
    [self](commit_atom, persistence::write_batch& batch)
      -> caf::result<model::result<void>> {
      auto& st = self->state;
      auto promise = self->make_response_promise<model::result<void>>();
      st.waiting.emplace_back(st.batches.size(), promise);
      st.batches.push_back(std::move(batch));
      queued(self);
      return promise;
    },
    [self](commit_atom, persistence::write_batch& first,
           persistence::write_batch& second)
      -> caf::result<model::result<void>, model::result<void>> {
      auto& st = self->state;
      auto promise
        = self
            ->make_response_promise<model::result<void>, model::result<void>>();
      st.waiting_pairs.emplace_back(st.batches.size(), promise);
      st.batches.push_back(std::move(first));
      st.batches.push_back(std::move(second));
      queued(self);
      return promise;
    },
    [self](settle_atom, persistence::write_batch& batch) {
      auto& st = self->state;
      st.batches.push_back(std::move(batch));
      if (!st.settle_flush_scheduled) {
        st.settle_flush_scheduled = true;
        self->delayed_send(self, settles_wait_at_most, settle_flush_atom_v);
      }
    },
    [self](settle_flush_atom) {
      auto& st = self->state;
      st.settle_flush_scheduled = false;
      if (!st.batches.empty())
        commit_queued(self);
    },
    [self](flush_atom) {
      auto& st = self->state;
      st.flush_scheduled = false;
      if (!st.waiting.empty() || !st.waiting_pairs.empty())
        commit_queued(self);
    },
  };
}

} // namespace

store_writer_actor
spawn_store_writer(caf::actor_system& system,
                   std::shared_ptr<persistence::journal> journal, bool detached,
                   std::shared_ptr<orchestrator_counters> counted) {
  if (detached)
    return system.spawn<caf::detached>(writer_behavior, std::move(journal),
                                       std::move(counted));
  return system.spawn(writer_behavior, std::move(journal), std::move(counted));
}

} // namespace signoff::actors::detail
