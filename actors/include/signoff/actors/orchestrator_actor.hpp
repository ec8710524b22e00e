#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "signoff/actors/messages.hpp"
#include "signoff/persistence/approval_store.hpp"
#include "signoff/persistence/commit_group.hpp"
#include "signoff/persistence/outbox.hpp"
#include "signoff/persistence/workflow_state_store.hpp"

namespace signoff::actors {

/// The orchestrator is the entry point: it starts runs (one actor each),
/// routes every decision through the approval registry and then wakes the
/// runs waiting on the decided key, spawning or re-activating them from the
/// workflow state store as needed. Every reply is a `model::result`: domain
/// errors travel as values with their stable codes.
using orchestrator_actor = caf::typed_actor<
  // Registers (or replaces) the workflow function run under a name, and
  // resumes the runs of it that were running when the process last died.
  caf::replies_to<register_atom, std::string, model::workflow>::with<bool>,
  // Starts a run; replies when it completed, failed or paused. Errors:
  // UNKNOWN_WORKFLOW, INVALID_ARGUMENT (the run id exists).
  caf::replies_to<execute_atom, execute_request>::with<
    model::result<model::execution_result>>,
  // Resumes a run by id: a paused run whose approval was decided executes
  // again from its checkpoints; otherwise its current state is the reply.
  // Errors: NOT_FOUND, UNKNOWN_WORKFLOW.
  caf::replies_to<resume_atom,
                  std::string>::with<model::result<model::execution_result>>,
  // Commits a grant, edit, reject or cancel and, with auto_resume, resumes
  // every run waiting on its key before replying. Errors: those of
  // `approval_store::decide`.
  caf::replies_to<decide_atom,
                  decision_request>::with<model::result<decision_report>>,
  // Cancels a paused run (run id, reason) and then its pending approvals;
  // the reply's pending_approvals are the approvals it stopped waiting on.
  // Errors: NOT_FOUND, INVALID_RUN_STATE (not paused).
  caf::replies_to<cancel_run_atom, std::string,
                  std::string>::with<model::result<model::execution_result>>,
  // Reads a run's saved state. Errors: NOT_FOUND.
  caf::replies_to<status_atom, std::string>::with<
    model::result<model::saved_workflow_state>>,
  // Lists the paused runs of a workflow (all workflows for "").
  caf::replies_to<list_runs_atom,
                  std::string>::with<model::result<std::vector<std::string>>>,
  // Lists the runs matching a filter (workflow, status), in id order.
  caf::replies_to<list_runs_atom, persistence::run_filter>::with<
    model::result<std::vector<std::string>>>,
  // Lists the runs paused on an approval key.
  caf::replies_to<waiting_atom,
                  std::string>::with<model::result<std::vector<std::string>>>,
  // Reads an approval. Errors: NOT_FOUND.
  caf::replies_to<approval_atom,
                  std::string>::with<model::result<model::approval_record>>,
  // Lists pending approval keys with a literal prefix ("" for all).
  caf::replies_to<pending_atom,
                  std::string>::with<model::result<std::vector<std::string>>>,
  // Reads an approval's audit trail, oldest first.
  caf::replies_to<audit_atom, std::string>::with<
    model::result<std::vector<model::audit_entry>>>,
  // Removes finished runs older than the age given, and the decided
  // approvals no waiting run still needs. Never touches a paused run.
  caf::replies_to<cleanup_atom,
                  model::duration>::with<model::result<cleanup_report>>,
  // Expires every approval past its deadline now and wakes its runs;
  // replies with the expired keys.
  caf::replies_to<expire_atom>::with<model::result<std::vector<std::string>>>,
  // How many run actors are in memory now (parked or working).
  caf::replies_to<resident_atom>::with<std::size_t>,
  // Sent by the registry: the approval under this key was resolved (by
  // expiry); wake the runs waiting on it.
  caf::reacts_to<wake_atom, std::string>,
  // The orchestrator's own timer: wake the runs of decisions the store
  // says are owed a wake (made by another process, or lost in a crash).
  caf::reacts_to<tick_atom>>;

/// What a notification hook is told.
struct approval_event {
  std::string key{};
  /// Pending for `on_approval_needed`; the decision for `_resolved`.
  model::approval_status status{};
  /// The run that paused; for a resolution, the first of `run_ids`.
  std::string run_id{};
  std::string workflow_name{};
  /// For a resolution: every run that waited on the approval (an approval
  /// key is global), in id order; empty if none had reached it yet.
  std::vector<std::string> run_ids{};
  std::string pending_reason{};
  boost::json::value metadata{};
  std::optional<model::time_point> expires_at{};
};

/// The JSON form of `event` kept in the outbox: `{"type":
/// "approval.needed"|"approval.resolved", "key", "status": {...}, "runId",
/// "workflowName", "runIds", "pendingReason", "metadata", "expiresAt",
/// "at"}`; `runIds` is `run_ids`, or `[runId]` for a pause.
[[nodiscard]] boost::json::value event_json(const approval_event& event,
                                            std::string_view type,
                                            model::time_point at);

/// Callbacks for approvers' notifications. They run on actor threads after
/// the change is committed, so they must be thread-safe and quick; an
/// exception they throw is logged and never undoes or loses a decision.
struct notification_hooks {
  /// A run paused on an approval.
  std::function<void(const approval_event&)> on_approval_needed{};
  /// An approval was approved, edited, rejected, cancelled or expired.
  std::function<void(const approval_event&)> on_approval_resolved{};
};

/// How the orchestrator actor is set up. Every field has a usable default.
struct orchestrator_config {
  /// Where approvals live; null means a new in-memory store.
  std::shared_ptr<persistence::approval_store> approval_store{};
  /// Where runs live; null means a new in-memory store.
  std::shared_ptr<persistence::workflow_state_store> workflow_state_store{};
  /// Groups the stores' writes into shared commits; null means the stores'
  /// writes are complete on return (right for the in-memory stores). Pass
  /// `lmdb_stores::commits` with the LMDB stores.
  std::shared_ptr<persistence::commit_group> commit_group{};
  /// Parked run actors kept in memory; past this many, the least recently
  /// parked quit and are re-activated from the store when woken.
  std::size_t max_resident_runs = 10'000;
  /// How often the store is asked for decisions whose runs are owed a wake
  /// (decisions by other processes such as the CLI, wakes lost in a
  /// crash); also done once at start. Zero turns it off.
  model::duration wake_poll_interval = std::chrono::milliseconds{500};
  /// Runs found `running` at start (the process died during them) resumed
  /// at once when their workflow is registered; the rest wait their turn.
  std::size_t recovery_concurrency = 16;
  /// Deadline of approvals whose step sets none: 7 days.
  model::duration default_expiration = std::chrono::hours{24 * 7};
  /// Receives one line per notable event; null for silence.
  std::function<void(std::string_view)> logger{};
  /// Approver notifications, called in process after each change.
  notification_hooks hooks{};
  /// Where to keep the same notifications durably: each event is appended
  /// in the commit of the change it reports (see `event_json` for its
  /// form). Null for none. Pass `lmdb_stores::notifications` for LMDB.
  std::shared_ptr<persistence::outbox> outbox{};
  /// The time source; null means the system clock.
  model::clock clock{};
  /// Approvals expired per registry timer tick, so a backlog of expiries
  /// (after a long downtime) is worked off without flooding the process.
  std::size_t expiry_batch = 256;
};

/// Spawns an orchestrator (and its approval registry) in `system`. Send it
/// an exit message to stop it together with every run actor it owns.
[[nodiscard]] orchestrator_actor spawn_orchestrator(caf::actor_system& system,
                                                    orchestrator_config config);

} // namespace signoff::actors
