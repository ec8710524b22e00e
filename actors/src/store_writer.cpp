#include "store_writer.hpp"

#include <vector>

#include <caf/all.hpp>

namespace signoff::actors::detail {

namespace {

/// Largest number of jobs in one commit, so one transaction stays small
/// even when a burst queues far more.
constexpr std::size_t max_jobs_per_commit = 4096;

struct writer_state {
  std::shared_ptr<persistence::commit_group> commits;
  std::vector<
    std::pair<write_job, caf::typed_response_promise<model::result<void>>>>
    queued;
  bool commit_scheduled = false;

  static inline const char* name = "signoff.store_writer";
};

using writer_pointer = store_writer_actor::stateful_pointer<writer_state>;

void commit_queued(writer_pointer self) {
  auto batch = std::move(self->state.queued);
  self->state.queued.clear();
  model::result<void> committed;
  try {
    committed = self->state.commits->commit([&batch] {
      for (auto& [job, promise] : batch)
        job.apply();
    });
  } catch (const std::exception& e) {
    committed = model::make_error(model::error_type::storage_error,
                                  std::string{"a write failed: "} + e.what());
  }
  for (auto& [job, promise] : batch)
    promise.deliver(committed);
}

store_writer_actor::behavior_type
writer_behavior(writer_pointer self,
                std::shared_ptr<persistence::commit_group> commits) {
  self->state.commits = std::move(commits);
  // A run actor awaits its write and meanwhile handles no other message,
  // not even an exit. Quitting with writes queued would drop their promises
  // unanswered (CAF 0.17 sends nothing for a dropped promise), and the run,
  // and with it the actor system's shutdown, would wait forever. So every
  // queued write is refused before the writer quits.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& [job, promise] : self->state.queued)
      promise.deliver(model::result<void>{model::make_error(
        model::error_type::storage_error,
        "the store writer stopped before committing this write")});
    self->state.queued.clear();
    self->quit(msg.reason);
  });
  return {
    [self](write_atom, write_job& job) -> caf::result<model::result<void>> {
      auto& st = self->state;
      auto promise = self->make_response_promise<model::result<void>>();
      st.queued.emplace_back(std::move(job), promise);
      // Jobs arriving before the commit message join the same commit.
      if (!st.commit_scheduled) {
        st.commit_scheduled = true;
        self->send(self, commit_atom_v);
      }
      if (st.queued.size() >= max_jobs_per_commit)
        commit_queued(self);
      return promise;
    },
    [self](commit_atom) {
      self->state.commit_scheduled = false;
      if (!self->state.queued.empty())
        commit_queued(self);
    },
  };
}

} // namespace

store_writer_actor
spawn_store_writer(caf::actor_system& system,
                   std::shared_ptr<persistence::commit_group> commits) {
  return system.spawn<caf::detached>(writer_behavior, std::move(commits));
}

} // namespace signoff::actors::detail
