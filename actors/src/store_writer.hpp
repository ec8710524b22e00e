#pragma once

// The one actor that writes to the stores. Writes queued while it commits
// go into the next commit together (group commit): every requester still
// gets its reply only once its write is durable.

#include <functional>
#include <memory>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "signoff/actors/messages.hpp"
#include "signoff/persistence/commit_group.hpp"

namespace signoff::actors::detail {

/// Store writes to commit together. `apply` may only call store operations
/// (it can run more than once) and keeps its own results.
struct write_job {
  std::function<void()> apply;
};

using store_writer_actor = caf::typed_actor<
  // Queues a job; the reply comes when the commit holding it is durable.
  caf::replies_to<write_atom, write_job>::with<model::result<void>>,
  // Commits every job queued so far (self-sent).
  caf::reacts_to<commit_atom>>;

/// Spawns the writer on a thread of its own (it blocks on fsync).
[[nodiscard]] store_writer_actor
spawn_store_writer(caf::actor_system& system,
                   std::shared_ptr<persistence::commit_group> commits);

} // namespace signoff::actors::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(signoff::actors::detail::write_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(signoff::model::result<void>)
