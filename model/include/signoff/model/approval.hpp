#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/conversion.hpp>
#include <boost/json/value.hpp>

#include "signoff/model/time.hpp"

namespace signoff::model {

/// The one status an approval has. Only `pending` ever changes.
enum class approval_state {
  pending,   ///< Waiting for a decision.
  approved,  ///< Granted; the value is what the approver supplied.
  edited,    ///< Granted with a changed value.
  rejected,  ///< Refused; the reason says why.
  expired,   ///< Its deadline passed with no decision.
  cancelled, ///< Withdrawn (or its run was cancelled).
};

/// Lower-case name: "pending", "approved", ...
[[nodiscard]] std::string_view to_string(approval_state s) noexcept;

/// Prints `to_string(s)`, the name the JSON and HTTP answers use.
std::ostream& operator<<(std::ostream& os, approval_state s);

/// Parses a lower-case name; empty on anything else.
[[nodiscard]] std::optional<approval_state>
parse_approval_state(std::string_view text) noexcept;

/// What users read about an approval: its state and, once decided, who
/// decided, when, why and with which value.
struct approval_status {
  approval_state state = approval_state::pending;
  /// The granted (or edited) value; null otherwise.
  boost::json::value value{};
  /// Who decided ("system" for expiry); empty while pending.
  std::string decided_by{};
  /// When it was decided (for `expired`: the deadline).
  std::optional<time_point> decided_at{};
  /// Rejection or cancellation reason.
  std::string reason{};

  [[nodiscard]] bool is_pending() const noexcept {
    return state == approval_state::pending;
  }
  /// Approved or edited: the workflow may go on with `value`.
  [[nodiscard]] bool is_granted() const noexcept {
    return state == approval_state::approved || state == approval_state::edited;
  }
  friend bool operator==(const approval_status&, const approval_status&)
    = default;
};

/// One approver's grant toward a quorum.
struct approval_grant {
  std::string approver{};
  time_point at{};
  boost::json::value value{};
  /// True if the approver changed the value (an edit).
  bool edited = false;
  friend bool operator==(const approval_grant&, const approval_grant&)
    = default;
};

/// One step of an escalation: when the deadline passes with no decision,
/// the approval moves to these approvers with a new deadline instead of
/// expiring. Only the last level's deadline expires the approval.
struct escalation_level {
  /// Who may decide from this level on (replacing the current ones).
  std::vector<std::string> assignees{};
  std::vector<std::string> candidate_groups{};
  /// The new deadline, counted from the deadline that escalated.
  duration deadline_in{};

  friend bool operator==(const escalation_level&, const escalation_level&)
    = default;
};

/// How an approval is asked for when a run first reaches it.
struct approval_spec {
  /// Shown to approvers while pending.
  std::string pending_reason{};
  /// Context for approvers (an object; null for none).
  boost::json::value metadata{};
  /// Deadline; none means it never expires.
  std::optional<time_point> expires_at{};
  /// Distinct approvers needed; one rejection always suffices.
  std::uint32_t quorum = 1;
  /// The run that first asked for it, and its workflow (empty when a
  /// decision came before any run).
  std::string run_id{};
  std::string workflow_name{};
  /// Who may decide: any of these identities, or any member of these
  /// groups. Both empty: anyone allowed to decide. Reassignment, delegation
  /// and escalation change them; the audit trail keeps the history.
  std::vector<std::string> assignees{};
  std::vector<std::string> candidate_groups{};
  /// Higher comes first in the inbox; 0 by default, may be negative.
  std::int32_t priority = 0;
  /// The levels, in order, applied one per deadline passing undecided.
  std::vector<escalation_level> escalations{};
  /// Reminders before the current deadline: each is sent once, this long
  /// before it (again for each new deadline an escalation sets).
  std::vector<duration> reminders{};

  friend bool operator==(const approval_spec&, const approval_spec&) = default;
};

/// An approval as stored: its status plus what it was created with and the
/// grants collected toward its quorum.
struct approval_record {
  std::string key;
  approval_status status;
  approval_spec spec;
  time_point created_at;
  std::vector<approval_grant> grants;
  /// Changes made so far: the length of its audit trail. A store refuses a
  /// change computed from an older revision than the one it holds.
  std::uint64_t revision = 0;
  /// How many of `spec.escalations` have been applied.
  std::uint32_t escalation_level = 0;
  /// Reminders of the current deadline already sent.
  std::uint32_t reminders_sent = 0;

  /// The status as of `now`: a pending approval past its final deadline
  /// reads as expired even before the registry records the expiry. Past
  /// only its current deadline, with escalation levels left, it reads as
  /// pending: it has escalated, whether or not the registry (which may be
  /// behind, or down) recorded it yet.
  [[nodiscard]] approval_status status_at(time_point now) const;

  /// When it expires for good: the current deadline plus the `deadline_in`
  /// of every level not applied yet. None without a deadline.
  [[nodiscard]] std::optional<time_point> final_deadline() const;

  /// When the current deadline's reminders fall due, earliest first:
  /// `reminders_sent` counts from the front.
  [[nodiscard]] std::vector<time_point> reminder_times() const;

  /// When the next reminder of the current deadline falls due; none when
  /// every one is sent, or the approval is decided. A reminder that would
  /// fall at or before the moment its deadline was set (the creation, or
  /// the escalation that set it) is never sent.
  [[nodiscard]] std::optional<time_point> next_reminder() const;

  /// When the registry must next act on it: the next reminder or the
  /// deadline, whichever comes first. None when decided or without a
  /// deadline. Stores index pending approvals by it.
  [[nodiscard]] std::optional<time_point> next_due() const;

