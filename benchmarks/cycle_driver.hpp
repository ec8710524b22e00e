#pragma once

// Approval cycles (execute, expect the pause, grant, expect the resume)
// through the typed actor API and through the blocking facade.

#include <cstddef>
#include <vector>

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

/// The same, one cycle after the other through the blocking calls. With
/// `wake_us`, each grant's time (the call to the run's completion, as the
/// grant returns once its run completed) is added to it, in microseconds.
double drive_facade_cycles(orchestrator& orch, std::size_t first,
                           std::size_t count,
                           std::vector<double>* wake_us = nullptr);

} // namespace signoff::bench
