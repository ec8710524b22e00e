#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "signoff/actors/messages.hpp"

namespace signoff::actors {

/// The approval registry owns every approval transition: decisions,
/// quorum grants and expiries go through it, each committed to the approval
/// store (with its audit entry) before anyone is told. It keeps one timer,
/// for the earliest deadline in the store's expiry index, and on firing
/// expires what is due in batches and sends the orchestrator a `wake_atom`
/// for each key, so runs wait on their timeout branch with nobody calling.
using approval_registry_actor = caf::typed_actor<
  // Commits a decision; the reply is the outcome, or APPROVAL_CONFLICT
  // (details: the winning status), NOT_FOUND or INVALID_ARGUMENT.
  caf::replies_to<decide_atom, model::decision>::with<
    model::result<model::decision_outcome>>,
  // Tells the registry an approval with this deadline now exists, so its
  // timer fires no later than that.
  caf::reacts_to<watch_atom, model::time_point>,
  // Expires every approval whose deadline has passed, now; replies with the
  // keys it expired and leaves waking their runs to the caller.
  caf::replies_to<expire_atom>::with<model::result<std::vector<std::string>>>,
  // The registry's own timer (the number tells stale timers apart).
  caf::reacts_to<tick_atom, std::uint64_t>>;

} // namespace signoff::actors
