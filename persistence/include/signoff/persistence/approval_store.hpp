#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signoff/model/approval.hpp"
#include "signoff/model/audit_entry.hpp"
#include "signoff/model/decision_rules.hpp"
#include "signoff/model/result.hpp"
#include "signoff/model/time.hpp"
#include "signoff/persistence/changes.hpp"

namespace signoff::persistence {

/// What `create_approval` found or made.
struct created_approval {
  model::approval_record record;
  /// False if the key existed already (the record is the existing one).
  bool created = false;
};

/// Where approvals, their audit trail and their deadlines live: the
/// reference's ApprovalStore. A store implements the reads and one write,
/// `apply`; every transition (`create_approval`, `decide`) is computed by
/// the shared rules of `decision_rules.hpp` and applied through it, so each
/// store writes the same records and audit entries.
///
/// Writing a store of your own: implement `apply` and the reads. The audit
/// entries arrive computed, in `approval_change::audit`: numbered after
/// `before`'s revision, naming their actor, and led by the decider's
/// "created" entry when a decision comes before its approval exists. They
/// are `model::approval_transition::audit`, from `model::create_approval`
/// and `model::apply_decision`, the one place entries are made: append them
/// as they are, and compute none of your own.
///
/// Keys may hold any bytes, not only UTF-8, and records repeat their keys.
/// Boost.JSON serializes such bytes as they are, but parses the text back
/// only with `boost::json::parse_options::allow_invalid_utf8` set: a store
/// keeping JSON text must parse with it. `model::parse_json` does not set
/// it by default (pass the options); the LMDB store sets it when it
/// decodes records.
///
/// Thread safety: every implementation must allow concurrent calls from
/// any thread. Errors: `STORAGE_ERROR` when the medium fails; the
/// operations below list the others. Instants are passed in, so a store
/// never reads a clock of its own.
class approval_store {
public:
  virtual ~approval_store() = default;

  /// Writes `change` atomically: the record, its index entries (pending
  /// keys, deadlines), the audit entries, and the event and owed wake where
  /// the store keeps those. Errors: `STALE_WRITE` if the stored revision
  /// is not `change.before`'s (0 and absent for a new approval);
  /// `INVALID_ARGUMENT` for a key the store cannot hold.
  virtual model::result<void> apply(approval_change change) = 0;

  /// The record under `key`, or nothing.
  [[nodiscard]] virtual model::result<std::optional<model::approval_record>>
  find_approval(const std::string& key) const = 0;

  /// Pending, unexpired keys starting with `prefix` (taken literally, byte
  /// for byte) in key order, at most `limit` of them. An approval with
  /// escalation levels left is unexpired until its final deadline
  /// (`approval_record::final_deadline`).
  [[nodiscard]] virtual model::result<std::vector<std::string>>
  list_pending(std::string_view prefix, model::time_point now,
               std::size_t limit) const = 0;

  /// Keys no longer pending (decided, cancelled or expired) whose decision
  /// was recorded at or after `since`, the most recently decided first,
  /// at most `limit` of them. An approval past its deadline whose expiry
  /// is not recorded yet is not among them.
  [[nodiscard]] virtual model::result<std::vector<std::string>>
  list_decided(model::time_point since, std::size_t limit) const = 0;

  /// Every change to `key` in order; empty for an unknown key.
  [[nodiscard]] virtual model::result<std::vector<model::audit_entry>>
  audit_trail(const std::string& key) const = 0;

  /// Pending keys due for the registry's timer at or before `now` (their
  /// `approval_record::next_due`: a reminder, an escalation or the
  /// expiry), earliest first, at most `limit`.
  [[nodiscard]] virtual model::result<std::vector<std::string>>
  due_for_expiry(model::time_point now, std::size_t limit) const = 0;

  /// The earliest `next_due` of any pending approval.
  [[nodiscard]] virtual model::result<std::optional<model::time_point>>
  next_expiry() const = 0;

  /// Deletes a decided approval and its audit trail; false if there was
  /// nothing to delete. Errors: `INVALID_RUN_STATE` if it is still pending.
  virtual model::result<bool> remove_approval(const std::string& key) = 0;

