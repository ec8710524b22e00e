#pragma once

// A registry shard owns the approvals whose keys hash to it: it applies
// every decision, quorum grant and expiry on them (committed with its audit
// entries before anyone is told), creates them when a run first reaches
// them, and wakes the runs waiting on them with the decision in the wake
// message.

#include <memory>
#include <string>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "protocol.hpp"

namespace signoff::actors::detail {

class engine;

using registry_shard_actor = caf::typed_actor<
  // Commits a decision on a key this shard owns; with auto_resume, replies
  // once the runs waiting on the key reached their next suspension.
  caf::replies_to<decide_atom,
                  decision_request>::with<model::result<decision_report>>,
  // Commits a comment on a key this shard owns, as it commits decisions,
  // so the shard stays the only writer of its keys.
  caf::replies_to<comment_atom,
                  comment_request>::with<model::result<model::audit_entry>>,
  // Commits a reassignment or delegation on a key this shard owns, as it
  // commits comments.
  caf::replies_to<assign_atom, model::assignment_change>::with<
    model::result<model::decision_outcome>>,
  // A run reached the approval: replies its status as of now, creating it
  // pending and registering the run as a waiter when it is not decided.
  caf::replies_to<reach_atom,
                  reach_request>::with<model::result<model::approval_status>>,
  // As reach, but a creation is not committed by the shard: its encoded
  // writes come back for the run to commit with its pause (one commit for
  // both), and the run reports the outcome with `created_atom`.
  caf::replies_to<reach_carrying_atom, reach_request>::with<
    model::result<model::approval_status>, persistence::write_batch>,
  // The commit of a creation a run carried (key, outcome).
  caf::reacts_to<created_atom, std::string, model::result<void>>,
  // The run (key, run id) no longer waits in memory: it passivated.
  caf::reacts_to<forget_atom, std::string, std::string>,
  // The store says the runs waiting on this key are owed a wake (another
  // process decided it, or a wake was lost): read it again, wake them.
  caf::reacts_to<owed_atom, std::string>>;

[[nodiscard]] registry_shard_actor
spawn_registry_shard(caf::actor_system& system, std::shared_ptr<engine> eng);

} // namespace signoff::actors::detail
