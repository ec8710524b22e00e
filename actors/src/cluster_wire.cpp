#include "cluster_wire.hpp"

namespace signoff::actors::detail {

namespace {

/// Reads the field `name` of `obj` into `out`; false if missing or
/// mistyped.
template <class T>
bool read(const boost::json::object& obj, std::string_view name, T& out) {
  const auto* v = obj.if_contains(name);
  if (v == nullptr)
    return false;
  auto converted = boost::json::try_value_to<T>(*v);
  if (!converted)
    return false;
  out = std::move(*converted);
  return true;
}

boost::system::error_code malformed() {
  return boost::json::make_error_code(boost::json::error::not_object);
}

/// A spec travels inside a record: the record's JSON form holds every
/// field of the spec, and its format version.
boost::json::value spec_json(const std::string& key,
                             const model::approval_spec& spec) {
  model::approval_record carrier;
  carrier.key = key;
  carrier.spec = spec;
  return boost::json::value_from(carrier);
}

} // namespace

cluster_envelope make_call(std::string from, std::string_view kind,
                           const boost::json::value& body) {
  return cluster_envelope{cluster_protocol_version, std::move(from),
                          std::string{kind}, model::write_json(body)};
}

cluster_envelope make_failure(std::string from, const model::error& e) {
  return cluster_envelope{cluster_protocol_version, std::move(from), "error",
                          model::write_json(boost::json::value_from(e))};
}

model::error malformed_call(std::string_view what) {
  return model::make_error(model::error_type::invalid_argument,
                           "a malformed cluster message: " + std::string{what});
}

model::result<boost::json::value> read_body(const cluster_envelope& e) {
  if (e.version > cluster_protocol_version)
    return model::make_error(
      model::error_type::invalid_argument,
      "node '" + e.from + "' speaks cluster protocol "
        + std::to_string(e.version) + ", newer than this node's "
        + std::to_string(cluster_protocol_version) + "; upgrade this node");
  boost::system::error_code ec;
  auto body = model::parse_json(e.body, ec);
  if (ec)
    return malformed_call("its body is not JSON");
  return body;
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const remote_reach& r) {
  out
    = {{"runId", r.run_id}, {"key", r.key}, {"spec", spec_json(r.key, r.spec)}};
}

boost::json::result<remote_reach>
tag_invoke(boost::json::try_value_to_tag<remote_reach>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  remote_reach r;
  model::approval_record carrier;
  if (obj == nullptr || !read(*obj, "runId", r.run_id)
      || !read(*obj, "key", r.key) || !read(*obj, "spec", carrier))
    return malformed();
  r.spec = std::move(carrier.spec);
  return r;
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const watched_key& w) {
  out = {{"key", w.key},
         {"status", w.status ? boost::json::value_from(*w.status)
                             : boost::json::value{}}};
}

boost::json::result<watched_key>
tag_invoke(boost::json::try_value_to_tag<watched_key>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  watched_key w;
  if (obj == nullptr || !read(*obj, "key", w.key))
    return malformed();
  if (const auto* s = obj->if_contains("status"); s && !s->is_null()) {
    auto status = boost::json::try_value_to<model::approval_status>(*s);
    if (!status)
      return malformed();
    w.status = std::move(*status);
  }
  return w;
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const watch_item& w) {
  out = {{"runId", w.run_id}, {"key", w.key}};
}

boost::json::result<watch_item>
tag_invoke(boost::json::try_value_to_tag<watch_item>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  watch_item w;
  if (obj == nullptr || !read(*obj, "runId", w.run_id)
      || !read(*obj, "key", w.key))
    return malformed();
  return w;
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const routed_wake& w) {
  out = {{"runId", w.run_id},
         {"key", w.wake.key},
         {"status", boost::json::value_from(w.wake.status)}};
}

boost::json::result<routed_wake>
tag_invoke(boost::json::try_value_to_tag<routed_wake>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  routed_wake w;
  if (obj == nullptr || !read(*obj, "runId", w.run_id)
      || !read(*obj, "key", w.wake.key) || !read(*obj, "status", w.wake.status))
    return malformed();
  return w;
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const wake_report& w) {
  out = {{"resumed", w.resumed}, {"failed", w.failed}};
}

boost::json::result<wake_report>
tag_invoke(boost::json::try_value_to_tag<wake_report>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  wake_report w;
  if (obj == nullptr || !read(*obj, "resumed", w.resumed)
      || !read(*obj, "failed", w.failed))
    return malformed();
  return w;
}

} // namespace signoff::actors::detail