  /// Keys decided (or expired) whose waiting runs may not have been woken
  /// yet, in key order, those after `after` (all if it is empty), at most
  /// `limit`: a reader pages through them, so keys that stay owed a while
  /// cannot hide the others. A store shared between processes records them
  /// (`approval_change::owe_wake`) in the commit of the decision, so a wake
  /// lost to a crash, or a decision made by another process (the CLI), is
  /// found by reading the store. The default records nothing: right for a
  /// store only one process uses, where the orchestrator wakes runs itself.
  [[nodiscard]] virtual model::result<std::vector<std::string>>
  owed_wakes(std::size_t limit, const std::string& after) const {
    (void)limit;
    (void)after;
    return std::vector<std::string>{};
  }

  /// Forgets owed wakes once their runs were woken.
  virtual model::result<void> wakes_done(const std::vector<std::string>& keys) {
    (void)keys;
    return model::ok();
  }

  /// How many approvals are pending: entries of the pending index, so
  /// those past their deadline that nobody expired yet count too. For
  /// metrics, read on every scrape, so it must not grow with the number of
  /// approvals (an index's entry count, a container's size). The default
  /// answers nothing (unknown), and the metric is left out: right for a
  /// store that could only count by scanning.
  [[nodiscard]] virtual model::result<std::optional<std::uint64_t>>
  count_pending() const {
    return std::optional<std::uint64_t>{};
  }

  /// Creates `key` as pending with `spec` unless it exists, appending a
  /// "created" audit entry by `actor`. An existing record is returned
  /// unchanged (it may hold a decision made before the run got here).
  /// Errors: `INVALID_ARGUMENT` for an empty key or a quorum of 0.
  model::result<created_approval>
  create_approval(const std::string& key, const model::approval_spec& spec,
                  const std::string& actor, model::time_point now);

  /// Applies `d` atomically at `now` with its audit entries, and (for a
  /// store that keeps them) its events (`approval.reminder`,
  /// `approval.escalated`, `approval.resolved`) and the owed wake of a
  /// decision that resolves the approval. An expiry does what the timer
  /// has due (see `model::apply_decision`). A pending approval takes the
  /// decision (a grant may only add to its quorum); a missing one is
  /// created already decided, unless `d.require_existing`. Repeating the
  /// deciding actor's own decision changes nothing.
  /// Errors: `APPROVAL_CONFLICT` (details: the current status) when it is
  /// decided otherwise or past its deadline; `NOT_FOUND` for a missing key
  /// when required or when expiring; `INVALID_ARGUMENT` for an empty key,
  /// a reject without reason, or an expiry before the deadline.
  model::result<model::decision_outcome> decide(const model::decision& d,
                                                model::time_point now);

  /// Comments on `key` as `actor` at `now`: appends the "commented" audit
  /// entry of `model::apply_comment` atomically and returns it, changing
  /// no decision (and keeping no event, owing no wake). Errors: those of
  /// `model::apply_comment`.
  model::result<model::audit_entry> comment(const std::string& key,
                                            const std::string& actor,
                                            const std::string& text,
                                            model::time_point now);

  /// Reassigns or delegates a pending approval at `now` as
  /// `model::apply_assignment` computes it, atomically with its audit entry
  /// and (for a store that keeps them) its `approval.reassigned` event. A
  /// change to what already holds writes nothing (`applied` false).
  /// Errors: those of `model::apply_assignment`.
  model::result<model::decision_outcome>
  change_assignment(const model::assignment_change& change,
                    model::time_point now);
};

/// What `make_approval_change` adds to a transition.
struct change_options {
  /// Keep the events in the change: `approval.needed` when it creates the
  /// approval pending, then one per notice of the transition (a reminder,
  /// an escalation), then `approval.resolved` when it resolves the
  /// approval, naming the runs `waiting` on it. False when nothing keeps
  /// events.
  bool event = true;
  std::vector<std::string> waiting{};
};

/// The change a transition makes to the record indexed as `before` (none
/// for a new approval), owing a wake when it resolves the approval (a
/// pending or new one that is decided after it; a change to an approval
/// already decided, a comment, resolves nothing).
[[nodiscard]] approval_change
make_approval_change(std::optional<approval_index> before,
                     model::approval_transition transition,
                     model::time_point now, change_options options = {});

} // namespace signoff::persistence
