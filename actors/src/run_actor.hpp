#pragma once

// One actor per run: it executes the workflow function against the run's
// checkpoints, persists the run, and parks while the run waits. Only the
// orchestrator talks to it, which is what makes a run execute exactly once
// however many resumes race.

#include <memory>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "runtime.hpp"
#include "signoff/actors/approval_registry_actor.hpp"
#include "signoff/actors/messages.hpp"

namespace signoff::actors::detail {

using run_actor = caf::typed_actor<
  // Executes (first run) or resumes the run if one of its approvals was
  // decided; otherwise replies with its current state.
  caf::replies_to<run_atom>::with<model::result<model::execution_result>>,
  // Cancels the paused run with a reason; the reply lists the approvals it
  // was waiting on. Errors: INVALID_RUN_STATE.
  caf::replies_to<cancel_run_atom,
                  std::string>::with<model::result<model::execution_result>>,
  // Quits; the orchestrator has forgotten this actor before sending it.
  caf::reacts_to<passivate_atom>>;

/// Spawns the actor for `state`, which runs `fn`; `stored` tells whether
/// the state came from the store (else it is written before the first step).
[[nodiscard]] run_actor
spawn_run(caf::actor_system& system, std::shared_ptr<const runtime> rt,
          approval_registry_actor registry, model::workflow fn,
          model::saved_workflow_state state, bool stored);

} // namespace signoff::actors::detail
