// The commands against a running signoff server, through its JSON API (see
// http/src/api.cpp). The server decides as the token's identity, resumes
// the runs waiting on a decided key itself, and hides what the token may
// not read.

#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/json.hpp>

#include "backend.hpp"
#include "cli_error.hpp"

namespace signoff::cli {

namespace {

namespace json = boost::json;

std::string approval_path(const std::string& key) {
  return "/api/approvals/" + percent_encode(key);
}

std::string run_path(const std::string& run_id) {
  return "/api/workflows/" + percent_encode(run_id);
}

/// The webhook action of a decision the CLI makes.
std::optional<std::string_view> action_of(model::decision_kind kind) {
  switch (kind) {
    case model::decision_kind::grant:
      return "approve";
    case model::decision_kind::edit:
      return "edit";
    case model::decision_kind::reject:
      return "reject";
    case model::decision_kind::cancel:
      return "cancel";
    case model::decision_kind::expire:
      break;
  }
  return std::nullopt;
}

/// One line of a bulk decision's answer; nothing if it is not one.
std::optional<bulk_line> bulk_line_of(const json::value& v) {
  const auto* obj = v.if_object();
  const auto* key = obj ? obj->if_contains("key") : nullptr;
  const auto* success = obj ? obj->if_contains("success") : nullptr;
  if (key == nullptr || !key->is_string() || success == nullptr
      || !success->is_bool())
    return std::nullopt;
  const std::string name{key->get_string()};
  if (success->get_bool()) {
    const auto* status = obj->if_contains("status");
    const auto state = status != nullptr && status->is_string()
                         ? model::parse_approval_state(status->get_string())
                         : std::nullopt;
    if (!state)
      return std::nullopt;
    return bulk_line{name, *state};
  }
  const auto* type = obj->if_contains("error");
  const auto* message = obj->if_contains("message");
  if (type == nullptr || !type->is_string() || message == nullptr
      || !message->is_string())
    return std::nullopt;
  return bulk_line{name, model::make_error(std::string{type->get_string()},
                                           std::string{message->get_string()})};
}

class server_backend final : public backend {
  /// What a change to one approval answered (`{"actorId", "applied",
  /// "approval"}`); `actor` becomes who the server recorded it under.
  model::result<model::decision_outcome>
  changed(model::result<http_answer> answered, std::string& actor) {
    auto answer = expect_ok(std::move(answered));
    if (answer.is_err())
      return answer.error();
    const auto& obj = answer->as_object();
    const auto* recorded = obj.if_contains("actorId");
    const auto* applied = obj.if_contains("applied");
    auto record = obj.contains("approval")
                    ? from_api<model::approval_record>(obj.at("approval"))
                    : std::nullopt;
    if (recorded == nullptr || !recorded->is_string() || applied == nullptr
        || !applied->is_bool() || !record)
      return unreadable();
    actor = recorded->get_string();
    return model::decision_outcome{std::move(*record), applied->get_bool()};
  }

public:
  server_backend(server_url url, std::string token, http_limits limits)
      : has_token_(!token.empty()), client_(url, std::move(token), limits),
        url_(std::move(url)) {}

  model::result<pending_report> pending(const std::string& prefix) override {
    auto keys = read<std::vector<std::string>>(
      client_.get("/api/approvals?prefix=" + percent_encode(prefix)),
      "pending");
    if (keys.is_err())
      return keys.error();
    pending_report out;
    for (const auto& key : keys.value()) {
      auto record = find<model::approval_record>(approval_path(key));
      if (record.is_err())
        return record.error();
      // Removed since the listing: skip it.
      if (record.value())
        out.approvals.push_back(std::move(*record.value()));
    }
    return out;
  }

  model::result<approval_report> approval(const std::string& key) override {
    auto record
      = read<model::approval_record>(client_.get(approval_path(key)), {});
    if (record.is_err())
      return record.error();
    auto trail = read<std::vector<model::audit_entry>>(
      client_.get(approval_path(key) + "/audit"), "trail");
    if (trail.is_err())
      return trail.error();
    return approval_report{std::move(record.value()), std::move(trail.value()),
                           model::system_now()};
  }

