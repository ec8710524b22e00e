#pragma once

// Approval cycles (execute, expect the pause, grant, expect the resume)
// through the typed actor API and through the blocking facade.

#include <cstddef>

#include <caf/fwd.hpp>

#include "signoff/actors/orchestrator_actor.hpp"
#include "signoff/orchestrator.hpp"

namespace signoff::bench {

/// Runs the cycles of orders [first, first + count) from an actor that
/// keeps `window` of them in flight (1: one after the other), and returns
/// the wall time in seconds. Any cycle that does not pause and resume
/// exactly its own run fails the benchmark.
double drive_typed_cycles(caf::actor_system& system,
                          const actors::orchestrator_actor& orchestrator,
                          std::size_t first, std::size_t count,
                          std::size_t window);

/// The same, one cycle after the other through the blocking calls.
double drive_facade_cycles(orchestrator& orch, std::size_t first,
                           std::size_t count);

} // namespace signoff::bench
