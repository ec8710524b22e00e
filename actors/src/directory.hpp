#pragma once

// The orchestrator actor's implementation side: the public protocol plus
// the messages signoff's own actors send it. It is the directory of the
// run actors in memory and the router of calls to them and to the shards.

#include <string>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "protocol.hpp"
#include "signoff/actors/orchestrator_actor.hpp"

namespace signoff::actors::detail {

using directory_actor = orchestrator_actor::extend<
  // A run paused and is persisted: it may be passivated.
  caf::reacts_to<parked_atom, std::string>,
  // A run ended or passivated itself: forget its actor.
  caf::reacts_to<finished_atom, std::string>,
  // A shard could not wake a run in memory: re-activate it from the store
  // and deliver the wake.
  caf::replies_to<wake_atom, routed_wake>::with<wake_report>,
  // Time to read the owed wakes from the store.
  caf::reacts_to<tick_atom>,
  // Time to passivate the runs parked longer than the idle time.
  caf::reacts_to<sweep_atom>>;

} // namespace signoff::actors::detail
