#pragma once

// Scenarios about the actor system beneath signoff: what a bare CAF actor
// costs in memory (the floor a waiting run's actor is compared with), and
// many runs awaiting a slow actor at once.

#include "bench_options.hpp"

namespace signoff::bench {

/// Spawns --pending bare event-based actors (one handler, no state) on an
/// orchestrator's own actor system and reports their resident memory per
/// actor: `bare_actor.n<N>.rss_per_actor` (and its anonymous and file-backed
/// parts).
void bare_actor_scenario(const bench_options& o);

/// Starts --pending runs at once (10,000 in the standard set) on 2
/// scheduler threads, each awaiting one reply of a slow actor that answers
/// after 100 ms without blocking. While they wait, one order is granted
/// through the blocking API. Reports `slow_actor.n<N>.complete_time` (ms,
/// from the first execute to the last run's end), `.decision_time` (us, the
/// grant's call to its run's completion) and `.waiting_at_decision` (runs
/// still awaiting their reply when the grant returned; it says so if none
/// was). Fails unless every run completed with its reply.
void slow_actor_scenario(const bench_options& o);

} // namespace signoff::bench
