#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signoff/model/approval.hpp"
#include "signoff/model/audit_entry.hpp"
#include "signoff/model/result.hpp"
#include "signoff/model/time.hpp"

namespace signoff::model {

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
  /// for a change of assignment, one "reassigned" or "delegated" entry.
  std::vector<audit_entry> audit;
  /// The event type receivers are told of a change that neither creates
  /// nor resolves the approval (`approval_reassigned`); empty for none.
  std::string_view notice{};
};

/// True if `actor` with `rights` may decide the approval `spec` describes,
/// and so reassign it: an admin may decide any; an approval naming no
/// assignee and no candidate group may be decided by anyone; otherwise a
/// named assignee, or a member of a candidate group.
[[nodiscard]] bool may_decide(const approval_spec& spec, std::string_view actor,
                              const actor_rights& rights);

/// The transition creating `key` as pending with `spec`, asked for by
/// `actor` (a run's is "run:<id>"). Errors: `INVALID_ARGUMENT` for an
/// empty or too long key, a quorum of 0, or assignees or candidate groups
/// that are empty names, longer than `max_identity_bytes`, repeated, or
/// more than `max_assignees`.
[[nodiscard]] result<approval_transition>
create_approval(const std::string& key, const approval_spec& spec,
                const std::string& actor, time_point now);

/// The transition `d` causes on `current` (null when the key is unknown)
/// at `now`. Errors are those of `approval_store::decide`, and
/// `FORBIDDEN` when `d.actor` may not decide it (`may_decide`; an expiry
/// is never refused). A repeat of the actor's own decision changes nothing
/// and is not refused. Only an admin may decide a key nobody asked for
/// yet: who may decide it is not known before.
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
/// and `approval_reassigned` as its notice. Who may decide may reassign;
/// only a named assignee may delegate (an admin reassigns instead). A
/// change to what already holds changes nothing, whoever asks.
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

} // namespace signoff::model
