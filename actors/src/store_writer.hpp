#pragma once

// The one actor that commits the journal: owners hand it encoded batches,
// and whatever is queued while it commits goes into the next commit
// together (group commit). Every requester gets its own batch's result,
// once the commit holding it is durable.

#include <memory>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "counters.hpp"
#include "protocol.hpp"
#include "signoff/persistence/journal.hpp"

namespace signoff::actors::detail {

using store_writer_actor = caf::typed_actor<
  // Commits the batch in the next group commit; replies once that commit
  // is durable: ok, or the batch's own error.
  caf::replies_to<commit_atom,
                  persistence::write_batch>::with<model::result<void>>,
  // Commits the two batches in the same group commit, each atomically on
  // its own (a run's pause with the approval it created): both results
  // once that commit is durable.
  caf::replies_to<commit_atom, persistence::write_batch,
                  persistence::write_batch>::with<model::result<void>,
                                                  model::result<void>>,
  // Adds the batch to the next commit without asking for one: writes
  // nobody waits for (owed wakes forgotten), which a crash may lose. If no
  // commit comes within a second, it commits them on their own.
  caf::reacts_to<settle_atom, persistence::write_batch>>;

/// Spawns the writer of `journal`; `detached` has it commit on a thread of
/// its own, since a commit blocks on its fsync (else it commits on the
/// scheduler's thread, as deterministic tests want). It counts each
/// commit's duration and size in `counted`.
[[nodiscard]] store_writer_actor
spawn_store_writer(caf::actor_system& system,
                   std::shared_ptr<persistence::journal> journal, bool detached,
                   std::shared_ptr<orchestrator_counters> counted);

} // namespace signoff::actors::detail
