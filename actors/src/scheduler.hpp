#pragma once

// The scheduler an orchestrator's own actor system runs on.

#include <chrono>

#include <caf/actor_system_config.hpp>
#include <caf/fwd.hpp>

namespace signoff::actors::detail {

/// Makes the system built from `cfg` schedule its actors on one queue that
/// every worker thread takes jobs from (CAF's work sharing, which answers a
/// blocking caller in ~13 us where work stealing takes ~100 us and wakes
/// 100,000 parked runs at once without stalling), without the per-message
/// costs CAF's own worker loop has in Debian's build. `scheduler.max-threads`
/// and `scheduler.max-throughput` still apply. An idle worker polls the
/// queue for `idle_spin` before it sleeps.
void use_signoff_scheduler(caf::actor_system_config& cfg,
                           std::chrono::microseconds idle_spin);

/// How long an idle worker of `system` polls for work before it sleeps, as
/// `use_signoff_scheduler` set it (zero for a system it did not make).
/// Threads of signoff's own that wait for work do the same.
[[nodiscard]] std::chrono::microseconds
idle_spin_of(const caf::actor_system& system);

} // namespace signoff::actors::detail