  friend bool operator==(const approval_record&, const approval_record&)
    = default;
};

/// What the rules know of whoever decides, reassigns or delegates, besides
/// its name: the groups it belongs to, and whether it may act on any
/// approval whoever is assigned.
struct actor_rights {
  /// Acts on any approval. True by default: callers in the process (the
  /// blocking and typed APIs, the CLI on a directory) are code the
  /// embedding program trusts, as are system actions (expiry, a run's
  /// cancellation) and signed action links. The HTTP API sets it from the
  /// token's `admin` permission, and the groups from its configuration.
  bool admin = true;
  /// The groups the actor is a member of.
  std::vector<std::string> groups{};

  /// The rights of an actor who may act only where assigned: as a named
  /// assignee, or as a member of one of `groups`.
  [[nodiscard]] static actor_rights member_of(std::vector<std::string> groups
                                              = {});

  friend bool operator==(const actor_rights&, const actor_rights&) = default;
};

/// The kinds of decision an approval can receive. `expire` is the
/// registry's own, made when an approval's `next_due()` passed (actor
/// "system"): it sends the reminder due, applies the next escalation level,
/// or, past the last level's deadline, expires the approval.
enum class decision_kind { grant, edit, reject, cancel, expire };

[[nodiscard]] std::string_view to_string(decision_kind k) noexcept;
[[nodiscard]] std::optional<decision_kind>
parse_decision_kind(std::string_view text) noexcept;

/// A decision on one approval key.
struct decision {
  std::string key{};
  decision_kind kind = decision_kind::grant;
  /// The value to grant (grant, edit).
  boost::json::value value{};
  /// Why (required for reject; optional for cancel).
  std::string reason{};
  /// Who decides; quorum counts distinct actors.
  std::string actor{};
  /// What `actor` may decide: checked against the approval's assignees and
  /// candidate groups (trusted, as an admin, by default).
  actor_rights rights{};
  /// Refuse the decision if no run has asked for the key yet, instead of
  /// keeping it for the run that will (the default keeps it).
  bool require_existing = false;

  [[nodiscard]] static decision grant(std::string key, boost::json::value v,
                                      std::string actor = {});
  [[nodiscard]] static decision edit(std::string key, boost::json::value v,
                                     std::string actor = {});
  [[nodiscard]] static decision reject(std::string key, std::string reason,
                                       std::string actor = {});
  [[nodiscard]] static decision cancel(std::string key, std::string reason = {},
                                       std::string actor = {});
};

/// The kinds of change to who may decide a pending approval.
enum class assignment_kind {
  /// Replaces the assignees and candidate groups.
  reassign,
  /// A named assignee hands its place to another identity.
  delegate,
};

/// A change to who may decide a pending approval. It decides nothing: the
/// status, grants and deadline stay as they are.
struct assignment_change {
  std::string key{};
  assignment_kind kind = assignment_kind::reassign;
  /// For `reassign`: who may decide from now on, replacing the current
  /// ones (both empty: anyone allowed to decide). Empty for `delegate`.
  std::vector<std::string> assignees{};
  std::vector<std::string> candidate_groups{};
  /// For `delegate`: the identity taking the actor's place.
  std::string to{};
  /// Why, kept in the audit trail; may be empty.
  std::string reason{};
  /// Who makes the change; must not be empty.
  std::string actor{};
  actor_rights rights{};

  [[nodiscard]] static assignment_change
  reassign(std::string key, std::vector<std::string> assignees,
           std::vector<std::string> candidate_groups, std::string actor);
  [[nodiscard]] static assignment_change
  delegate(std::string key, std::string to, std::string actor);
};

/// What a committed decision did.
struct decision_outcome {
  /// The record after the decision.
  approval_record record;
  /// False when the call changed nothing (an idempotent repeat).
  bool applied = false;
};

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                approval_state s);
boost::json::result<approval_state>
tag_invoke(boost::json::try_value_to_tag<approval_state>,
           const boost::json::value& in);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const approval_status& s);
boost::json::result<approval_status>
tag_invoke(boost::json::try_value_to_tag<approval_status>,
           const boost::json::value& in);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const approval_grant& g);
boost::json::result<approval_grant>
tag_invoke(boost::json::try_value_to_tag<approval_grant>,
           const boost::json::value& in);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const escalation_level& e);
boost::json::result<escalation_level>
tag_invoke(boost::json::try_value_to_tag<escalation_level>,
           const boost::json::value& in);
/// The forms nodes of a cluster send each other: a decision or an
/// assignment change routed to the node owning its key keeps its actor's
/// rights.
void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const actor_rights& r);
boost::json::result<actor_rights>
tag_invoke(boost::json::try_value_to_tag<actor_rights>,
           const boost::json::value& in);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const decision& d);
boost::json::result<decision>
tag_invoke(boost::json::try_value_to_tag<decision>,
           const boost::json::value& in);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const assignment_change& c);
boost::json::result<assignment_change>
tag_invoke(boost::json::try_value_to_tag<assignment_change>,
           const boost::json::value& in);
/// Persisted form; carries a format `version`.
void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const approval_record& r);
boost::json::result<approval_record>
tag_invoke(boost::json::try_value_to_tag<approval_record>,
           const boost::json::value& in);
/// Appends the persisted form to `out` as JSON text (what serializing
/// `value_from(r)` gives, written directly: stores write it on every
/// change).
void append_json(std::string& out, const approval_record& r);

} // namespace signoff::model
