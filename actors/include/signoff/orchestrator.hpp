#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>
#include <caf/fwd.hpp>

#include "signoff/actors/orchestrator_actor.hpp"
#include "signoff/metrics.hpp"
#include "signoff/model/decision_rules.hpp"

namespace signoff {

/// How long an idle worker of signoff's scheduler polls for work before it
/// sleeps, unless said otherwise.
inline constexpr std::chrono::microseconds default_idle_spin{500};

/// Options of the blocking orchestrator: the actor's configuration plus
/// where its actors run.
struct orchestrator_options : actors::orchestrator_config {
  /// An actor system to run in, which must outlive the orchestrator; null
  /// means the orchestrator starts its own. Build it from
  /// `make_actor_system_config()` (or at least CAF's sharing policy,
  /// `scheduler.policy = sharing`): with the default work stealing, idle
  /// workers sleep between polls and every blocking call waits ~100 us for
  /// one to notice its reply (~13 us with sharing), and waking 100,000
  /// parked runs at once stalls for seconds. Workflow code never blocks
  /// its threads (blocking steps run on the step executor), so the system
  /// may be shared with other actors.
  caf::actor_system* system = nullptr;
  /// Worker threads of an own actor system; 0 means one per core (at
  /// least two).
  std::size_t worker_threads = 0;
  /// How long an idle worker of an own actor system polls for work before
  /// it sleeps (see `make_actor_system_config`).
  std::chrono::microseconds idle_spin = default_idle_spin;
};

/// The configuration an orchestrator gives the actor system it starts
/// itself: signoff's scheduler, which shares one queue of jobs among
/// `worker_threads` workers (0: one per core, at least two) like CAF's
/// sharing policy, without the costs CAF's worker loop adds to every
/// message. To run the orchestrator in a system that holds more (your own
/// actors, a cluster node's network layer), start from this one, add to
/// it, build the system (it keeps a reference to the configuration) and
/// pass it as `orchestrator_options::system`.
///
/// A worker that runs out of jobs polls the queue for `idle_spin` (yielding
/// its core) before it sleeps, and so do the store writer's commit thread
/// and a blocking call waiting for its reply: the next job of a request in
/// progress usually comes sooner, and a sleeping thread costs tens of
/// microseconds to wake on a VM (measured on 2 cores: a durable cycle
/// 1.3 -> 1.05 ms, a blocking cycle 88 -> 63 us). Zero sleeps at once,
/// spending no CPU while idle.
[[nodiscard]] std::unique_ptr<caf::actor_system_config>
make_actor_system_config(std::size_t worker_threads = 0,
                         std::chrono::microseconds idle_spin
                         = default_idle_spin);

/// How `execute` starts a run.
struct execute_options {
  /// The run's id; empty to have a unique one generated.
  std::string run_id{};
  /// Kept with the run (an object, say who asked).
  boost::json::value metadata{};
};

/// How `grant_approval` and `edit_approval` decide.
struct grant_options {
  /// Who grants; a quorum counts distinct approvers.
  std::string approved_by{};
  /// Resume every run waiting on the key before returning (default).
  bool auto_resume = true;
  /// What `approved_by` may decide (trusted, as an admin, by default).
  model::actor_rights rights{};
};

/// How `reject_approval` decides.
struct reject_options {
  std::string rejected_by{};
  bool auto_resume = true;
  model::actor_rights rights{};
};

/// How `cancel_approval` decides.
struct cancel_options {
  std::string cancelled_by{};
  std::string reason{};
  bool auto_resume = true;
  model::actor_rights rights{};
};

/// How `reassign_approval` and `delegate_approval` change who may decide.
struct assignment_options {
  /// Who makes the change (required).
  std::string by{};
  /// Why, kept in the audit trail.
  std::string reason{};
  /// What `by` may do (trusted, as an admin, by default).
  model::actor_rights rights{};
};

/// How `poll_approval` waits.
struct poll_options {
  /// Pause between two reads: 5 seconds.
  model::duration interval = std::chrono::seconds{5};
  /// Stop after this many reads; unset for no limit.
  std::optional<std::size_t> max_polls{};
  /// Stop after this long; unset for no limit.
  std::optional<model::duration> timeout{};
  /// Called before each read.
  std::function<void()> on_poll_start{};
  /// Called with each status read.
  std::function<void(const model::approval_status&)> on_poll_complete{};
};

/// What a decision returns: the reference's `{grantedAt, resumedWorkflows}`
/// plus the approval as it now stands.
using decision_report = actors::decision_report;

/// One key's part of a bulk decision: what deciding it returned.
struct bulk_outcome {
  std::string key;
  model::result<decision_report> report;
};

/// Where the outcome of an asynchronous call (`async_decide`, ...) goes.
/// It is called exactly once, with the reply or an error, on the thread of
/// the actor that answered (or, when the orchestrator is gone, on the
/// calling thread or the one that dropped the request; for a call refused
/// before anything is sent, such as `async_decide_each` with bad keys, on
/// the calling thread). So it must be quick and must not block: in
/// particular it must not call the blocking members of `orchestrator` (it
/// may hold the very thread that would answer them); hand longer work to a
/// thread of your own. An exception it throws is dropped.
template <class T>
using completion = std::function<void(model::result<T>)>;

/// The orchestrator for code that is not an actor: every call blocks until
/// the orchestrator actor answered (one request, one reply), queries read
/// the stores directly, and every call is thread-safe. The `async_` calls
/// send the same request and return at once; their reply goes to a
/// `completion`, so a server can have many calls in flight without a
/// thread waiting on each. Errors come back as `model::result` values with
/// the codes of `error_type`. Its destructor stops the orchestrator and
/// returns once no run executes workflow code.
class orchestrator {
public:
  explicit orchestrator(orchestrator_options options = {});
  ~orchestrator();

