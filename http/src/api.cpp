// The JSON API: the reference's endpoints plus the audit trail, cancelling
// a run, listing runs in any status, cleanup and the health check.

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "handlers.hpp"
#include "signoff/model/json_text.hpp"
#include "signoff/webhook.hpp"

namespace signoff::http::detail {

namespace {

using boost::json::value;
using status = beast_http::status;

template <class T>
response json_result(const request& req, const model::result<T>& r,
                     const std::function<value(const T&)>& to_json) {
  if (r.is_err())
    return error_response(req, r.error());
  return json_response(req, status::ok, to_json(r.value()));
}

std::optional<value> parse_body(const request& req) {
  boost::system::error_code ec;
  auto body = model::parse_json(req.body(), ec);
  if (ec)
    return std::nullopt;
  return body;
}

response no_such_endpoint(const request& req) {
  return error_response(
    req, model::make_error(model::error_type::not_found, "no such endpoint"));
}

response bad_request(const request& req, std::string message) {
  return error_response(
    req,
    model::make_error(model::error_type::invalid_argument, std::move(message)));
}

/// The query parameter `name`, or "" when absent.
std::string query_value(const parsed_request& req, const std::string& name) {
  auto it = req.query.find(name);
  return it == req.query.end() ? std::string{} : it->second;
}

/// `{field: [ids]}` of the runs in `ids` the caller may read.
response visible_runs(const handler_context& ctx, const caller& who,
                      const request& req,
                      const model::result<std::vector<std::string>>& ids,
                      std::string_view field) {
  if (ids.is_err())
    return error_response(req, ids.error());
  boost::json::array visible;
  for (const auto& id : ids.value())
    if (auto run = ctx.target.get_workflow_status(id);
        run.is_ok() && who.may(permission::read, run.value()))
      visible.emplace_back(id);
  return json_response(req, status::ok, {{field, std::move(visible)}});
}

/// The answer to a decision of the API.
response decided(const request& req, const std::string& actor,
                 const model::result<decision_report>& report) {
  if (report.is_err())
    return error_response(req, report.error());
  return json_response(
    req, status::ok,
    {{"success", true},
     {"actorId", actor},
     {"message",
      report->approval.status.is_pending()
        ? "grant recorded"
        : "approval " + std::string{to_string(report->approval.status.state)}},
     {"applied", report->applied},
     {"approval", approval_json(report->approval, model::system_now())},
     {"resumedWorkflows", boost::json::value_from(report->resumed_workflows)}});
}

/// POST /api/approvals: the webhook body, decided as the token's identity.
answer decide(const handler_context& ctx, const caller& who,
              const request& req) {
  auto body = parse_body(req);
  if (!body)
    return error_response(req,
                          model::make_error(model::error_type::invalid_argument,
                                            "the body is not valid JSON"));
  auto d = parse_webhook_body(*body);
  if (d.is_err())
    return error_response(req, d.error());
  if (!who.may(permission_for(d->kind), d->key))
    return denied(req, "this token may not " + std::string{to_string(d->kind)}
                         + " '" + d->key + "'");
  if (!who.unrestricted || d->actor.empty())
    d->actor = who.identity;
  d->rights = who.rights;
  auto actor = d->actor;
  return when_done<decision_report>(
    [&target = ctx.target,
     d = std::move(d.value())](completion<decision_report> then) mutable {
      target.async_decide(std::move(d), true, std::move(then));
    },
    [actor = std::move(actor)](const request& req,
                               const model::result<decision_report>& report) {
      return decided(req, actor, report);
    });
}

/// POST /api/approvals/{key}/comments: `{"text": string}`, said as the
/// token's identity (or, without authentication, as `actorId` when given,
/// like a decision). A comment decides nothing, so reading the key is
/// permission enough. Answers `{"success": true, "entry": audit entry}`.
answer comment(const handler_context& ctx, const caller& who,
               const request& req, const std::string& key) {
  if (!who.may(permission::read, key))
    return denied(req, "this token may not read '" + key + "'");
  auto body = parse_body(req);
  const auto* obj = body ? body->if_object() : nullptr;
  const auto* text = obj ? obj->if_contains("text") : nullptr;
  const auto* named = obj ? obj->if_contains("actorId") : nullptr;
  if (text == nullptr || !text->is_string()
      || (named != nullptr && !named->is_string()))
    return bad_request(req, "the body must be {\"text\": string}");
  auto actor = who.identity;
  if (who.unrestricted && named != nullptr && !named->get_string().empty())
    actor = named->get_string();
  return when_done<model::audit_entry>(
    [&target = ctx.target, key, text = std::string{text->get_string()},
     actor = std::move(actor)](completion<model::audit_entry> then) mutable {
      target.async_comment(key, std::move(text), std::move(actor),
                           std::move(then));
    },
    [](const request& answered, const model::result<model::audit_entry>& r) {
      return json_result<model::audit_entry>(
        answered, r, [](const model::audit_entry& entry) {
          return value{{"success", true},
                       {"entry", boost::json::value_from(entry)}};
        });
    });
}

/// The names under `field` of `obj` into `out`: absent is fine; anything
/// but an array of strings is not.
bool read_names(const boost::json::object& obj, std::string_view field,
                std::vector<std::string>& out) {
  const auto* names = obj.if_contains(field);
  if (names == nullptr)
    return true;
  auto read = boost::json::try_value_to<std::vector<std::string>>(*names);
  if (!read)
    return false;
  out = std::move(*read);
  return true;
}

/// The change of assignment a body asks for, or nothing when malformed:
/// only the fields named in `allowed` (a misspelt field must not pass for
/// an absent one: an empty assignment opens the approval to anyone).
std::optional<model::assignment_change>
assignment_body(const request& req, const caller& who, const std::string& key,
                model::assignment_kind kind) {
  auto body = parse_body(req);
  const auto* obj = body ? body->if_object() : nullptr;
  if (obj == nullptr)
    return std::nullopt;
  const bool delegation = kind == model::assignment_kind::delegate;
  model::assignment_change change;
  change.key = key;
  change.kind = kind;
  change.rights = who.rights;
  change.actor = who.identity;
  for (const auto& [name, field] : *obj) {
    const bool known
      = name == "reason" || name == "actorId"
        || (delegation ? name == "to"
                       : name == "assignees" || name == "candidateGroups");
    if (!known)
      return std::nullopt;
  }
  const auto* reason = obj->if_contains("reason");
  const auto* named = obj->if_contains("actorId");
  if ((reason != nullptr && !reason->is_string())
      || (named != nullptr && !named->is_string()))
    return std::nullopt;
  if (reason != nullptr)
    change.reason = reason->get_string();
  if (who.unrestricted && named != nullptr && !named->get_string().empty())
    change.actor = named->get_string();
  if (delegation) {
    const auto* to = obj->if_contains("to");
    if (to == nullptr || !to->is_string())
      return std::nullopt;
    change.to = to->get_string();
    return change;
  }
  if (!obj->contains("assignees") && !obj->contains("candidateGroups"))
    return std::nullopt;
  if (!read_names(*obj, "assignees", change.assignees)
      || !read_names(*obj, "candidateGroups", change.candidate_groups))
    return std::nullopt;
  return change;
}

/// POST /api/approvals/{key}/reassign `{"assignees": [..],
/// "candidateGroups": [..], "reason": ..}` (at least one of the lists) and
/// POST /api/approvals/{key}/delegate `{"to": .., "reason": ..}`, as the
/// token's identity. Needs the `assign` permission for the key; the rules
/// then check the identity (see `model::apply_assignment`). Answers
/// `{"success", "actorId", "applied", "approval"}`.
answer change_assignment(const handler_context& ctx, const caller& who,
                         const request& req, const std::string& key,
                         model::assignment_kind kind) {
  const bool delegation = kind == model::assignment_kind::delegate;
  if (!who.may(permission::assign, key))
    return denied(req, "this token may not "
                         + std::string{delegation ? "delegate" : "reassign"}
                         + " '" + key + "'");
  auto change = assignment_body(req, who, key, kind);
  if (!change)
    return bad_request(
      req, delegation
             ? "the body must be {\"to\": string, \"reason\": string}"
             : "the body must be {\"assignees\": [string], "
               "\"candidateGroups\": [string], \"reason\": string} with at "
               "least one of the lists");
  auto actor = change->actor;
  return when_done<model::decision_outcome>(
    [&target = ctx.target, change = std::move(*change)](
      completion<model::decision_outcome> then) mutable {
      target.async_change_assignment(std::move(change), std::move(then));
    },
    [actor
     = std::move(actor)](const request& answered,
                         const model::result<model::decision_outcome>& r) {
      return json_result<model::decision_outcome>(
        answered, r, [&actor](const model::decision_outcome& outcome) {
          return value{
            {"success", true},
            {"actorId", actor},
            {"applied", outcome.applied},
            {"approval", approval_json(outcome.record, model::system_now())}};
        });
    });
}

/// One key's line in a bulk decision's answer.
value bulk_line(const std::string& key,
                const model::result<decision_report>& report) {
  if (report.is_err())
    return {{"key", key},
            {"success", false},
            {"error", report.error().type},
            {"message", public_message(report.error())}};
  return {
    {"key", key},
    {"success", true},
    {"applied", report->applied},
    {"status", to_string(report->approval.status.state)},
    {"resumedWorkflows", boost::json::value_from(report->resumed_workflows)}};
}

/// POST /api/approvals/bulk: the webhook body with `keys` or `prefix`
/// instead of `key`, decided as the token's identity. Permission is
/// checked per key: a key the token may not decide is reported refused
/// and left alone; under a prefix, keys it may not read are not shown.
answer decide_bulk(const handler_context& ctx, const caller& who,
                   const request& req) {
  auto body = parse_body(req);
  if (!body)
    return bad_request(req, "the body is not valid JSON");
  auto bulk = parse_bulk_body(*body);
  if (bulk.is_err())
    return error_response(req, bulk.error());
  auto& d = bulk->decision;
  if (!who.unrestricted || d.actor.empty())
    d.actor = who.identity;
  // Each key is checked against who may decide it, as it is decided.
  d.rights = who.rights;
  auto keys = std::move(bulk->keys);
  if (bulk->prefix) {
    auto pending = ctx.target.list_pending_approvals(*bulk->prefix);
    if (pending.is_err())
      return error_response(req, pending.error());
    for (auto& key : pending.value())
      if (who.may(permission::read, key))
        keys.push_back(std::move(key));
    if (keys.empty())
      return json_response(req, status::ok,
                           {{"success", true},
                            {"actorId", d.actor},
                            {"decided", 0},
                            {"failed", 0},
                            {"results", boost::json::array{}}});
  }
  if (auto checked = model::check_bulk_keys(keys); checked.is_err())
    return error_response(req, checked.error());
  const auto needed = permission_for(d.kind);
  std::vector<std::string> allowed;
  for (const auto& key : keys)
    if (who.may(needed, key))
      allowed.push_back(key);
  // Refused keys get their line without asking the orchestrator.
  auto answer_with
    = [keys, actor = d.actor, kind = d.kind](
        const request& answered, const std::vector<bulk_outcome>& outcomes) {
        std::unordered_map<std::string_view, const bulk_outcome*> decided;
        for (const auto& outcome : outcomes)
          decided.emplace(outcome.key, &outcome);
        boost::json::array lines;
        std::size_t failed = 0;
        for (const auto& key : keys) {
          const auto found = decided.find(key);
          if (found == decided.end()) {
            ++failed;
            lines.push_back(
              {{"key", key},
               {"success", false},
               {"error", model::error_type::forbidden},
               {"message", "this token may not " + std::string{to_string(kind)}
                             + " '" + key + "'"}});
            continue;
          }
          failed += found->second->report.is_err() ? 1 : 0;
          lines.push_back(bulk_line(key, found->second->report));
        }
        return json_response(answered, status::ok,
                             {{"success", true},
                              {"actorId", actor},
                              {"decided", keys.size() - failed},
                              {"failed", failed},
                              {"results", std::move(lines)}});
      };
  if (allowed.empty())
    return answer_with(req, {});
  return when_done<std::vector<bulk_outcome>>(
    [&target = ctx.target, allowed = std::move(allowed),
     d = std::move(d)](completion<std::vector<bulk_outcome>> then) mutable {
      target.async_decide_each(std::move(allowed), std::move(d), true,
                               std::move(then));
    },
    [answer_with = std::move(answer_with)](
      const request& answered,
      const model::result<std::vector<bulk_outcome>>& outcomes) {
      if (outcomes.is_err())
        return error_response(answered, outcomes.error());
      return answer_with(answered, outcomes.value());
    });
}

answer approvals(const handler_context& ctx, const caller& who,
                 const parsed_request& req) {
  const auto& path = req.path;
  const auto& raw = req.raw;
  if (path.size() == 2 && raw.method() == beast_http::verb::post)
    return decide(ctx, who, raw);
  if (path.size() == 3 && path[2] == "bulk"
      && raw.method() == beast_http::verb::post)
    return decide_bulk(ctx, who, raw);
  if (path.size() == 4 && path[3] == "comments"
      && raw.method() == beast_http::verb::post)
    return comment(ctx, who, raw, path[2]);
  if (path.size() == 4 && (path[3] == "reassign" || path[3] == "delegate")
      && raw.method() == beast_http::verb::post)
    return change_assignment(ctx, who, raw, path[2],
                             path[3] == "delegate"
                               ? model::assignment_kind::delegate
                               : model::assignment_kind::reassign);
  if (raw.method() != beast_http::verb::get)
    return no_such_endpoint(raw);
  if (!who.may(permission::read))
    return denied(raw, "this token may not read approvals");
  if (path.size() == 2) {
    auto keys = ctx.target.list_pending_approvals(query_value(req, "prefix"));
    if (keys.is_err())
      return error_response(raw, keys.error());
    boost::json::array visible;
    for (const auto& key : keys.value())
      if (who.may(permission::read, key))
        visible.emplace_back(key);
    return json_response(raw, status::ok, {{"pending", visible}});
  }
  const auto& key = path[2];
  if (!who.may(permission::read, key))
    return denied(raw, "this token may not read '" + key + "'");
  if (path.size() == 3)
    return json_result<model::approval_record>(
      raw, ctx.target.get_approval(key), [](const auto& record) {
        return approval_json(record, model::system_now());
      });
  if (path.size() == 4 && path[3] == "audit") {
    if (auto found = ctx.target.get_approval(key); found.is_err())
      return error_response(raw, found.error());
    return json_result<std::vector<model::audit_entry>>(
      raw, ctx.target.audit_trail(key), [](const auto& trail) {
        return value{{"trail", boost::json::value_from(trail)}};
      });
  }
  return no_such_endpoint(raw);
}

answer workflows(const handler_context& ctx, const caller& who,
                 const parsed_request& req) {
  const auto& path = req.path;
  const auto& raw = req.raw;
  if (path.size() == 4 && path[3] == "cancel"
      && raw.method() == beast_http::verb::post) {
    auto run = ctx.target.get_workflow_status(path[2]);
    if (run.is_err())
      return error_response(raw, run.error());
    if (!who.may(permission::cancel_run, run.value()))
      return denied(raw, "this token may not cancel run '" + path[2] + "'");
    std::string reason;
    if (!raw.body().empty()) {
      auto body = parse_body(raw);
      const auto* obj = body ? body->if_object() : nullptr;
      const auto* r = obj ? obj->if_contains("reason") : nullptr;
      if (obj == nullptr || (r != nullptr && !r->is_string()))
        return bad_request(raw, "the body must be {\"reason\": string}");
      if (r != nullptr)
        reason = r->get_string();
    }
    // Cancelled as the token's identity, as decisions are decided.
    return when_done<model::execution_result>(
      [&target = ctx.target, run_id = path[2], reason = std::move(reason),
       actor = who.identity](completion<model::execution_result> then) mutable {
        target.async_cancel_run(run_id, std::move(reason), std::move(actor),
                                std::move(then));
      },
      [](const request& answered,
         const model::result<model::execution_result>& r) {
        return json_result<model::execution_result>(
          answered, r,
          [](const auto& x) { return boost::json::value_from(x); });
      });
  }
  if (raw.method() != beast_http::verb::get || path.size() > 3)
    return no_such_endpoint(raw);
  if (!who.may(permission::read))
    return denied(raw, "this token may not read runs");
  if (path.size() == 2)
    return visible_runs(
      ctx, who, raw,
      ctx.target.list_pending_workflows(query_value(req, "name")), "pending");
  auto run = ctx.target.get_workflow_status(path[2]);
  if (run.is_err())
    return error_response(raw, run.error());
  if (!who.may(permission::read, run.value()))
    return denied(raw, "this token may not read run '" + path[2] + "'");
  auto out = boost::json::value_from(run.value());
  out.as_object().erase("version");
  return json_response(raw, status::ok, out);
}

/// GET /api/runs?workflow=N&status=S: the runs in any status.
response runs(const handler_context& ctx, const caller& who,
              const parsed_request& req) {
  const auto& raw = req.raw;
  if (req.path.size() != 2 || raw.method() != beast_http::verb::get)
    return no_such_endpoint(raw);
  if (!who.may(permission::read))
    return denied(raw, "this token may not read runs");
  persistence::run_filter filter;
  // Given but empty is a filter too: no workflow has an empty name.
  if (auto name = req.query.find("workflow"); name != req.query.end())
    filter.workflow_name = name->second;
  if (auto text = req.query.find("status"); text != req.query.end()) {
    filter.status = model::parse_run_status(text->second);
    if (!filter.status)
      return bad_request(raw, "'status' must be one of running, paused, "
                              "completed, failed, cancelled");
  }
  return visible_runs(ctx, who, raw, ctx.target.list_runs(filter), "runs");
}

/// POST /api/cleanup {"olderThanMs": N}: removes finished runs older than
/// N ms and the decided approvals they leave behind.
answer cleanup(const handler_context& ctx, const caller& who,
               const parsed_request& req) {
  const auto& raw = req.raw;
  if (req.path.size() != 2 || raw.method() != beast_http::verb::post)
    return no_such_endpoint(raw);
  if (!who.may_everywhere(permission::cleanup))
    return denied(raw, "only a token with the cleanup permission and no key "
                       "prefix may clean up");
  auto body = parse_body(raw);
  const auto* obj = body ? body->if_object() : nullptr;
  const auto* age = obj ? obj->if_contains("olderThanMs") : nullptr;
  auto ms = boost::json::try_value_to<std::int64_t>(age ? *age : value{});
  if (!ms || *ms < 0)
    return bad_request(raw, "the body must be {\"olderThanMs\": a whole "
                            "number of milliseconds, 0 or more}");
  return when_done<persistence::cleanup_report>(
    [&target = ctx.target,
     age = model::duration{*ms}](completion<persistence::cleanup_report> then) {
      target.async_cleanup(age, std::move(then));
    },
    [](const request& answered,
       const model::result<persistence::cleanup_report>& r) {
      return json_result<persistence::cleanup_report>(
        answered, r, [](const auto& x) { return boost::json::value_from(x); });
    });
}

} // namespace

answer handle_api(const handler_context& ctx, const parsed_request& req) {
  auto who = authenticate(ctx, req.raw, false);
  if (!who)
    return unauthenticated(req.raw);
  if (req.path.size() >= 2 && req.path[1] == "approvals")
    return approvals(ctx, *who, req);
  if (req.path.size() >= 2 && req.path[1] == "workflows")
    return workflows(ctx, *who, req);
  if (req.path.size() >= 2 && req.path[1] == "runs")
    return runs(ctx, *who, req);
  if (req.path.size() >= 2 && req.path[1] == "cleanup")
    return cleanup(ctx, *who, req);
  return no_such_endpoint(req.raw);
}

} // namespace signoff::http::detail
