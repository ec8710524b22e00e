#include "signoff/model/approval.hpp"

#include <algorithm>
#include <ostream>

#include "enum_names.hpp"
#include "field_sinks.hpp"
#include "json_fields.hpp"

namespace signoff::model {

namespace {

// Version 2 added who may decide, priority, escalation and reminders: a
// reader of version 1 would drop who may decide, so it must refuse them.
constexpr int approval_format_version = 2;

constexpr detail::name_table<approval_state, 6> approval_state_names{{
  {approval_state::pending, "pending"},
  {approval_state::approved, "approved"},
  {approval_state::edited, "edited"},
  {approval_state::rejected, "rejected"},
  {approval_state::expired, "expired"},
  {approval_state::cancelled, "cancelled"},
}};

constexpr detail::name_table<decision_kind, 5> decision_kind_names{{
  {decision_kind::grant, "grant"},
  {decision_kind::edit, "edit"},
  {decision_kind::reject, "reject"},
  {decision_kind::cancel, "cancel"},
  {decision_kind::expire, "expire"},
}};

// Each type's fields, listed once for its JSON value and its JSON text.

template <class Sink>
void write_fields(const approval_status& s, Sink& f) {
  f.string("status", detail::name_of(approval_state_names, s.state));
  if (!s.is_pending()) {
    f.json("value", s.value);
    f.string("decidedBy", s.decided_by);
    f.time("decidedAt", s.decided_at);
    f.string("reason", s.reason);
  }
}

template <class Sink>
void write_fields(const approval_grant& g, Sink& f) {
  f.string("approver", g.approver);
  f.number("at", to_millis(g.at));
  f.json("value", g.value);
  f.boolean("edited", g.edited);
}

template <class Sink>
void write_fields(const escalation_level& e, Sink& f) {
  f.strings("assignees", e.assignees);
  f.strings("candidateGroups", e.candidate_groups);
  f.number("deadlineInMs", e.deadline_in.count());
}

template <class Sink>
void write_fields(const approval_record& r, Sink& f) {
  f.number("version", approval_format_version);
  f.string("key", r.key);
  f.object("status", [&r](auto& inner) { write_fields(r.status, inner); });
  f.string("pendingReason", r.spec.pending_reason);
  f.json("metadata", r.spec.metadata);
  f.time("expiresAt", r.spec.expires_at);
  f.number("quorum", r.spec.quorum);
  f.string("runId", r.spec.run_id);
  f.string("workflowName", r.spec.workflow_name);
  f.number("createdAt", to_millis(r.created_at));
  f.objects("grants", r.grants,
            [](const auto& g, auto& inner) { write_fields(g, inner); });
  f.number("revision", r.revision);
  f.strings("assignees", r.spec.assignees);
  f.strings("candidateGroups", r.spec.candidate_groups);
  f.number("priority", r.spec.priority);
  f.objects("escalations", r.spec.escalations,
            [](const auto& e, auto& inner) { write_fields(e, inner); });
  f.millis("remindersMs", r.spec.reminders);
  f.number("escalationLevel", r.escalation_level);
  f.number("remindersSent", r.reminders_sent);
}

template <class T>
boost::json::object fields_value(const T& x) {
  detail::value_sink sink;
  write_fields(x, sink);
  return std::move(sink).take();
}

} // namespace

std::string_view to_string(approval_state s) noexcept {
  return detail::name_of(approval_state_names, s);
}

std::ostream& operator<<(std::ostream& os, approval_state s) {
  return os << to_string(s);
}

std::optional<approval_state>
parse_approval_state(std::string_view text) noexcept {
  return detail::parse_name(approval_state_names, text);
}

std::string_view to_string(decision_kind k) noexcept {
  return detail::name_of(decision_kind_names, k);
}

std::optional<decision_kind>
parse_decision_kind(std::string_view text) noexcept {
  return detail::parse_name(decision_kind_names, text);
}

approval_status approval_record::status_at(time_point now) const {
  const auto last = final_deadline();
  if (status.is_pending() && last && now >= *last) {
    approval_status expired;
    expired.state = approval_state::expired;
    expired.decided_by = "system";
    expired.decided_at = last;
    return expired;
  }
  return status;
}

actor_rights actor_rights::member_of(std::vector<std::string> groups) {
  return {false, std::move(groups)};
}

assignment_change
assignment_change::reassign(std::string key, std::vector<std::string> assignees,
                            std::vector<std::string> candidate_groups,
                            std::string actor) {
  assignment_change c;
  c.key = std::move(key);
  c.assignees = std::move(assignees);
  c.candidate_groups = std::move(candidate_groups);
  c.actor = std::move(actor);
  return c;
}

assignment_change assignment_change::delegate(std::string key, std::string to,
                                              std::string actor) {
  assignment_change c;
  c.key = std::move(key);
  c.kind = assignment_kind::delegate;
  c.to = std::move(to);
  c.actor = std::move(actor);
  return c;
}

std::optional<time_point> approval_record::final_deadline() const {
  auto last = spec.expires_at;
  if (!last)
    return last;
  for (auto level = escalation_level; level < spec.escalations.size(); ++level)
    *last += spec.escalations[level].deadline_in;
  return last;
}

std::optional<time_point> approval_record::next_reminder() const {
  if (!status.is_pending() || !spec.expires_at)
    return std::nullopt;
  // The current deadline was set at the creation, or by the escalation
  // that moved it `deadline_in` away from the one before.
  const auto set_at
    = escalation_level == 0 || escalation_level > spec.escalations.size()
        ? created_at
        : *spec.expires_at - spec.escalations[escalation_level - 1].deadline_in;
  const auto times = reminder_times();
  for (auto i = static_cast<std::size_t>(reminders_sent); i < times.size(); ++i)
    if (times[i] > set_at)
      return times[i];
  return std::nullopt;
}

std::optional<time_point> approval_record::next_due() const {
  if (!status.is_pending() || !spec.expires_at)
    return std::nullopt;
  const auto reminder = next_reminder();
  return reminder ? std::min(*reminder, *spec.expires_at) : spec.expires_at;
}

std::vector<time_point> approval_record::reminder_times() const {
  std::vector<time_point> times;
  if (!spec.expires_at)
    return times;
  times.reserve(spec.reminders.size());
  for (const auto before : spec.reminders)
    times.push_back(*spec.expires_at - before);
  std::sort(times.begin(), times.end());
  return times;
}

decision decision::grant(std::string key, boost::json::value v,
                         std::string actor) {
  return {
    std::move(key), decision_kind::grant, std::move(v), {}, std::move(actor)};
}

decision decision::edit(std::string key, boost::json::value v,
                        std::string actor) {
  return {
    std::move(key), decision_kind::edit, std::move(v), {}, std::move(actor)};
}

decision decision::reject(std::string key, std::string reason,
                          std::string actor) {
  return {std::move(key),
          decision_kind::reject,
          {},
          std::move(reason),
          std::move(actor)};
}

decision decision::cancel(std::string key, std::string reason,
                          std::string actor) {
  return {std::move(key),
          decision_kind::cancel,
          {},
          std::move(reason),
          std::move(actor)};
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                approval_state s) {
  out = to_string(s);
}

boost::json::result<approval_state>
tag_invoke(boost::json::try_value_to_tag<approval_state>,
           const boost::json::value& in) {
  const auto* text = in.if_string();
  auto parsed = text ? parse_approval_state(*text) : std::nullopt;
  if (!parsed)
    return detail::malformed();
  return *parsed;
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const approval_status& s) {
  out = fields_value(s);
}

boost::json::result<approval_status>
tag_invoke(boost::json::try_value_to_tag<approval_status>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  approval_status s;
  if (obj == nullptr || !detail::read_field(*obj, "status", s.state)
      || !detail::read_optional_field(*obj, "decidedBy", s.decided_by)
      || !detail::read_optional_time(*obj, "decidedAt", s.decided_at)
      || !detail::read_optional_field(*obj, "reason", s.reason))
    return detail::malformed();
  // Nobody decided a pending approval: decision fields next to "pending"
  // are dropped, as its encoding leaves them out.
  if (s.is_pending())
    return approval_status{};
  detail::read_value_field(*obj, "value", s.value);
  return s;
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const approval_grant& g) {
  out = fields_value(g);
}

boost::json::result<approval_grant>
tag_invoke(boost::json::try_value_to_tag<approval_grant>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  approval_grant g;
  if (obj == nullptr || !detail::read_field(*obj, "approver", g.approver)
      || !detail::read_time(*obj, "at", g.at)
      || !detail::read_optional_field(*obj, "edited", g.edited))
    return detail::malformed();
  detail::read_value_field(*obj, "value", g.value);
  return g;
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const escalation_level& e) {
  out = fields_value(e);
}

boost::json::result<escalation_level>
tag_invoke(boost::json::try_value_to_tag<escalation_level>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  escalation_level e;
  std::int64_t deadline_ms = 0;
  if (obj == nullptr
      || !detail::read_optional_field(*obj, "assignees", e.assignees)
      || !detail::read_optional_field(*obj, "candidateGroups",
                                      e.candidate_groups)
      || !detail::read_field(*obj, "deadlineInMs", deadline_ms))
    return detail::malformed();
  e.deadline_in = duration{deadline_ms};
  return e;
}

namespace {

bool read_reminders(const boost::json::object& obj,
                    std::vector<duration>& out) {
  std::vector<std::int64_t> millis;
  if (!detail::read_optional_field(obj, "remindersMs", millis))
    return false;
  out.clear();
  out.reserve(millis.size());
  for (const auto ms : millis)
    out.emplace_back(ms);
  return true;
}

} // namespace

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const approval_record& r) {
  out = fields_value(r);
}