  orchestrator(const orchestrator&) = delete;
  orchestrator& operator=(const orchestrator&) = delete;

  /// Registers (or replaces) the workflow run under `name`; runs of it are
  /// executed, resumed and auto-resumed by that name. Errors:
  /// INVALID_ARGUMENT for an empty function.
  model::result<void> register_workflow(std::string name, workflow fn);

  /// Starts a run of `name` on `input`; returns when it completed, failed
  /// or paused. Errors: UNKNOWN_WORKFLOW, INVALID_ARGUMENT (run id taken).
  model::result<model::execution_result> execute(const std::string& name,
                                                 boost::json::value input,
                                                 execute_options options = {});

  /// Resumes a paused run whose approval was decided; for any other run,
  /// returns its current state. Errors: NOT_FOUND, UNKNOWN_WORKFLOW.
  model::result<model::execution_result> resume(const std::string& run_id);

  /// Grants `key` with `value` (or records a grant toward its quorum).
  /// Errors: APPROVAL_CONFLICT (details: the winning status),
  /// INVALID_ARGUMENT.
  model::result<decision_report> grant_approval(const std::string& key,
                                                boost::json::value value,
                                                grant_options options = {});

  /// Grants `key` with a changed value; the approval reads `edited`.
  model::result<decision_report> edit_approval(const std::string& key,
                                               boost::json::value value,
                                               grant_options options = {});

  /// Rejects `key`; `reason` must not be empty.
  model::result<decision_report> reject_approval(const std::string& key,
                                                 std::string reason,
                                                 reject_options options = {});

  /// Cancels `key`; waiting runs see APPROVAL_CANCELLED.
  model::result<decision_report> cancel_approval(const std::string& key,
                                                 cancel_options options = {});

  /// Applies any decision (what the other decision calls wrap).
  model::result<decision_report> decide(model::decision d,
                                        bool auto_resume = true);

  /// Decides each of `keys` as `d` says (its own key is not used): one
  /// decision per key, each atomic and audited on its own, all in flight
  /// at once. The outcomes come in the order of `keys`; one key's error
  /// (a conflict, a key nobody asked for with `d.require_existing`) does
  /// not stop the others. Errors (nothing decided): INVALID_ARGUMENT for
  /// no keys, an empty or repeated key, or more than `model::max_bulk_keys`.
  model::result<std::vector<bulk_outcome>>
  decide_each(std::vector<std::string> keys, const model::decision& d,
              bool auto_resume = true);

  /// `decide_each` over every approval pending under `prefix` now (all of
  /// them for an empty prefix). Errors: those of `list_pending_approvals`;
  /// INVALID_ARGUMENT when more than `model::max_bulk_keys` are pending there.
  model::result<std::vector<bulk_outcome>>
  decide_pending(const std::string& prefix, const model::decision& d,
                 bool auto_resume = true);

  /// Comments on `key` as `actor` without deciding anything: the comment
  /// is the "commented" entry appended to the audit trail (its reason is
  /// `text`), which is returned. Decided approvals take comments too.
  /// Errors: NOT_FOUND for an unknown key (nothing is created);
  /// INVALID_ARGUMENT for an empty `actor`, or a `text` empty or longer
  /// than `model::max_comment_bytes`.
  model::result<model::audit_entry>
  comment(const std::string& key, std::string text, std::string actor);

  /// Replaces who may decide the pending approval `key`: `assignees` and
  /// `candidate_groups` (both empty: anyone). Whoever may decide it may
  /// reassign it; the change is the "reassigned" audit entry and an
  /// `approval.reassigned` event; asking for what holds changes nothing.
  /// Returns the approval as it now stands. Errors: NOT_FOUND,
  /// APPROVAL_CONFLICT (no longer pending), FORBIDDEN (`options.by` may not
  /// decide it), INVALID_ARGUMENT (no `options.by`; names empty, too long,
  /// repeated or more than `model::max_assignees`).
  model::result<model::decision_outcome>
  reassign_approval(const std::string& key, std::vector<std::string> assignees,
                    std::vector<std::string> candidate_groups,
                    assignment_options options);

