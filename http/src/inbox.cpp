// The approver inbox: server-rendered pages that work without JavaScript,
// and the pages behind signed action links.

#include <chrono>

#include "handlers.hpp"
#include "signoff/http/action_links.hpp"
#include "signoff/http/crypto.hpp"
#include "signoff/model/json_text.hpp"
#include "signoff/webhook.hpp"
#include "text.hpp"

namespace signoff::http::detail {

namespace {

using status = beast_http::status;

std::string time_left(const model::approval_record& r, model::time_point now) {
  if (!r.spec.expires_at)
    return "no deadline";
  auto left = *r.spec.expires_at - now;
  if (left <= model::duration::zero())
    return "expired";
  using namespace std::chrono;
  auto d = duration_cast<days>(left);
  auto h = duration_cast<hours>(left - d);
  auto m = duration_cast<minutes>(left - d - h);
  if (d.count() > 0)
    return std::to_string(d.count()) + "d " + std::to_string(h.count()) + "h";
  if (h.count() > 0)
    return std::to_string(h.count()) + "h " + std::to_string(m.count()) + "m";
  return std::to_string(std::max<long>(m.count(), 1)) + "m";
}

std::string pretty(const boost::json::value& v) {
  return html_escape(boost::json::serialize(v));
}

std::string approval_url(std::string_view key) {
  return "/inbox/approval?key=" + percent_encode(key);
}

response page_error(const request& req, const model::error& e) {
  return html_response(req, status_for(e), "Error",
                       "<h1>Not done</h1><p class=\"notice\">"
                         + html_escape(public_message(e)) + "</p>");
}

response login_needed(const request& req) {
  return html_response(req, status::unauthorized, "Sign in",
                       "<h1>Sign in</h1><p>Open the link with your token "
                       "that the server printed: <code>/login?token=...</code>"
                       "</p>");
}

response login(const handler_context& ctx, const parsed_request& req) {
  auto token = req.query.contains("token") ? req.query.at("token") : "";
  if (ctx.options.tokens.find(token) == nullptr)
    return login_needed(req.raw);
  auto res = redirect(req.raw, "/inbox");
  res.set(beast_http::field::set_cookie,
          "signoff_token=" + token
            + "; HttpOnly; SameSite=Strict; Path=/; Max-Age=86400");
  return res;
}

response list(const handler_context& ctx, const caller& who,
              const parsed_request& req) {
  auto keys = ctx.target.list_pending_approvals();
  if (keys.is_err())
    return page_error(req.raw, keys.error());
  const auto now = model::system_now();
  std::string rows;
  for (const auto& key : keys.value()) {
    if (!who.may(permission::read, key))
      continue;
    auto record = ctx.target.get_approval(key);
    if (record.is_err())
      continue;
    rows += "<tr><td><a href=\"" + html_escape(approval_url(key)) + "\">"
            + html_escape(key) + "</a></td><td>"
            + html_escape(record->spec.pending_reason) + "</td><td><code>"
            + pretty(record->spec.metadata) + "</code></td><td>"
            + std::to_string(record->grants.size()) + " of "
            + std::to_string(record->spec.quorum) + "</td><td>"
            + time_left(record.value(), now) + "</td></tr>";
  }
  if (rows.empty())
    rows = "<tr><td colspan=\"5\">Nothing waits for you.</td></tr>";
  return html_response(
    req.raw, status::ok, "Inbox",
    "<h1>Waiting for a decision</h1><p>Signed in as "
      + html_escape(who.identity)
      + "</p><table><thead><tr><th>Approval</th><th>Why</th><th>Details</th>"
        "<th>Grants</th><th>Time left</th></tr></thead><tbody>"
      + rows + "</tbody></table>");
}

std::string runs_section(const handler_context& ctx, const std::string& key) {
  auto runs = ctx.target.list_runs_waiting_on(key);
  if (runs.is_err() || runs->empty())
    return "<h2>Runs waiting</h2><p>None.</p>";
  std::string out = "<h2>Runs waiting</h2>";
  for (const auto& run_id : runs.value()) {
    auto run = ctx.target.get_workflow_status(run_id);
    if (run.is_err())
      continue;
    out += "<h3>" + html_escape(run->workflow_name) + " <code>"
           + html_escape(run_id) + "</code></h3><p>Input: <code>"
           + pretty(run->input) + "</code></p><ol>";
    for (const auto& [step, saved] : run->checkpoints)
      out += "<li>" + html_escape(step) + ": <code>"
             + (saved.is_ok() ? pretty(saved.value())
                              : html_escape(saved.error().type))
             + "</code></li>";
    out += "<li>waiting here</li></ol>";
  }
  return out;
}

std::string audit_section(const handler_context& ctx, const std::string& key) {
  auto trail = ctx.target.audit_trail(key);
  std::string rows;
  if (trail.is_ok())
    for (const auto& e : trail.value())
      rows += "<tr><td>" + std::to_string(e.sequence) + "</td><td>"
              + html_escape(e.action) + "</td><td>" + html_escape(e.actor)
              + "</td><td>" + std::to_string(model::to_millis(e.at))
              + "</td><td>" + html_escape(e.reason) + "</td><td><code>"
              + pretty(e.value) + "</code></td></tr>";
  return "<h2>Audit trail</h2><table><thead><tr><th>#</th><th>Action</th>"
         "<th>Who</th><th>When (ms)</th><th>Reason</th><th>Value</th></tr>"
         "</thead><tbody>"
         + rows + "</tbody></table>";
}

std::string decision_forms(const caller& who, const std::string& key) {
  auto hidden
    = "<input type=\"hidden\" name=\"key\" value=\"" + html_escape(key) + "\">";
  std::string out = "<h2>Decide</h2>";
  if (who.may(permission::approve, key))
    out += "<form method=\"post\" action=\"/inbox/decide\">" + hidden
           + "<input type=\"hidden\" name=\"action\" value=\"approve\">"
             "<button name=\"submit\" id=\"approve\">Approve</button></form>";
  if (who.may(permission::reject, key))
    out += "<form method=\"post\" action=\"/inbox/decide\">" + hidden
           + "<input type=\"hidden\" name=\"action\" value=\"reject\">"
             "<input name=\"reason\" required placeholder=\"Reason\">"
             "<button id=\"reject\">Reject</button></form>";
  if (who.may(permission::edit, key))
    out += "<form method=\"post\" action=\"/inbox/decide\">" + hidden
           + "<input type=\"hidden\" name=\"action\" value=\"edit\">"
             "<textarea name=\"value\" rows=\"3\" cols=\"40\" required "
             "placeholder='{\"amount\": 900}'></textarea>"
             "<button id=\"edit\">Approve with changes</button></form>";
  return out;
}

response detail(const handler_context& ctx, const caller& who,
                const parsed_request& req) {
  auto key = req.query.contains("key") ? req.query.at("key") : "";
  if (!who.may(permission::read, key))
    return html_response(req.raw, status::forbidden, "Not allowed",
                         "<h1>Not allowed</h1>");
  auto record = ctx.target.get_approval(key);
  if (record.is_err())
    return page_error(req.raw, record.error());
  const auto now = model::system_now();
  const auto state = record->status_at(now);
  std::string body
    = "<h1>" + html_escape(key) + "</h1>"
      + (req.query.contains("notice")
           ? "<p class=\"notice\">" + html_escape(req.query.at("notice"))
               + "</p>"
           : "")
      + "<p>Status: <strong id=\"status\">"
      + std::string{to_string(state.state)} + "</strong>"
      + (state.decided_by.empty() ? "" : " by " + html_escape(state.decided_by))
      + "</p><p>" + html_escape(record->spec.pending_reason)
      + "</p><p>Details: <code>" + pretty(record->spec.metadata)
      + "</code></p><p>Grants: " + std::to_string(record->grants.size())
      + " of " + std::to_string(record->spec.quorum)
      + "; time left: " + time_left(record.value(), now) + "</p>";
  if (state.is_pending())
    body += decision_forms(who, key);
  body += runs_section(ctx, key) + audit_section(ctx, key);
  return html_response(req.raw, status::ok, key, body);
}

response decide(const handler_context& ctx, const caller& who,
                const parsed_request& req) {
  std::map<std::string, std::string> form;
  if (!parse_pairs(req.raw.body(), form))
    return page_error(req.raw,
                      model::make_error(model::error_type::invalid_argument,
                                        "the form is malformed"));
  boost::json::object body{{"key", form["key"]}, {"action", form["action"]}};
  if (!form["reason"].empty())
    body["reason"] = form["reason"];
  if (!form["value"].empty()) {
    boost::system::error_code ec;
    auto value = model::parse_json(form["value"], ec);
    if (ec)
      return page_error(req.raw,
                        model::make_error(model::error_type::invalid_argument,
                                          "the value is not valid JSON"));
    body["value"] = value;
  }
  auto d = parse_webhook_body(body);
  if (d.is_err())
    return page_error(req.raw, d.error());
  if (!who.may(permission_for(d->kind), d->key))
    return html_response(req.raw, status::forbidden, "Not allowed",
                         "<h1>Not allowed</h1>");
  d->actor = who.identity;
  auto report = ctx.target.decide(d.value());
  if (report.is_err())
    return page_error(req.raw, report.error());
  return redirect(req.raw, approval_url(d->key) + "&notice="
                             + percent_encode("Your decision was recorded."));
}

response not_found_page(const request& req) {
  return html_response(req, status::not_found, "Not found",
                       "<h1>Not found</h1>");
}

} // namespace

response handle_inbox(const handler_context& ctx, const parsed_request& req) {
  const auto& path = req.path;
  const bool get = req.raw.method() == beast_http::verb::get;
  const bool post = req.raw.method() == beast_http::verb::post;
  if (path[0] == "login")
    return path.size() == 1 && get ? login(ctx, req) : not_found_page(req.raw);
  auto who = authenticate(ctx, req.raw, true);
  if (!who)
    return login_needed(req.raw);
  if (path.size() == 1 && get)
    return list(ctx, *who, req);
  if (path.size() == 2 && path[1] == "approval" && get)
    return detail(ctx, *who, req);
  if (path.size() == 2 && path[1] == "decide" && post)
    return decide(ctx, *who, req);
  return not_found_page(req.raw);
}

response handle_action_link(const handler_context& ctx,
                            const parsed_request& req) {
  const auto method = req.raw.method();
  if (ctx.options.link_secret.empty() || req.path.size() != 2
      || (method != beast_http::verb::get && method != beast_http::verb::post))
    return not_found_page(req.raw);
  auto link = verify_action_link(req.path[1], ctx.options.link_secret,
                                 model::system_now());
  if (link.is_err())
    return html_response(req.raw,
                         link.error().is(model::error_type::approval_expired)
                           ? status::gone
                           : status::forbidden,
                         "Link refused",
                         "<h1>This link cannot be used</h1><p>"
                           + html_escape(link.error().message) + "</p>");
  const auto actor = "link:" + link->approver;
  auto record = ctx.target.get_approval(link->key);
  if (record.is_err())
    return page_error(req.raw, record.error());
  const bool used
    = std::any_of(record->grants.begin(), record->grants.end(),
                  [&](const auto& g) { return g.approver == actor; })
      || !record->status_at(model::system_now()).is_pending();
  if (used)
    return html_response(req.raw, status::conflict, "Already decided",
                         "<h1>Already decided</h1><p>This link was used, or "
                         "the approval was decided already.</p>");
  const auto action = std::string{to_string(link->action)};
  // Mail scanners open links: a GET only asks, the POST decides.
  if (method == beast_http::verb::get)
    return html_response(
      req.raw, status::ok, "Confirm",
      "<h1>" + html_escape(link->key) + "</h1><p>"
        + html_escape(record->spec.pending_reason)
        + "</p><form method=\"post\">"
        + (link->action == model::decision_kind::reject
             ? "<input name=\"reason\" required placeholder=\"Reason\">"
             : "")
        + "<button>Confirm " + html_escape(action) + "</button></form>");
  std::map<std::string, std::string> form;
  if (!parse_pairs(req.raw.body(), form))
    return page_error(req.raw,
                      model::make_error(model::error_type::invalid_argument,
                                        "the form is malformed"));
  model::decision d{link->key, link->action, nullptr, form["reason"], actor};
  d.require_existing = true;
  if (d.kind == model::decision_kind::grant)
    d.value = boost::json::value{{"approvedBy", link->approver}};
  auto report = ctx.target.decide(d);
  if (report.is_err())
    return page_error(req.raw, report.error());
  return html_response(req.raw, status::ok, "Done",
                       "<h1>Done</h1><p>" + html_escape(link->key) + ": "
                         + html_escape(action) + " recorded.</p>");
}

} // namespace signoff::http::detail
