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

#include "signoff/actors/cluster.hpp"
#include "signoff/actors/messages.hpp"
#include "signoff/model/approval_event.hpp"
#include "signoff/persistence/approval_store.hpp"
#include "signoff/persistence/journal.hpp"
#include "signoff/persistence/outbox.hpp"
#include "signoff/persistence/workflow_state_store.hpp"

namespace signoff::persistence {
struct lmdb_stores;
} // namespace signoff::persistence

namespace signoff::actors {

/// The orchestrator is the entry point: it starts runs (one actor each),
/// routes every decision to the registry shard that owns its key, which
/// commits it and wakes the runs waiting on the key, and keeps the
/// directory of the runs in memory. Every reply is a `model::result`:
/// domain errors travel as values with their stable codes.
using orchestrator_actor = caf::typed_actor<
  // Registers (or replaces) a workflow under its name, and resumes the
  // runs of it that were running when the process last died.
  caf::replies_to<register_atom, workflow_registration>::with<bool>,
  // Starts a run; replies when it completed, failed or paused. Errors:
  // UNKNOWN_WORKFLOW, INVALID_ARGUMENT (bad input, or the run id exists).
  caf::replies_to<execute_atom, execute_request>::with<
    model::result<model::execution_result>>,
  // Resumes a run by id: a paused run whose approval was decided goes on;
  // otherwise its current state is the reply. Errors: NOT_FOUND,
  // UNKNOWN_WORKFLOW.
  caf::replies_to<resume_atom,
                  std::string>::with<model::result<model::execution_result>>,
  // Commits a grant, edit, reject or cancel and, with auto_resume, replies
  // once every run waiting on its key reached its next suspension (a
  // pause, its end, or an awaited async step). Errors: those of
  // `approval_store::decide`.
  caf::replies_to<decide_atom,
                  decision_request>::with<model::result<decision_report>>,
  // Comments on an approval, committed by the shard owning its key like a
  // decision; replies with the "commented" audit entry. Errors: those of
  // `approval_store::comment`.
  caf::replies_to<comment_atom,
                  comment_request>::with<model::result<model::audit_entry>>,
  // Reassigns or delegates a pending approval, committed by the shard
  // owning its key like a decision; replies with the approval as it now
  // stands. Errors: those of `approval_store::change_assignment`.
  caf::replies_to<assign_atom, model::assignment_change>::with<
    model::result<model::decision_outcome>>,
  // Cancels a paused run and then its pending approvals; the reply's
  // pending_approvals are the approvals it stopped waiting on. Errors:
  // NOT_FOUND, INVALID_RUN_STATE (not paused).
  caf::replies_to<cancel_run_atom, cancel_run_request>::with<
    model::result<model::execution_result>>,
  // Reads a run's saved state. Errors: NOT_FOUND.
  caf::replies_to<status_atom, std::string>::with<
    model::result<model::saved_workflow_state>>,
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
                  cleanup_request>::with<model::result<cleanup_report>>,
  // Fires every reminder, escalation and expiry due now; replies with the
  // expired keys once their waiting runs reached their next suspension.
  caf::replies_to<expire_atom>::with<model::result<std::vector<std::string>>>,
  // How many run actors are in memory now (parked or working).
  caf::replies_to<resident_atom>::with<std::size_t>,
  // The actor this node's peers call (publish it on the cluster port); a
  // null handle when the orchestrator is not part of a cluster.
  caf::replies_to<cluster_atom>::with<cluster_gateway_actor>>;

/// What a notification hook is told.
using approval_event = model::approval_event;

/// Callbacks for approvers' notifications. They run on actor threads after
/// the change is committed, so they must be thread-safe and quick; an
/// exception they throw is logged and never undoes or loses a decision.
struct notification_hooks {
  /// A run paused on a new approval.
  std::function<void(const approval_event&)> on_approval_needed{};
  /// An approval was approved, edited, rejected, cancelled or expired.
  std::function<void(const approval_event&)> on_approval_resolved{};
  /// A reminder of a pending approval's deadline fell due (see
  /// `approval_options::reminding_before`); `expires_at` is the deadline.
  std::function<void(const approval_event&)> on_approval_reminder{};
  /// A pending approval's deadline passed and it moved to its next level
  /// (see `approval_options::escalating_to`): `assignees`,
  /// `candidate_groups`, `expires_at` and `escalation_level` are the new
  /// ones.
  std::function<void(const approval_event&)> on_approval_escalated{};
};

/// How the orchestrator actor is set up. Every field has a usable default.
struct orchestrator_config {
  /// Where approvals live; null means a new in-memory store.
  std::shared_ptr<persistence::approval_store> approval_store{};
  /// Where runs live; null means a new in-memory store.
  std::shared_ptr<persistence::workflow_state_store> workflow_state_store{};
  /// How the stores' writes are made durable together (group commit):
  /// pass `lmdb_stores::journal` with the LMDB stores. Null means the
  /// stores apply each change at once (right for the in-memory stores).
  std::shared_ptr<persistence::journal> journal{};
  /// Where to keep notifications durably: each event is appended in the
  /// commit of the change it reports (see `model::event_json`). With a
  /// journal, the journal's store keeps them: pass its outbox
  /// (`lmdb_stores::notifications`). Null keeps none (nobody would read
  /// them, and an outbox nobody drains only grows).
  std::shared_ptr<persistence::outbox> outbox{};
  /// Parked run actors kept in memory; past this many, the least recently
  /// parked quit and are re-activated from the store when woken.
  std::size_t max_resident_runs = 10'000;
  /// A run parked longer than this quits too (its state is in the store),
  /// whatever the resident count; zero keeps parked runs until the limit.
  model::duration idle_passivation = std::chrono::minutes{10};
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
  /// The time source; null means the system clock.
  model::clock clock{};
  /// Approvals expired per registry timer tick, so a backlog of expiries
  /// (after a long downtime) is worked off without flooding the process.
  std::size_t expiry_batch = 256;
  /// Registry shards, each owning the approvals whose key hashes to it;
  /// zero means one per scheduler worker.
  std::size_t registry_shards = 0;
  /// Runs a decision wakes at once; the rest follow as these reach their
  /// next suspension, so waking 100,000 runs neither floods the scheduler
  /// nor breaks `max_resident_runs`.
  std::size_t wakes_in_flight = 256;
  /// Threads of the step executor, where plain (non-coroutine) step
  /// functions run because they may block: 8. Zero runs them on the run's
  /// actor instead: only for steps that never block (and for deterministic
  /// tests).
  std::size_t step_threads = 8;
  /// How long `step.request` waits for a reply when the step names no
  /// timeout: 30 seconds.
  model::duration request_timeout = std::chrono::seconds{30};
  /// Runs the store writer, which blocks on every fsync, on a thread of its
  /// own. False runs it on the scheduler, for deterministic tests under
  /// CAF's test coordinator.
  bool detached_writer = true;
  /// The cluster this orchestrator is a node of; none runs it alone. In a
  /// cluster, each approval key is owned by one node (`owner_of`): calls
  /// on a key another node owns are routed there, and runs here waiting
  /// on such a key are woken by the owner.
  std::optional<cluster_membership> cluster{};

  /// Sets the approval and run stores and the journal to those
  /// `persistence::open_lmdb_stores` opened (so group commit is never
  /// forgotten), and the outbox to the directory's when `keep_events`
  /// (only where something delivers them: see `outbox`). The other fields
  /// are left as they are.
  orchestrator_config& use_lmdb_stores(const persistence::lmdb_stores& stores,
                                       bool keep_events = false);
};

/// Spawns an orchestrator (and its registry shards, expiry timer and
/// writer) in `system`. Send it an exit message to stop it: it quits once
/// every actor it owns has quit.
[[nodiscard]] orchestrator_actor spawn_orchestrator(caf::actor_system& system,
                                                    orchestrator_config config);

} // namespace signoff::actors