  model::result<decision_report> decide(model::decision d) override {
    const auto action = action_of(d.kind);
    if (!action)
      return model::make_error(model::error_type::invalid_argument,
                               "only approve, edit, reject and cancel can be "
                               "sent to a server");
    const json::value body{{"key", d.key},
                           {"action", *action},
                           {"value", d.value},
                           {"reason", d.reason},
                           {"actorId", d.actor}};
    auto outcome = changed(client_.post("/api/approvals", body), d.actor);
    if (outcome.is_err())
      return outcome.error();
    return decision_report{std::move(d), std::move(outcome.value())};
  }

  model::result<assignment_report>
  change_assignment(model::assignment_change change) override {
    const bool delegation = change.kind == model::assignment_kind::delegate;
    json::object body{{"reason", change.reason}, {"actorId", change.actor}};
    if (delegation) {
      body["to"] = change.to;
    } else {
      body["assignees"] = json::value_from(change.assignees);
      body["candidateGroups"] = json::value_from(change.candidate_groups);
    }
    auto outcome
      = changed(client_.post(approval_path(change.key)
                               + (delegation ? "/delegate" : "/reassign"),
                             body),
                change.actor);
    if (outcome.is_err())
      return outcome.error();
    return assignment_report{std::move(change), std::move(outcome.value())};
  }

  model::result<comment_report> comment(const std::string& key,
                                        const std::string& text,
                                        const std::string& actor) override {
    const json::value body{{"text", text}, {"actorId", actor}};
    auto entry = read<model::audit_entry>(
      client_.post(approval_path(key) + "/comments", body), "entry");
    if (entry.is_err())
      return entry.error();
    return comment_report{std::move(entry.value())};
  }

  model::result<bulk_report> decide_bulk(const bulk_target& which,
                                         model::decision d) override {
    const auto action = action_of(d.kind);
    if (!action)
      return model::make_error(model::error_type::invalid_argument,
                               "only approve, edit, reject and cancel can be "
                               "sent to a server");
    json::object body{{"action", *action},
                      {"value", d.value},
                      {"reason", d.reason},
                      {"actorId", d.actor}};
    if (which.prefix)
      body["prefix"] = *which.prefix;
    else
      body["keys"] = json::value_from(which.keys);
    auto answer = expect_ok(client_.post("/api/approvals/bulk", body));
    if (answer.is_err())
      return answer.error();
    const auto* obj = answer->if_object();
    const auto* actor = obj ? obj->if_contains("actorId") : nullptr;
    const auto* results = obj ? obj->if_contains("results") : nullptr;
    if (actor == nullptr || !actor->is_string() || results == nullptr
        || !results->is_array())
      return unreadable();
    bulk_report out{d.kind, std::string{actor->get_string()}, {}};
    for (const auto& result : results->get_array()) {
      auto line = bulk_line_of(result);
      if (!line)
        return unreadable();
      out.lines.push_back(std::move(*line));
    }
    return out;
  }

  model::result<runs_report>
  runs(const persistence::run_filter& filter) override {
    std::string query;
    if (filter.workflow_name)
      query += "&workflow=" + percent_encode(*filter.workflow_name);
    if (filter.status)
      query += "&status=" + std::string{to_string(*filter.status)};
    if (!query.empty())
      query[0] = '?';
    auto ids = read<std::vector<std::string>>(client_.get("/api/runs" + query),
                                              "runs");
    if (ids.is_err())
      return ids.error();
    runs_report out;
    for (const auto& id : ids.value()) {
      auto state = find<model::saved_workflow_state>(run_path(id));
      if (state.is_err())
        return state.error();
      // Removed since the listing: skip it.
      if (state.value())
        out.runs.push_back(std::move(*state.value()));
    }
    return out;
  }

