#pragma once

// The two workflows the demo server runs: an order that needs a manager's
// approval, and an expense report that needs 2 of 3 finance approvers.

#include "signoff/orchestrator.hpp"

namespace signoff::demo {

/// Registers "order" and "expense" with `orch`.
void register_demo_workflows(orchestrator& orch);

/// Starts a few runs that wait for approval (into a new directory: the
/// caller decides when).
void seed_waiting_runs(orchestrator& orch);

} // namespace signoff::demo
