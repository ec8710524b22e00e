#include "signoff/model/workflow_state.hpp"

#include <ostream>

#include "enum_names.hpp"
#include "field_sinks.hpp"
#include "json_fields.hpp"
#include "signoff/model/limits.hpp"

namespace signoff::model {

namespace {

// "cancelledBy" came later without a new version: it is optional, so a
// record written before it reads as cancelled by nobody named, and an
// older build reading a newer record ignores it (it never writes a
// cancelled run again).
constexpr int run_format_version = 1;

constexpr detail::name_table<run_status, 5> run_status_names{{
  {run_status::running, "running"},
  {run_status::paused, "paused"},
  {run_status::completed, "completed"},
  {run_status::failed, "failed"},
  {run_status::cancelled, "cancelled"},
}};

using outcome_type = std::optional<result<boost::json::value>>;

boost::json::value outcome_to_json(const outcome_type& outcome) {
  return outcome ? boost::json::value_from(*outcome) : boost::json::value{};
}

bool read_outcome(const boost::json::object& obj, outcome_type& out) {
  const auto* v = obj.if_contains("result");
  if (v == nullptr || v->is_null()) {
    out.reset();
    return true;
  }
  auto parsed = boost::json::try_value_to<result<boost::json::value>>(*v);
  if (!parsed)
    return false;
  out = std::move(*parsed);
  return true;
}

/// The fields of `s` in the order its JSON has them; with `body`, its
/// checkpoints, input and metadata too.
template <class Sink>
void write_fields(const saved_workflow_state& s, bool body, Sink& f) {
  f.number("version", run_format_version);
  f.string("runId", s.run_id);
  f.string("workflowName", s.workflow_name);
  f.string("status", to_string(s.status));
  if (body) {
    boost::json::object checkpoints;
    for (const auto& [key, saved] : s.checkpoints)
      checkpoints[key] = boost::json::value_from(saved);
    f.json("resumeState", std::move(checkpoints));
  }
  f.strings("pendingApprovals", s.pending_approvals);
  f.strings("approvalKeys", s.approval_keys);
  f.string("pendingReason", s.pending_reason);
  if (body) {
    f.json("input", s.input);
    f.json("metadata", s.metadata);
  }
  f.number("startedAt", to_millis(s.started_at));
  f.number("updatedAt", to_millis(s.updated_at));
  f.json("result", outcome_to_json(s.outcome));
  f.string("cancelledBy", s.cancelled_by);
}

} // namespace

std::string_view to_string(run_status s) noexcept {
  return detail::name_of(run_status_names, s);
}

std::ostream& operator<<(std::ostream& os, run_status s) {
  return os << to_string(s);
}

std::optional<run_status> parse_run_status(std::string_view text) noexcept {
  return detail::parse_name(run_status_names, text);
}

result<void> validate_run_identity(const saved_workflow_state& s) {
  if (s.run_id.empty() || s.run_id.size() > max_run_id_bytes)
    return make_error(error_type::invalid_argument,
                      "a run id must have 1 to "
                        + std::to_string(max_run_id_bytes) + " bytes");
  if (s.workflow_name.size() > max_workflow_name_bytes)
    return make_error(error_type::invalid_argument,
                      "a workflow name must not be longer than "
                        + std::to_string(max_workflow_name_bytes) + " bytes");
  for (const auto& key : s.pending_approvals)
    if (key.empty() || key.size() > max_approval_key_bytes)
      return make_error(error_type::invalid_argument,
                        "a pending approval key must have 1 to "
                          + std::to_string(max_approval_key_bytes) + " bytes");
  return ok();
}

execution_result execution_result::of(const saved_workflow_state& state) {
  return {state.status, state.run_id, state.outcome, state.pending_approvals,
          state.pending_reason};
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                run_status s) {
  out = to_string(s);
}

boost::json::result<run_status>
tag_invoke(boost::json::try_value_to_tag<run_status>,
           const boost::json::value& in) {
  const auto* text = in.if_string();
  auto parsed = text ? parse_run_status(*text) : std::nullopt;
  if (!parsed)
    return detail::malformed();
  return *parsed;
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const saved_workflow_state& s) {
  detail::value_sink sink;
  write_fields(s, true, sink);
  out = std::move(sink).take();
}

void append_json(std::string& out, const checkpoint& saved) {
  // The fields of the result's JSON form (see result.hpp), in its order.
  detail::text_sink::write_object(out, [&saved](auto& f) {
    f.boolean("ok", saved.is_ok());
    if (saved.is_ok())
      f.json("value", saved.value());
    else
      f.json("error", boost::json::value_from(saved.error()));
  });
}

void append_header_json(std::string& out, const saved_workflow_state& s) {
  detail::text_sink::write_object(out,
                                  [&s](auto& f) { write_fields(s, false, f); });
}

boost::json::result<saved_workflow_state>
tag_invoke(boost::json::try_value_to_tag<saved_workflow_state>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  saved_workflow_state s;
  if (obj == nullptr || !detail::read_version(*obj, run_format_version)
      || !detail::read_field(*obj, "runId", s.run_id)
      || !detail::read_field(*obj, "workflowName", s.workflow_name)
      || !detail::read_field(*obj, "status", s.status)
      || !detail::read_field(*obj, "resumeState", s.checkpoints)
      || !detail::read_field(*obj, "pendingApprovals", s.pending_approvals)
      || !detail::read_optional_field(*obj, "approvalKeys", s.approval_keys)
      || !detail::read_optional_field(*obj, "pendingReason", s.pending_reason)
      || !detail::read_time(*obj, "startedAt", s.started_at)
      || !detail::read_time(*obj, "updatedAt", s.updated_at)
      || !read_outcome(*obj, s.outcome)
      || !detail::read_optional_field(*obj, "cancelledBy", s.cancelled_by))
    return detail::malformed();
  detail::read_value_field(*obj, "input", s.input);
  detail::read_value_field(*obj, "metadata", s.metadata);
  return s;
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const execution_result& r) {
  out = {{"status", to_string(r.status)},
         {"runId", r.run_id},
         {"result", outcome_to_json(r.outcome)},
         {"pendingApprovals", boost::json::value_from(r.pending_approvals)},
         {"reason", r.reason}};
}

boost::json::result<execution_result>
tag_invoke(boost::json::try_value_to_tag<execution_result>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  execution_result r;
  if (obj == nullptr || !detail::read_field(*obj, "status", r.status)
      || !detail::read_field(*obj, "runId", r.run_id)
      || !read_outcome(*obj, r.outcome)
      || !detail::read_optional_field(*obj, "pendingApprovals",
                                      r.pending_approvals)
      || !detail::read_optional_field(*obj, "reason", r.reason))
    return detail::malformed();
  return r;
}

} // namespace signoff::model