  model::result<run_report> run(const std::string& run_id) override {
    auto state
      = read<model::saved_workflow_state>(client_.get(run_path(run_id)), {});
    if (state.is_err())
      return state.error();
    return run_report{std::move(state.value())};
  }

  model::result<cleanup_report> cleanup(model::duration max_age) override {
    return read<cleanup_report>(
      client_.post("/api/cleanup", {{"olderThanMs", max_age.count()}}), {});
  }

private:
  /// `T` from its JSON in an answer. The API shows approvals and runs in
  /// their stored form without its format `version`: version 1's form.
  template <class T>
  static std::optional<T> from_api(json::value v) {
    constexpr bool stored_form
      = std::is_same_v<
          T,
          model::
            approval_record> || std::is_same_v<T, model::saved_workflow_state>;
    if (auto* obj = v.if_object();
        stored_form && obj != nullptr && !obj->contains("version"))
      (*obj)["version"] = 1;
    auto converted = json::try_value_to<T>(v);
    if (!converted)
      return std::nullopt;
    return std::move(*converted);
  }

  /// The body of a 2xx answer; otherwise the error the server reported.
  model::result<json::value>
  expect_ok(model::result<http_answer> answer) const {
    if (answer.is_err())
      return answer.error();
    const auto status = answer->status;
    if (status >= 200 && status < 300) {
      if (!answer->body.is_object())
        return unreadable();
      return std::move(answer->body);
    }
    return refusal(status, answer->body);
  }

  /// `T` from field `field` of a 2xx answer (the whole body for "").
  template <class T>
  model::result<T> read(model::result<http_answer> answer,
                        std::string_view field) const {
    auto body = expect_ok(std::move(answer));
    if (body.is_err())
      return body.error();
    const auto* part
      = field.empty() ? &body.value() : body->as_object().if_contains(field);
    auto out = part != nullptr ? from_api<T>(*part) : std::nullopt;
    if (!out)
      return unreadable();
    return std::move(*out);
  }

  /// `T` at `path`, or nothing if the server answers 404.
  template <class T>
  model::result<std::optional<T>> find(const std::string& path) {
    auto found = read<T>(client_.get(path), {});
    if (found.is_ok())
      return std::optional<T>{std::move(found.value())};
    if (found.error().is(model::error_type::not_found))
      return std::optional<T>{};
    return found.error();
  }

  /// The error a non-2xx answer stands for.
  [[nodiscard]] model::error refusal(unsigned status,
                                     const json::value& body) const {
    const auto* obj = body.if_object();
    const auto* type = obj ? obj->if_contains("error") : nullptr;
    const auto* message = obj ? obj->if_contains("message") : nullptr;
    if (status == 401)
      return model::make_error(
        "UNAUTHORIZED",
        has_token_ ? "the signoff server at " + url_.text
                       + " does not accept this token (check --token or "
                         "SIGNOFF_TOKEN)"
                   : "the signoff server at " + url_.text
                       + " needs a token: set SIGNOFF_TOKEN or pass --token");
    if (type == nullptr || !type->is_string() || message == nullptr
        || !message->is_string())
      return model::make_error(model::error_type::unexpected_error,
                               "the server at " + url_.text + " answered HTTP "
                                 + std::to_string(status)
                                 + ", which is not a signoff answer");
    std::string text{message->get_string()};
    if (status == 403)
      text = "the signoff server refused: " + text;
    const auto* winner = obj->if_contains("winner");
    return model::make_error(type->get_string(), std::move(text),
                             winner ? *winner : json::value{});
  }

  [[nodiscard]] model::error unreadable() const {
    return model::make_error(model::error_type::unexpected_error,
                             "the server at " + url_.text
                               + " sent an answer signoff cannot read (is it "
                                 "a signoff server of the same version?)");
  }

  bool has_token_;
  http_client client_;
  server_url url_;
};

} // namespace

std::unique_ptr<backend> make_server_backend(server_url url, std::string token,
                                             http_limits limits) {
  return std::make_unique<server_backend>(std::move(url), std::move(token),
                                          limits);
}

} // namespace signoff::cli