namespace signoff::actors {

using detail::malformed;
using detail::read;

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const decision_request& r) {
  out = {{"decision", boost::json::value_from(r.decision)},
         {"autoResume", r.auto_resume}};
}

boost::json::result<decision_request>
tag_invoke(boost::json::try_value_to_tag<decision_request>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  decision_request r;
  if (obj == nullptr || !read(*obj, "decision", r.decision)
      || !read(*obj, "autoResume", r.auto_resume))
    return malformed();
  return r;
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const decision_report& r) {
  out = {{"approval", boost::json::value_from(r.approval)},
         {"applied", r.applied},
         {"decidedAt", model::to_millis(r.decided_at)},
         {"resumedWorkflows", boost::json::value_from(r.resumed_workflows)}};
}

boost::json::result<decision_report>
tag_invoke(boost::json::try_value_to_tag<decision_report>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  decision_report r;
  std::int64_t decided_at = 0;
  if (obj == nullptr || !read(*obj, "approval", r.approval)
      || !read(*obj, "applied", r.applied)
      || !read(*obj, "decidedAt", decided_at)
      || !read(*obj, "resumedWorkflows", r.resumed_workflows))
    return malformed();
  r.decided_at = model::from_millis(decided_at);
  return r;
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const comment_request& r) {
  out = {{"key", r.key}, {"text", r.text}, {"actor", r.actor}};
}

boost::json::result<comment_request>
tag_invoke(boost::json::try_value_to_tag<comment_request>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  comment_request r;
  if (obj == nullptr || !read(*obj, "key", r.key) || !read(*obj, "text", r.text)
      || !read(*obj, "actor", r.actor))
    return malformed();
  return r;
}

} // namespace signoff::actors

namespace signoff::persistence {

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const run_filter& f) {
  boost::json::object obj;
  if (f.workflow_name)
    obj["workflowName"] = *f.workflow_name;
  if (f.status)
    obj["status"] = boost::json::value_from(*f.status);
  if (f.has_pending_approvals)
    obj["hasPendingApprovals"] = *f.has_pending_approvals;
  out = std::move(obj);
}

boost::json::result<run_filter>
tag_invoke(boost::json::try_value_to_tag<run_filter>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  if (obj == nullptr)
    return actors::detail::malformed();
  run_filter f;
  std::string name;
  model::run_status status{};
  bool has_pending = false;
  if (obj->contains("workflowName")) {
    if (!actors::detail::read(*obj, "workflowName", name))
      return actors::detail::malformed();
    f.workflow_name = std::move(name);
  }
  if (obj->contains("status")) {
    if (!actors::detail::read(*obj, "status", status))
      return actors::detail::malformed();
    f.status = status;
  }
  if (obj->contains("hasPendingApprovals")) {
    if (!actors::detail::read(*obj, "hasPendingApprovals", has_pending))
      return actors::detail::malformed();
    f.has_pending_approvals = has_pending;
  }
  return f;
}

} // namespace signoff::persistence

namespace signoff::model {

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const decision_outcome& o) {
  out = {{"record", boost::json::value_from(o.record)}, {"applied", o.applied}};
}

boost::json::result<decision_outcome>
tag_invoke(boost::json::try_value_to_tag<decision_outcome>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  decision_outcome o;
  if (obj == nullptr || !actors::detail::read(*obj, "record", o.record)
      || !actors::detail::read(*obj, "applied", o.applied))
    return actors::detail::malformed();
  return o;
}

} // namespace signoff::model