void append_json(std::string& out, const approval_record& r) {
  detail::text_sink::write_object(out, [&r](auto& f) { write_fields(r, f); });
}

boost::json::result<approval_record>
tag_invoke(boost::json::try_value_to_tag<approval_record>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  approval_record r;
  if (obj == nullptr || !detail::read_version(*obj, approval_format_version)
      || !detail::read_field(*obj, "key", r.key)
      || !detail::read_field(*obj, "status", r.status)
      || !detail::read_optional_field(*obj, "pendingReason",
                                      r.spec.pending_reason)
      || !detail::read_optional_time(*obj, "expiresAt", r.spec.expires_at)
      || !detail::read_field(*obj, "quorum", r.spec.quorum)
      || !detail::read_time(*obj, "createdAt", r.created_at)
      || !detail::read_field(*obj, "grants", r.grants)
      || !detail::read_optional_field(*obj, "runId", r.spec.run_id)
      || !detail::read_optional_field(*obj, "workflowName",
                                      r.spec.workflow_name)
      || !detail::read_optional_field(*obj, "revision", r.revision)
      || !detail::read_optional_field(*obj, "assignees", r.spec.assignees)
      || !detail::read_optional_field(*obj, "candidateGroups",
                                      r.spec.candidate_groups)
      || !detail::read_optional_field(*obj, "priority", r.spec.priority)
      || !detail::read_optional_field(*obj, "escalations", r.spec.escalations)
      || !read_reminders(*obj, r.spec.reminders)
      || !detail::read_optional_field(*obj, "escalationLevel",
                                      r.escalation_level)
      || !detail::read_optional_field(*obj, "remindersSent", r.reminders_sent))
    return detail::malformed();
  detail::read_value_field(*obj, "metadata", r.spec.metadata);
  return r;
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const actor_rights& r) {
  out = {{"admin", r.admin}, {"groups", boost::json::value_from(r.groups)}};
}

