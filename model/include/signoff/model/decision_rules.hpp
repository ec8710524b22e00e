#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signoff/model/approval.hpp"
#include "signoff/model/approval_event.hpp"
#include "signoff/model/audit_entry.hpp"
#include "signoff/model/result.hpp"
#include "signoff/model/time.hpp"

namespace signoff::model {

/// What approvers are told of a pending approval besides its creation and
/// its resolution (which the stores tell from the record's change).
struct approval_notice {
  /// `approval_reminder`, `approval_escalated` or `approval_reassigned`.
  std::string_view type;
  /// The approval as it stood right after the change.
  approval_event event;
};

/// What a change does to an approval, computed before anything is written,
/// so every store (and every owner of approvals) applies exactly the same
/// rules and writes exactly the same audit entries.
struct approval_transition {
  /// The record as it must be stored; its `revision` counts the entries
  /// below.
  approval_record record;
  /// False for an idempotent repeat: nothing to write.
  bool applied = false;
  /// The audit entries to append, numbered after the current revision: a
  /// "created" entry for a new approval (by the run that asked for it, or
  /// by the decider when a decision comes first, with the pending reason
  /// as its reason), then the decision's entry ("granted" for a grant
  /// toward a quorum, else the new state's name), by the decider
  /// ("system" for an expiry), with the decision's reason and value; or,
  /// for a comment, one "commented" entry with the text as its reason;
  /// for a change of assignment, one "reassigned" or "delegated" entry by
  /// the actor, whose value is the new assignment. A reminder is one
  /// "reminded" entry by "system"; each escalation level applied one
  /// "escalated" entry by "system", whose value is the new assignment:
  /// `{"level", "assignees", "candidateGroups", "expiresAt"}`.
  std::vector<audit_entry> audit;
  /// One notice per reminder sent, level applied and change of assignment,
  /// in order.
  std::vector<approval_notice> notices;
};

/// True if `actor` with `rights` may decide the approval `spec` describes,
/// and so reassign it: an admin may decide any; an approval naming no
/// assignee and no candidate group may be decided by anyone; otherwise a
/// named assignee, or a member of a candidate group.
[[nodiscard]] bool may_decide(const approval_spec& spec, std::string_view actor,
                              const actor_rights& rights);

/// The transition creating `key` as pending with `spec`, asked for by
/// `actor` (a run's is "run:<id>"). Errors: `INVALID_ARGUMENT` for an
/// empty or too long key, a quorum of 0, assignees or candidate groups
/// that are empty names, longer than `max_identity_bytes`, repeated, or
/// more than `max_assignees`, escalation levels or reminders without a
/// deadline, more than `max_escalation_levels` levels or `max_reminders`
/// reminders, a level's `deadline_in` or a reminder not above zero or over
/// ten years, a reminder given twice, or an empty name among a level's
/// assignees or groups.
///
/// How the deadline moves: when it passes undecided, the next level (if
/// any) replaces who may decide and sets the deadline `deadline_in` later
/// than the one that passed; past the last level's deadline the approval
/// expires. Each reminder is sent once per deadline, that long before it.
[[nodiscard]] result<approval_transition>
create_approval(const std::string& key, const approval_spec& spec,
                const std::string& actor, time_point now);

/// The transition `d` causes on `current` (null when the key is unknown)
/// at `now`. Errors are those of `approval_store::decide`, and
/// `FORBIDDEN` when `d.actor` may not decide it (`may_decide`; the
/// registry's timer is never refused). A repeat of the actor's own
/// decision changes nothing and is not refused. Only an admin may decide a
/// key nobody asked for yet: who may decide it is not known before.
///
/// The registry's timer (`decision_kind::expire`) does one thing per call,
/// so that each is committed on its own and a crash between two neither
/// loses nor repeats one: past the deadline it applies the next level, or
/// expires the approval after the last; before it, it sends the reminder
/// due. After downtime, levels due one after another are applied by one
/// call each, in order; reminders of a deadline already passed are not
/// sent, and of several reminders due at once only the latest is (each
/// counts as sent). Any other decision first applies the levels whose
/// deadline passed (the registry may be behind), in the same transition,
/// and is then decided by whoever may decide at the level reached.
[[nodiscard]] result<approval_transition>
apply_decision(const approval_record* current, const decision& d,
               time_point now);

/// As above, taking the record it changes (none when the key is unknown).
[[nodiscard]] result<approval_transition>
apply_decision(std::optional<approval_record> current, const decision& d,
               time_point now);

/// The transition a comment by `actor` makes on `current`, the record of
/// `key` (none when the key is unknown): one "commented" audit entry with
/// `text` as its reason and a null value, the revision bumped, the status
/// and grants as they are. Any existing approval takes comments, decided
/// or not. Errors: `NOT_FOUND` for an unknown key (a comment never creates
/// an approval); `INVALID_ARGUMENT` for an empty actor, or a text empty or
/// longer than `max_comment_bytes`.
[[nodiscard]] result<approval_transition>
apply_comment(std::optional<approval_record> current, const std::string& key,
              const std::string& actor, const std::string& text,
              time_point now);

/// The transition `change` makes on `current`, the record of `change.key`
/// (none when the key is unknown), at `now`: the approval's assignees and
/// candidate groups replaced (`reassign`) or the actor's place in its
/// assignees handed to `change.to` (`delegate`), with one "reassigned" or
/// "delegated" audit entry (by the actor, with the reason, and the new
/// `{"assignees", "candidateGroups"}` as its value), the revision bumped
/// and an `approval_reassigned` notice. Levels whose deadline passed are
/// applied first (as a decision applies them), and who may change the
/// assignment is judged at the level reached. Who may decide may
/// reassign; only a named assignee may delegate (an admin reassigns
/// instead). A change to what already holds changes nothing, whoever
/// asks.
/// Errors: `NOT_FOUND` for an unknown key; `APPROVAL_CONFLICT` (details:
/// the status) when it is no longer pending; `FORBIDDEN` for an actor
/// who may not; `INVALID_ARGUMENT` for an empty actor, assignees or groups
/// `create_approval` would refuse, an empty `to`, or a delegation to the
/// actor itself.
[[nodiscard]] result<approval_transition>
apply_assignment(std::optional<approval_record> current,
                 const assignment_change& change, time_point now);

/// The most keys one bulk decision takes: a bigger batch is refused whole
/// (narrow the prefix, or split the list), so that one call cannot hold
/// the orchestrator or a store for long or answer with an unbounded report.
inline constexpr std::size_t max_bulk_keys = 1000;

/// What a bulk decision checks before deciding anything: at least one key,
/// none empty or given twice, at most `max_bulk_keys`. Errors:
/// `INVALID_ARGUMENT` naming the problem.
[[nodiscard]] result<void>
check_bulk_keys(const std::vector<std::string>& keys);

/// What a step waiting on several keys checks before anything is asked
/// for: at least one key, at most `max_wait_keys` (approval_wait.hpp), none
/// empty, longer than `max_approval_key_bytes` or given twice. Errors:
/// `INVALID_ARGUMENT` naming the problem.
[[nodiscard]] result<void>
check_wait_keys(const std::vector<std::string>& keys);

} // namespace signoff::model