  /// `options.by`, a named assignee of the pending approval `key`, hands
  /// its place to `to`: it leaves the assignees, `to` joins them (audited
  /// "delegated"). Errors: those of `reassign_approval`; FORBIDDEN for an
  /// actor who is not a named assignee (an admin reassigns instead);
  /// INVALID_ARGUMENT for an empty `to` or `to` being `options.by`.
  model::result<model::decision_outcome>
  delegate_approval(const std::string& key, std::string to,
                    assignment_options options);

  /// Applies any change of assignment (what the two calls above wrap).
  model::result<model::decision_outcome>
  change_assignment(model::assignment_change change);

  /// Cancels a paused run, then its pending approvals, as `actor`: kept in
  /// the run (`cancelled_by`, and its outcome's details) and in the
  /// approvals' audit trail. An empty `actor` records "run:<id>" (nobody
  /// named). Errors: NOT_FOUND, INVALID_RUN_STATE.
  model::result<model::execution_result> cancel_run(const std::string& run_id,
                                                    std::string reason = {},
                                                    std::string actor = {});

  /// `execute`, answered through `then` (see `completion`).
  void async_execute(const std::string& name, boost::json::value input,
                     execute_options options,
                     completion<model::execution_result> then);

  /// `resume`, answered through `then`.
  void async_resume(const std::string& run_id,
                    completion<model::execution_result> then);

  /// `decide`, answered through `then`: with `auto_resume`, once every run
  /// waiting on the key reached its next suspension.
  void async_decide(model::decision d, bool auto_resume,
                    completion<decision_report> then);

  /// `decide_each`, answered through `then` once every key is decided.
  void async_decide_each(std::vector<std::string> keys, model::decision d,
                         bool auto_resume,
                         completion<std::vector<bulk_outcome>> then);

  /// `comment`, answered through `then`.
  void async_comment(const std::string& key, std::string text,
                     std::string actor, completion<model::audit_entry> then);

  /// `change_assignment`, answered through `then`.
  void async_change_assignment(model::assignment_change change,
                               completion<model::decision_outcome> then);

  /// `cancel_run`, answered through `then`.
  void async_cancel_run(const std::string& run_id, std::string reason,
                        std::string actor,
                        completion<model::execution_result> then);

  /// `cleanup`, answered through `then`.
  void async_cleanup(model::duration max_age,
                     completion<actors::cleanup_report> then);

  /// `expire_due`, answered through `then`.
  void async_expire_due(completion<std::vector<std::string>> then);

  /// Reads `key` until it is decided or a limit in `options` is reached;
  /// returns the last status read (pending if still undecided or unknown).
  /// Reads go to the store directly, like every query below.
  model::result<model::approval_status>
  poll_approval(const std::string& key, const poll_options& options = {});

  // The queries below read the stores on the calling thread and cross no
  // mailbox: they wait for nothing but the store (a point read or a scan),
  // so a server may call them where it must not block on the actors.

  /// The run's saved state. Errors: NOT_FOUND.
  model::result<model::saved_workflow_state>
  get_workflow_status(const std::string& run_id);

  /// Ids of the paused runs of `workflow_name` (all workflows if empty).
  model::result<std::vector<std::string>>
  list_pending_workflows(const std::string& workflow_name = {});

  /// Ids of the runs matching `filter` (every run by default), in id order.
  model::result<std::vector<std::string>>
  list_runs(const persistence::run_filter& filter = {});

  /// Removes finished runs last updated more than `max_age` ago, with the
  /// decided approvals no waiting run needs. Paused runs are never removed.
  model::result<actors::cleanup_report> cleanup(model::duration max_age);

  /// Expires every approval past its final deadline now, after sending the
  /// reminders and applying the escalation levels due (the registry also
  /// does this by itself), and returns the expired keys once their runs
  /// resumed.
  model::result<std::vector<std::string>> expire_due();

  /// Every recorded change to `key`, oldest first.
  model::result<std::vector<model::audit_entry>>
  audit_trail(const std::string& key);

  /// Ids of the runs paused on the approval `key`.
  model::result<std::vector<std::string>>
  list_runs_waiting_on(const std::string& key);

  /// The approval under `key`. Errors: NOT_FOUND.
  model::result<model::approval_record> get_approval(const std::string& key);

  /// Pending approval keys starting with `prefix` (literally).
  model::result<std::vector<std::string>>
  list_pending_approvals(const std::string& prefix = {});

  /// Approval keys decided (or cancelled, or expired) within the last
  /// `within`, the most recently decided first, at most `limit` of them.
  model::result<std::vector<std::string>>
  list_decided_approvals(model::duration within, std::size_t limit);

  /// What the orchestrator counted since it started, and the gauges its
  /// stores count now (see `orchestrator_metrics`). Crosses no mailbox:
  /// counters are read as they stand, and each store gauge is one cheap
  /// read (an index's size), so a scrape never waits for the actors.
  [[nodiscard]] orchestrator_metrics metrics() const;

  /// The orchestrator actor, for actors that want to talk to it directly.
  [[nodiscard]] actors::orchestrator_actor handle() const;

  /// The actor system the orchestrator runs in.
  [[nodiscard]] caf::actor_system& system() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace signoff
