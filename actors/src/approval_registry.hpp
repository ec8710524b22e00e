#pragma once

#include <memory>

#include "runtime.hpp"
#include "signoff/actors/approval_registry_actor.hpp"
#include "signoff/actors/orchestrator_actor.hpp"

namespace signoff::actors::detail {

/// Spawns the registry of one orchestrator, which it tells about expiries.
[[nodiscard]] approval_registry_actor
spawn_approval_registry(caf::actor_system& system,
                        std::shared_ptr<const runtime> rt,
                        orchestrator_actor orchestrator);

} // namespace signoff::actors::detail
