#include <algorithm>

#include <boost/beast/core/string.hpp>

#include "handlers.hpp"
#include "signoff/http/crypto.hpp"
#include "signoff/model/json_text.hpp"
#include "text.hpp"

namespace signoff::http::detail {

namespace {

std::string_view bearer_token(const request& req) {
  std::string_view header = req[beast_http::field::authorization];
  constexpr std::string_view scheme = "bearer ";
  if (header.size() <= scheme.size()
      || !boost::beast::iequals(header.substr(0, scheme.size()), scheme))
    return {};
  return header.substr(scheme.size());
}

} // namespace

std::string_view cookie_value(const request& req, std::string_view name) {
  std::string_view cookies = req[beast_http::field::cookie];
  for (std::size_t start = 0; start < cookies.size();) {
    auto end = cookies.find(';', start);
    if (end == std::string_view::npos)
      end = cookies.size();
    auto pair = cookies.substr(start, end - start);
    while (pair.starts_with(' '))
      pair.remove_prefix(1);
    if (pair.starts_with(name) && pair.size() > name.size()
        && pair[name.size()] == '=')
      return pair.substr(name.size() + 1);
    start = end + 1;
  }
  return {};
}

bool caller::may(permission p) const {
  return unrestricted || (grant != nullptr && grant->permissions.contains(p));
}

bool caller::may(permission p, std::string_view key) const {
  return unrestricted || (may(p) && grant->covers(key));
}

bool caller::may_everywhere(permission p) const {
  return unrestricted || (may(p) && grant->prefixes.empty());
}

bool caller::may(permission p, const model::saved_workflow_state& run) const {
  auto covered = [&](const auto& keys) {
    return std::all_of(keys.begin(), keys.end(),
                       [&](const auto& key) { return may(p, key); });
  };
  return may(p) && covered(run.pending_approvals) && covered(run.approval_keys);
}

std::optional<caller> authenticate(const handler_context& ctx,
                                   const request& req, bool cookie_ok) {
  if (ctx.options.no_auth)
    return caller{"anonymous", nullptr, true};
  auto token = bearer_token(req);
  if (token.empty() && cookie_ok)
    token = cookie_value(req, "signoff_token");
  const auto* grant = ctx.options.tokens.find(token);
  if (grant == nullptr)
    return std::nullopt;
  auto groups = ctx.options.tokens.groups_of(grant->identity);
  return caller{
    grant->identity,
    grant,
    false,
    std::string{token},
    {grant->permissions.contains(permission::admin), std::move(groups)}};
}

permission permission_for(model::decision_kind kind) {
  switch (kind) {
    case model::decision_kind::grant:
      return permission::approve;
    case model::decision_kind::edit:
      return permission::edit;
    case model::decision_kind::reject:
      return permission::reject;
    case model::decision_kind::cancel:
    case model::decision_kind::expire:
      break;
  }
  return permission::cancel;
}

beast_http::status status_for(const model::error& e) {
  namespace t = model::error_type;
  if (e.is(t::invalid_argument))
    return beast_http::status::bad_request;
  if (e.is(t::forbidden))
    return beast_http::status::forbidden;
  if (e.is(t::not_found) || e.is(t::unknown_workflow))
    return beast_http::status::not_found;
  if (e.is(t::approval_conflict) || e.is(t::invalid_run_state))
    return beast_http::status::conflict;
  if (e.is(t::approval_expired))
    return beast_http::status::gone;
  if (e.is(t::storage_error) || e.is(t::unavailable))
    return beast_http::status::service_unavailable;
  return beast_http::status::internal_server_error;
}

std::string public_message(const model::error& e) {
  const auto status = status_for(e);
  if (e.is(model::error_type::unavailable))
    return e.message; // names the node that is down, nothing internal
  if (status == beast_http::status::service_unavailable)
    return "the store is unavailable; try again";
  if (status == beast_http::status::internal_server_error)
    return "the request failed";
  return e.message;
}

response json_response(const request& req, beast_http::status status,
                       const boost::json::value& body) {
  response res{status, req.version()};
  res.set(beast_http::field::content_type, "application/json");
  res.set(beast_http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  // JSON is UTF-8 (RFC 8259, 8.1), but its strings may hold any bytes a
  // client sent, echoed in a message; outside strings it is ASCII, so
  // replacing what is not UTF-8 keeps the document whole.
  res.body() = valid_utf8(model::write_json(body));
  res.prepare_payload();
  return res;
}

response error_response(const request& req, const model::error& e) {
  boost::json::object body{
    {"success", false}, {"error", e.type}, {"message", public_message(e)}};
  if (e.is(model::error_type::approval_conflict))
    body["winner"] = e.details;
  auto res = json_response(req, status_for(e), body);
  return res;
}

response unauthenticated(const request& req) {
  auto res = json_response(req, beast_http::status::unauthorized,
                           {{"success", false},
                            {"error", "UNAUTHORIZED"},
                            {"message", "a bearer token is required"}});
  res.set(beast_http::field::www_authenticate, "Bearer");
  return res;
}

response denied(const request& req, std::string message) {
  return json_response(req, beast_http::status::forbidden,
                       {{"success", false},
                        {"error", "FORBIDDEN"},
                        {"message", std::move(message)}});
}

response html_response(const request& req, beast_http::status status,
                       std::string_view title, std::string_view body) {
  response res{status, req.version()};
  res.set(beast_http::field::content_type, "text/html; charset=utf-8");
  res.set(beast_http::field::cache_control, "no-store");
  // No page of ours may be framed: a frame on another site could trick a
  // click on a decision's button.
  res.set("Content-Security-Policy",
          "default-src 'self'; style-src 'unsafe-inline'; "
          "frame-ancestors 'none'");
  res.set("X-Frame-Options", "DENY");
  res.keep_alive(req.keep_alive());
  res.body() = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta name=\"viewport\" content=\"width=device-width\">"
               "<title>"
               + html_escape(title)
               + " · signoff</title><style>"
                 "body{font-family:sans-serif;max-width:60em;margin:2em auto;"
                 "padding:0 1em;color:#222}"
                 "table{border-collapse:collapse;width:100%}"
                 "td,th{border-bottom:1px solid #ddd;padding:.4em;"
                 "text-align:left;vertical-align:top}"
                 "pre{background:#f6f6f6;padding:.5em;overflow:auto}"
                 "form{display:inline-block;margin:.5em 1em .5em 0}"
                 ".notice{background:#eef;padding:.5em}"
                 "dl.fields{display:grid;grid-template-columns:auto 1fr;"
                 "gap:0 .75em;margin:0}"
                 "dl.fields dt{color:#555}dl.fields dd{margin:0}"
                 "time+small{color:#555}"
                 "</style></head><body><p><a href=\"/inbox\">Inbox</a></p>"
               + std::string{body} + "</body></html>";
  res.prepare_payload();
  return res;
}

response redirect(const request& req, std::string location) {
  response res{beast_http::status::see_other, req.version()};
  res.set(beast_http::field::location, std::move(location));
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

boost::json::value approval_json(const model::approval_record& record,
                                 model::time_point now) {
  auto out = boost::json::value_from(record);
  auto& obj = out.as_object();
  obj.erase("version");
  obj["status"] = boost::json::value_from(record.status_at(now));
  // `expiresAt` is the current deadline; these say what comes next.
  const auto millis = [](std::optional<model::time_point> t) {
    return t ? boost::json::value(model::to_millis(*t)) : boost::json::value{};
  };
  obj["nextReminderAt"] = millis(record.next_reminder());
  obj["finalExpiresAt"] = millis(record.final_deadline());
  return out;
}

} // namespace signoff::http::detail
