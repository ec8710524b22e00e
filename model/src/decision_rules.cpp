#include "signoff/model/decision_rules.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <string_view>
#include <unordered_set>

#include "signoff/model/approval_event.hpp"
#include "signoff/model/approval_wait.hpp"
#include "signoff/model/json_text.hpp"
#include "signoff/model/limits.hpp"

namespace signoff::model {

namespace {

error invalid(std::string message) {
  return make_error(error_type::invalid_argument, std::move(message));
}

error conflict(const approval_record& record, time_point now) {
  auto status = record.status_at(now);
  std::string message = "approval '" + record.key + "' is already "
                        + std::string{to_string(status.state)};
  if (!status.decided_by.empty())
    message += " by " + status.decided_by;
  return make_error(error_type::approval_conflict, std::move(message),
                    boost::json::value_from(status));
}

const approval_grant* grant_by(const approval_record& record,
                               const std::string& approver) {
  auto it = std::find_if(record.grants.begin(), record.grants.end(),
                         [&](const auto& g) { return g.approver == approver; });
  return it == record.grants.end() ? nullptr : &*it;
}

/// True if `d` is what already decided `record`, by the same actor.
bool repeats(const approval_record& record, const decision& d) {
  const auto& s = record.status;
  switch (d.kind) {
    case decision_kind::grant:
    case decision_kind::edit: {
      const auto* g = grant_by(record, d.actor);
      return s.is_granted() && g != nullptr && g->value == d.value
             && g->edited == (d.kind == decision_kind::edit);
    }
    case decision_kind::reject:
      return s.state == approval_state::rejected && s.decided_by == d.actor
             && s.reason == d.reason;
    case decision_kind::cancel:
      return s.state == approval_state::cancelled && s.decided_by == d.actor;
    case decision_kind::expire:
      return s.state == approval_state::expired;
  }
  return false;
}

void decide_as(approval_record& r, approval_state state, const decision& d,
               time_point now) {
  r.status.state = state;
  r.status.decided_by = d.actor;
  r.status.decided_at = now;
  r.status.reason = d.reason;
}

/// Appends the audit entry of `action` to `t`, advancing the revision.
void audit(approval_transition& t, std::string action, std::string actor,
           time_point now, std::string reason, boost::json::value value) {
  t.audit.push_back({t.record.key, ++t.record.revision, std::move(action),
                     std::move(actor), now, std::move(reason),
                     std::move(value)});
}

/// The applied transition to `r` by `d`, audited as `action`.
approval_transition decided(approval_record r, const decision& d,
                            time_point now, std::string action) {
  approval_transition t{std::move(r), true, {}, {}};
  const auto& status = t.record.status;
  audit(t, std::move(action), status.is_pending() ? d.actor : status.decided_by,
        now, d.reason, d.value);
  return t;
}

/// Adds a grant toward the quorum, resolving the approval once it is met.
result<approval_transition> add_grant(approval_record r, const decision& d,
                                      time_point now) {
  const bool edited = d.kind == decision_kind::edit;
  if (const auto* g = grant_by(r, d.actor)) {
    if (g->value == d.value && g->edited == edited)
      return approval_transition{std::move(r), false, {}, {}};
    return make_error(error_type::approval_conflict,
                      "'" + d.actor + "' already granted approval '" + r.key
                        + "' with another value",
                      boost::json::value_from(r.status));
  }
  r.grants.push_back({d.actor, now, d.value, edited});
  if (r.grants.size() < r.spec.quorum)
    return decided(std::move(r), d, now, "granted");
  // The last edit wins over plain grants: an editor changed what is approved.
  auto last_edit = std::find_if(r.grants.rbegin(), r.grants.rend(),
                                [](const auto& g) { return g.edited; });
  const bool any_edit = last_edit != r.grants.rend();
  decide_as(r, any_edit ? approval_state::edited : approval_state::approved, d,
            now);
  r.status.value = any_edit ? last_edit->value : d.value;
  std::string action{to_string(r.status.state)};
  return decided(std::move(r), d, now, std::move(action));
}

/// Refuses a list of identities or groups `create_approval` would not
/// keep: `what` names it in the message ("assignee", "candidate group").
result<void> validate_names(const std::vector<std::string>& names,
                            std::string_view what) {
  const std::string kind{what};
  if (names.size() > max_assignees)
    return invalid("an approval names at most " + std::to_string(max_assignees)
                   + " " + kind + "s, not " + std::to_string(names.size()));
  std::unordered_set<std::string_view> seen;
  for (const auto& name : names) {
    if (name.empty())
      return invalid("an approval's " + kind + " must not be empty");
    if (name.size() > max_identity_bytes)
      return invalid("an approval's " + kind + " must not be longer than "
                     + std::to_string(max_identity_bytes) + " bytes");
    if (!seen.insert(name).second)
      return invalid("the " + kind + " '" + name + "' is given twice");
  }
  return {};
}

result<void> validate_assignment(const std::vector<std::string>& assignees,
                                 const std::vector<std::string>& groups) {
  if (auto valid = validate_names(assignees, "assignee"); valid.is_err())
    return valid;
  return validate_names(groups, "candidate group");
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

error forbidden(const std::string& actor, std::string_view what,
                const std::string& key) {
  return make_error(error_type::forbidden,
                    "'" + actor + "' may not " + std::string{what}
                      + " approval '" + key
                      + "': it is assigned to others (neither an assignee "
                        "nor a member of a candidate group)");
}

/// True if `d` repeats a grant `d.actor` already counted toward a quorum.
bool repeats_grant(const approval_record& record, const decision& d) {
  const auto* g = grant_by(record, d.actor);
  return (d.kind == decision_kind::grant || d.kind == decision_kind::edit)
         && g != nullptr && g->value == d.value
         && g->edited == (d.kind == decision_kind::edit);
}

/// Levels and reminders further out than this are refused: no approval
/// waits ten years, and sums of such spans stay far from overflowing.
constexpr duration max_deadline_span = std::chrono::hours{24 * 366 * 10};

bool sane_span(duration d) {
  return d > duration::zero() && d <= max_deadline_span;
}

result<void> validate_escalations(const approval_spec& spec) {
  if ((!spec.escalations.empty() || !spec.reminders.empty())
      && !spec.expires_at)
    return invalid("escalation levels and reminders need a deadline");
  if (spec.escalations.size() > max_escalation_levels)
    return invalid("an approval takes at most "
                   + std::to_string(max_escalation_levels)
                   + " escalation levels");
  if (spec.reminders.size() > max_reminders)
    return invalid("an approval takes at most " + std::to_string(max_reminders)
                   + " reminders");
  for (std::size_t i = 0; i < spec.escalations.size(); ++i) {
    const auto& level = spec.escalations[i];
    const auto which = "escalation level " + std::to_string(i + 1);
    if (!sane_span(level.deadline_in))
      return invalid(which
                     + "'s deadline_in must be above zero and at most ten "
                       "years");
    const auto empty = [](const std::string& name) {
      return name.empty();
    };
    if (std::any_of(level.assignees.begin(), level.assignees.end(), empty)
        || std::any_of(level.candidate_groups.begin(),
                       level.candidate_groups.end(), empty))
      return invalid(which + " names an empty assignee or group");
  }
  std::unordered_set<duration::rep> seen;
  for (const auto before : spec.reminders) {
    if (!sane_span(before))
      return invalid("a reminder must come above zero and at most ten years "
                     "before its deadline");
    if (!seen.insert(before.count()).second)
      return invalid("the reminder " + std::to_string(before.count())
                     + " ms before the deadline is given twice");
  }
  return ok();
}

/// True if `r`'s deadline passed by `now` with a level left to apply.
bool escalation_due(const approval_record& r, time_point now) {
  return r.spec.expires_at && now >= *r.spec.expires_at
         && r.escalation_level < r.spec.escalations.size();
}

/// Moves `t.record` to its next level: who may decide is replaced and the
/// deadline moves on from the one that passed, with its reminders unsent.
void escalate(approval_transition& t, time_point now) {
  auto& r = t.record;
  const auto& level = r.spec.escalations[r.escalation_level];
  r.spec.assignees = level.assignees;
  r.spec.candidate_groups = level.candidate_groups;
  *r.spec.expires_at += level.deadline_in;
  ++r.escalation_level;
  r.reminders_sent = 0;
  audit(t, "escalated", "system", now, {},
        {{"level", r.escalation_level},
         {"assignees", boost::json::value_from(r.spec.assignees)},
         {"candidateGroups", boost::json::value_from(r.spec.candidate_groups)},
         {"expiresAt", to_millis(*r.spec.expires_at)}});
  t.notices.push_back({approval_escalated, approval_event::of(r)});
}

/// `r` with every level whose deadline passed by `now` applied (none, when
/// none is due), audited and noticed as the registry's timer would.
approval_transition catch_up(approval_record r, time_point now) {
  approval_transition t{std::move(r), true, {}, {}};
  while (escalation_due(t.record, now))
    escalate(t, now);
  return t;
}

/// The registry's timer on the pending `r`: the one thing due at `now`.
result<approval_transition> fire_due(approval_record r, const decision& d,
                                     time_point now) {
  approval_transition t{std::move(r), true, {}, {}};
  auto& record = t.record;
  if (escalation_due(record, now)) {
    escalate(t, now);
    return t;
  }
  if (record.spec.expires_at && now >= *record.spec.expires_at) {
    record.status = record.status_at(now);
    return decided(std::move(record), d, now, "expired");
  }
  const auto reminder = record.next_reminder();
  if (!reminder || now < *reminder)
    return invalid("approval '" + d.key + "' is not due to expire");
  // Reminders that fell due together (the registry was down) are told
  // once: the latest stands for the earlier ones, all of them sent.
  const auto times = record.reminder_times();
  record.reminders_sent = static_cast<std::uint32_t>(
    std::upper_bound(times.begin(), times.end(), now) - times.begin());
  audit(t, "reminded", "system", now, {},
        {{"expiresAt", to_millis(*record.spec.expires_at)}});
  t.notices.push_back({approval_reminder, approval_event::of(record)});
  return t;
}

/// A person's decision `d` on the pending `r`, whose deadline is ahead.
result<approval_transition> decide_pending(approval_record r, const decision& d,
                                           time_point now) {
  switch (d.kind) {
    case decision_kind::grant:
    case decision_kind::edit:
      return add_grant(std::move(r), d, now);
    case decision_kind::reject:
      decide_as(r, approval_state::rejected, d, now);
      return decided(std::move(r), d, now, "rejected");
    case decision_kind::cancel:
    case decision_kind::expire:
      break;
  }
  decide_as(r, approval_state::cancelled, d, now);
  return decided(std::move(r), d, now, "cancelled");
}

result<void> validate_key(const std::string& key) {
  if (key.empty())
    return make_error(error_type::invalid_argument,
                      "an approval key must not be empty");
  if (key.size() > max_approval_key_bytes)
    return make_error(error_type::invalid_argument,
                      "an approval key must not be longer than "
                        + std::to_string(max_approval_key_bytes) + " bytes");
  return ok();
}

result<void> validate(const decision& d) {
  if (auto valid = validate_key(d.key); valid.is_err())
    return valid;
  if (d.kind == decision_kind::reject && d.reason.empty())
    return make_error(error_type::invalid_argument,
                      "a rejection needs a reason");
  if (!is_storable(d.value))
    return make_error(error_type::invalid_argument,
                      "a decision's value must not hold NaN or an infinity");
  return ok();
}

} // namespace

result<approval_transition> create_approval(const std::string& key,
                                            const approval_spec& spec,
                                            const std::string& actor,
                                            time_point now) {
  if (auto valid = validate_key(key); valid.is_err())
    return valid.error();
  if (spec.quorum == 0)
    return make_error(error_type::invalid_argument,
                      "an approval's quorum must be at least 1");
  if (!is_storable(spec.metadata))
    return make_error(error_type::invalid_argument,
                      "an approval's metadata must not hold NaN or an "
                      "infinity");
  if (auto valid = validate_assignment(spec.assignees, spec.candidate_groups);
      valid.is_err())
    return valid.error();
  if (auto valid = validate_escalations(spec); valid.is_err())
    return valid.error();
  approval_transition t;
  t.record.key = key;
  t.record.spec = spec;
  t.record.created_at = now;
  t.applied = true;
  audit(t, "created", actor, now, spec.pending_reason, {});
  return t;
}

result<approval_transition> apply_decision(const approval_record* current,
                                           const decision& d, time_point now) {
  return apply_decision(current ? std::optional{*current} : std::nullopt, d,
                        now);
}

result<approval_transition>
apply_decision(std::optional<approval_record> current, const decision& d,
               time_point now) {
  if (auto valid = validate(d); valid.is_err())
    return valid.error();
  if (!current) {
    if (d.require_existing || d.kind == decision_kind::expire)
      return make_error(error_type::not_found,
                        "no approval '" + d.key + "' exists");
    if (!d.rights.admin)
      return make_error(error_type::forbidden,
                        "'" + d.actor + "' may not decide approval '" + d.key
                          + "' before it is asked for: who may decide it is "
                            "not known yet");
    // Kept for the run that will reach this key later.
    auto fresh = create_approval(d.key, {}, d.actor, now);
    if (fresh.is_err())
      return fresh.error();
    auto created = std::move(fresh->audit.front());
    auto t = apply_decision(std::optional{std::move(fresh->record)}, d, now);
    if (t.is_ok())
      t->audit.insert(t->audit.begin(), std::move(created));
    return t;
  }
  auto& r = *current;
  // A repeat changes nothing and is answered as such; a change is checked
  // against who may decide (at the level reached, below).
  if (!r.status.is_pending()) {
    if (repeats(r, d))
      return approval_transition{std::move(r), false, {}, {}};
    if (d.kind != decision_kind::expire
        && !may_decide(r.spec, d.actor, d.rights))
      return forbidden(d.actor, to_string(d.kind), d.key);
    return conflict(r, now);
  }
  if (d.kind == decision_kind::expire)
    return fire_due(std::move(r), d, now);
  if (!escalation_due(r, now)) {
    if (r.spec.expires_at && now >= *r.spec.expires_at)
      return conflict(r, now);
    if (!repeats_grant(r, d) && !may_decide(r.spec, d.actor, d.rights))
      return forbidden(d.actor, to_string(d.kind), d.key);
    return decide_pending(std::move(r), d, now);
  }
  // The registry has not applied the levels due yet: the decision is made
  // on the level reached, after them, and records them too.
  auto stored = r;
  auto escalated = catch_up(std::move(r), now);
  const auto& reached = escalated.record;
  if (now >= *reached.spec.expires_at)
    return conflict(reached, now);
  if (!repeats_grant(reached, d)
      && !may_decide(reached.spec, d.actor, d.rights))
    return forbidden(d.actor, to_string(d.kind), d.key);
  auto t = decide_pending(reached, d, now);
  if (t.is_err())
    return t;
  if (!t->applied)
    return approval_transition{std::move(stored), false, {}, {}};
  t->audit.insert(t->audit.begin(),
                  std::make_move_iterator(escalated.audit.begin()),
                  std::make_move_iterator(escalated.audit.end()));
  t->notices.insert(t->notices.begin(),
                    std::make_move_iterator(escalated.notices.begin()),
                    std::make_move_iterator(escalated.notices.end()));
  return t;
}

result<approval_transition>
apply_comment(std::optional<approval_record> current, const std::string& key,
              const std::string& actor, const std::string& text,
              time_point now) {
  if (auto valid = validate_key(key); valid.is_err())
    return valid.error();
  if (actor.empty())
    return invalid("a comment needs an author");
  if (text.empty())
    return invalid("a comment must not be empty");
  if (text.size() > max_comment_bytes)
    return invalid("a comment must not be longer than "
                   + std::to_string(max_comment_bytes) + " bytes");
  if (!current)
    return make_error(error_type::not_found,
                      "no approval '" + key + "' exists");
  approval_transition t{std::move(*current), true, {}, {}};
  audit(t, "commented", actor, now, text, {});
  return t;
}

bool may_decide(const approval_spec& spec, std::string_view actor,
                const actor_rights& rights) {
  if (rights.admin || (spec.assignees.empty() && spec.candidate_groups.empty()))
    return true;
  if (contains(spec.assignees, actor))
    return true;
  return std::any_of(
    rights.groups.begin(), rights.groups.end(),
    [&](const auto& group) { return contains(spec.candidate_groups, group); });
}

result<approval_transition>
apply_assignment(std::optional<approval_record> current,
                 const assignment_change& change, time_point now) {
  if (auto valid = validate_key(change.key); valid.is_err())
    return valid.error();
  if (change.actor.empty())
    return invalid("a change of assignment needs an actor");
  const bool delegation = change.kind == assignment_kind::delegate;
  if (delegation) {
    if (!change.assignees.empty() || !change.candidate_groups.empty())
      return invalid("a delegation names only whom it goes to");
    if (auto valid = validate_names({change.to}, "delegate"); valid.is_err())
      return valid.error();
    if (change.to == change.actor)
      return invalid("'" + change.actor + "' cannot delegate to itself");
  } else if (auto valid
             = validate_assignment(change.assignees, change.candidate_groups);
             valid.is_err()) {
    return valid.error();
  }
  if (!current)
    return make_error(error_type::not_found,
                      "no approval '" + change.key + "' exists");
  if (auto status = current->status_at(now); !status.is_pending()) {
    auto refused = conflict(*current, now);
    refused.message += "; only a pending approval can be "
                       + std::string{delegation ? "delegated" : "reassigned"};
    return refused;
  }
  // Who may change the assignment is judged at the level reached.
  const auto stored = *current;
  auto t = catch_up(std::move(*current), now);
  auto& r = t.record;
  auto assignees = change.assignees;
  auto groups = change.candidate_groups;
  if (delegation) {
    const bool assigned = contains(r.spec.assignees, change.actor);
    // What a repeat finds: the actor gone, the delegate there.
    if (!assigned && contains(r.spec.assignees, change.to))
      return approval_transition{stored, false, {}, {}};
    if (!assigned)
      return make_error(error_type::forbidden,
                        "'" + change.actor + "' may not delegate approval '"
                          + change.key
                          + "': only a named assignee can hand its place on "
                            "(reassign it instead)");
    // The delegate takes the actor's place in the list (once, if it was
    // there already).
    for (const auto& name : r.spec.assignees)
      if (name != change.to)
        assignees.push_back(name == change.actor ? change.to : name);
    groups = r.spec.candidate_groups;
  } else {
    if (r.spec.assignees == assignees && r.spec.candidate_groups == groups)
      return approval_transition{stored, false, {}, {}};
    if (!may_decide(r.spec, change.actor, change.rights))
      return forbidden(change.actor, "reassign", change.key);
  }
  boost::json::value assignment{
    {"assignees", boost::json::value_from(assignees)},
    {"candidateGroups", boost::json::value_from(groups)}};
  r.spec.assignees = std::move(assignees);
  r.spec.candidate_groups = std::move(groups);
  audit(t, delegation ? "delegated" : "reassigned", change.actor, now,
        change.reason, std::move(assignment));
  t.notices.push_back({approval_reassigned, approval_event::of(r)});
  return t;
}

result<void> check_bulk_keys(const std::vector<std::string>& keys) {
  if (keys.empty())
    return invalid("a bulk decision needs at least one key");
  if (keys.size() > max_bulk_keys)
    return invalid("a bulk decision takes at most "
                   + std::to_string(max_bulk_keys) + " keys, not "
                   + std::to_string(keys.size()));
  std::unordered_set<std::string_view> seen;
  for (const auto& key : keys) {
    if (key.empty())
      return invalid("a bulk decision's key is empty");
    if (!seen.insert(key).second)
      return invalid("the key '" + key + "' is given twice");
  }
  return {};
}

result<void> check_wait_keys(const std::vector<std::string>& keys) {
  if (keys.empty())
    return invalid("a wait on several approvals needs at least one key");
  if (keys.size() > max_wait_keys)
    return invalid("a wait on several approvals takes at most "
                   + std::to_string(max_wait_keys) + " keys, not "
                   + std::to_string(keys.size()));
  std::unordered_set<std::string_view> seen;
  for (const auto& key : keys) {
    if (auto valid = validate_key(key); valid.is_err())
      return valid;
    if (!seen.insert(key).second)
      return invalid("the key '" + key + "' is given twice");
  }
  return {};
}

} // namespace signoff::model