boost::json::result<actor_rights>
tag_invoke(boost::json::try_value_to_tag<actor_rights>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  actor_rights r;
  if (obj == nullptr || !detail::read_field(*obj, "admin", r.admin)
      || !detail::read_optional_field(*obj, "groups", r.groups))
    return detail::malformed();
  return r;
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const decision& d) {
  out = {{"key", d.key},
         {"kind", to_string(d.kind)},
         {"value", d.value},
         {"reason", d.reason},
         {"actor", d.actor},
         {"rights", boost::json::value_from(d.rights)},
         {"requireExisting", d.require_existing}};
}

boost::json::result<decision>
tag_invoke(boost::json::try_value_to_tag<decision>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  decision d;
  std::string kind;
  if (obj == nullptr || !detail::read_field(*obj, "key", d.key)
      || !detail::read_field(*obj, "kind", kind)
      || !detail::read_optional_field(*obj, "reason", d.reason)
      || !detail::read_optional_field(*obj, "actor", d.actor)
      || !detail::read_field(*obj, "rights", d.rights)
      || !detail::read_optional_field(*obj, "requireExisting",
                                      d.require_existing))
    return detail::malformed();
  const auto parsed = parse_decision_kind(kind);
  if (!parsed)
    return detail::malformed();
  d.kind = *parsed;
  detail::read_value_field(*obj, "value", d.value);
  return d;
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const assignment_change& c) {
  out
    = {{"key", c.key},
       {"kind", c.kind == assignment_kind::delegate ? "delegate" : "reassign"},
       {"assignees", boost::json::value_from(c.assignees)},
       {"candidateGroups", boost::json::value_from(c.candidate_groups)},
       {"to", c.to},
       {"reason", c.reason},
       {"actor", c.actor},
       {"rights", boost::json::value_from(c.rights)}};
}

boost::json::result<assignment_change>
tag_invoke(boost::json::try_value_to_tag<assignment_change>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  assignment_change c;
  std::string kind;
  if (obj == nullptr || !detail::read_field(*obj, "key", c.key)
      || !detail::read_field(*obj, "kind", kind)
      || (kind != "reassign" && kind != "delegate")
      || !detail::read_optional_field(*obj, "assignees", c.assignees)
      || !detail::read_optional_field(*obj, "candidateGroups",
                                      c.candidate_groups)
      || !detail::read_optional_field(*obj, "to", c.to)
      || !detail::read_optional_field(*obj, "reason", c.reason)
      || !detail::read_optional_field(*obj, "actor", c.actor)
      || !detail::read_field(*obj, "rights", c.rights))
    return detail::malformed();
  c.kind = kind == "delegate" ? assignment_kind::delegate
                              : assignment_kind::reassign;
  return c;
}

} // namespace signoff::model
