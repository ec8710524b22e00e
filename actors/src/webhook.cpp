#include "signoff/webhook.hpp"

#include "signoff/model/json_text.hpp"
#include "signoff/orchestrator.hpp"

namespace signoff {

namespace {

model::error bad_body(std::string message) {
  return model::make_error(model::error_type::invalid_argument,
                           std::move(message));
}

/// Reads the optional string field `name`; an error if it has another type.
model::result<std::string> optional_string(const boost::json::object& body,
                                           std::string_view name) {
  const auto* v = body.if_contains(name);
  if (v == nullptr || v->is_null())
    return std::string{};
  if (!v->is_string())
    return bad_body("'" + std::string{name} + "' must be a string");
  return std::string{v->get_string()};
}

std::string past_tense(const model::decision& d) {
  switch (d.kind) {
    case model::decision_kind::grant:
      return "approved";
    case model::decision_kind::edit:
      return "edited";
    case model::decision_kind::reject:
      return "rejected";
    case model::decision_kind::cancel:
      return "cancelled";
    case model::decision_kind::expire:
      break;
  }
  return "expired";
}

/// The decision a body's `action`, `value`, `reason` and `actorId` describe,
/// for the key `key`.
model::result<model::decision> decision_of(const boost::json::object& obj,
                                           std::string key) {
  const auto* action = obj.if_contains("action");
  if (action == nullptr || !action->is_string())
    return bad_body("'action' must be one of approve, reject, edit, cancel");
  const std::string_view name = action->get_string();
  auto reason = optional_string(obj, "reason");
  if (reason.is_err())
    return reason.error();
  auto actor = optional_string(obj, "actorId");
  if (actor.is_err())
    return actor.error();
  model::decision d;
  d.key = std::move(key);
  d.reason = std::move(reason.value());
  d.actor = std::move(actor.value());
  d.require_existing = true;
  if (const auto* value = obj.if_contains("value"))
    d.value = *value;
  if (name == "approve") {
    d.kind = model::decision_kind::grant;
  } else if (name == "edit") {
    if (obj.if_contains("value") == nullptr)
      return bad_body("an edit needs a 'value'");
    d.kind = model::decision_kind::edit;
  } else if (name == "reject") {
    if (d.reason.empty())
      return bad_body("a rejection needs a non-empty 'reason'");
    d.kind = model::decision_kind::reject;
  } else if (name == "cancel") {
    d.kind = model::decision_kind::cancel;
  } else {
    return bad_body("unknown action '" + std::string{name}
                    + "'; expected approve, reject, edit or cancel");
  }
  return d;
}

} // namespace

boost::json::value webhook_response::to_json() const {
  return {{"success", success}, {"message", message}};
}

model::result<model::decision>
parse_webhook_body(const boost::json::value& body) {
  const auto* obj = body.if_object();
  if (obj == nullptr)
    return bad_body("the body must be a JSON object");
  const auto* key = obj->if_contains("key");
  if (key == nullptr)
    return bad_body("'key' is missing");
  if (!key->is_string())
    return bad_body("'key' must be a string");
  if (key->get_string().empty())
    return bad_body("'key' must not be empty");
  return decision_of(*obj, std::string{key->get_string()});
}

model::result<bulk_body> parse_bulk_body(const boost::json::value& body) {
  const auto* obj = body.if_object();
  if (obj == nullptr)
    return bad_body("the body must be a JSON object");
  const auto* keys = obj->if_contains("keys");
  const auto* prefix = obj->if_contains("prefix");
  if ((keys == nullptr) == (prefix == nullptr))
    return bad_body("give either 'keys' (an array of keys) or 'prefix' (a "
                    "string)");
  if (obj->contains("key"))
    return bad_body("a bulk decision takes 'keys' or 'prefix', not 'key'");
  bulk_body out;
  if (prefix != nullptr) {
    if (!prefix->is_string())
      return bad_body("'prefix' must be a string");
    out.prefix = std::string{prefix->get_string()};
  } else {
    if (!keys->is_array())
      return bad_body("'keys' must be an array of keys");
    for (const auto& key : keys->get_array()) {
      if (!key.is_string())
        return bad_body("'keys' must be an array of strings");
      out.keys.emplace_back(key.get_string());
    }
  }
  auto d = decision_of(*obj, {});
  if (d.is_err())
    return d.error();
  out.decision = std::move(d.value());
  return out;
}

approval_webhook_handler::approval_webhook_handler(orchestrator& target)
    : decide_(
      [&target](model::decision d) -> model::result<model::approval_record> {
        auto report = target.decide(std::move(d));
        if (report.is_err())
          return report.error();
        return std::move(report->approval);
      }) {}

approval_webhook_handler::approval_webhook_handler(
  std::shared_ptr<persistence::approval_store> store, model::clock clock)
    : decide_([store = std::move(store), clock = std::move(clock)](
                model::decision d) -> model::result<model::approval_record> {
        auto outcome = store->decide(d, clock());
        if (outcome.is_err())
          return outcome.error();
        return std::move(outcome->record);
      }) {}

webhook_response approval_webhook_handler::operator()(
  const boost::json::value& body) const noexcept {
  try {
    auto d = parse_webhook_body(body);
    if (d.is_err())
      return {false, d.error().message};
    auto record = decide_(d.value());
    if (record.is_err())
      return {false, record.error().message};
    if (record->status.is_pending())
      return {true, "grant recorded for '" + d->key + "' ("
                      + std::to_string(record->grants.size()) + " of "
                      + std::to_string(record->spec.quorum) + ")"};
    return {true, "approval '" + d->key + "' " + past_tense(d.value())};
  } catch (const std::exception& e) {
    return {false, std::string{"the decision could not be made: "} + e.what()};
  }
}

webhook_response
approval_webhook_handler::handle_text(std::string_view body) const noexcept {
  if (body.size() > max_body_bytes)
    return {false, "the body is larger than " + std::to_string(max_body_bytes)
                     + " bytes"};
  boost::system::error_code ec;
  auto parsed = model::parse_json(body, ec);
  if (ec)
    return {false, "the body is not valid JSON: " + ec.message()};
  return (*this)(parsed);
}

approval_checker_fn
approval_checker(std::shared_ptr<persistence::approval_store> store,
                 model::clock clock) {
  return [store = std::move(store), clock = std::move(clock)](
           const std::string& key) -> model::result<model::approval_status> {
    auto record = store->find_approval(key);
    if (record.is_err())
      return record.error();
    if (!record.value())
      return model::approval_status{};
    return record.value()->status_at(clock());
  };
}

} // namespace signoff
