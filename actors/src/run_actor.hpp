#pragma once

// One actor per run: it executes the workflow coroutine, persists the run
// at each pause and at its end, and while the run waits for an approval it
// stays parked with the coroutine suspended, until a wake resumes it where
// it stopped. Only the directory spawns it, and each run has at most one,
// which is what makes a run execute exactly once however many calls race.
//
// Its messages (the actor is dynamically typed: steps send requests from
// it to actors of any kind):
// - (start_atom) -> result<execution_result>: executes from the top (over
//   the checkpoints of a stored run) until the first pause or the end.
// - (resume_atom) -> result<execution_result>: goes on if the approval it
//   waits for is decided, then answers at the next pause or the end;
//   otherwise answers with its state.
// - (wake_atom, wake_message) -> wake_report: the approval was decided;
//   answers once the run reached its next suspension.
// - (cancel_run_atom, cancel_run_request) -> result<execution_result>:
//   cancels a parked run as the request's actor (never empty here: the
//   orchestrator fills in its default); the reply lists the approvals it
//   waited on.
// - (passivate_atom) -> bool: quits if parked and idle (true).

#include <memory>
#include <optional>

#include <caf/actor.hpp>

#include "protocol.hpp"

namespace signoff::actors::detail {

class engine;

/// What a run actor starts from.
struct run_start {
  /// A new run (ids, input, metadata) or the run as stored.
  model::saved_workflow_state state{};
  /// True for a run loaded from the store.
  bool stored = false;
  std::shared_ptr<const workflow> fn{};
};

[[nodiscard]] caf::actor spawn_run(caf::actor_system& system,
                                   std::shared_ptr<engine> eng,
                                   run_start start);

} // namespace signoff::actors::detail
