// The approver inbox: server-rendered pages that work without JavaScript,
// and the pages behind signed action links.

#include <algorithm>
#include <array>
#include <chrono>
#include <utility>
#include <variant>
#include <vector>

#include <boost/beast/core/string.hpp>

#include "handlers.hpp"
#include "readable.hpp"
#include "signoff/http/action_links.hpp"
#include "signoff/http/crypto.hpp"
#include "signoff/model/decision_rules.hpp"
#include "signoff/model/json_text.hpp"
#include "signoff/model/limits.hpp"
#include "signoff/webhook.hpp"
#include "text.hpp"

namespace signoff::http::detail {

namespace {

using status = beast_http::status;

constexpr std::string_view zone_cookie = "signoff_zone";

/// The reader's zone, from the cookie the zone form sets; UTC without one.
reader_zone zone_of(const request& req) {
  return parse_zone(cookie_value(req, zone_cookie)).value_or(reader_zone{});
}

/// When a pending approval is due, as a date and how soon, and how far it
/// escalated.
std::string due_html(const model::approval_record& r, model::time_point now,
                     const reader_zone& zone) {
  if (!r.spec.expires_at)
    return "no deadline";
  const auto last = r.final_deadline().value();
  if (last <= now)
    return "expired " + time_html(last, now, zone);
  auto due = time_html(*r.spec.expires_at, now, zone);
  if (r.escalation_level > 0)
    due += " (escalated, level " + std::to_string(r.escalation_level) + ")";
  return due;
}

std::string pretty(const boost::json::value& v) {
  return html_escape(model::write_json(v));
}

std::string approval_url(std::string_view key) {
  return "/inbox/approval?key=" + url_encode(key);
}

/// What a page says for the `notice` code in its URL: only these, so that
/// no link can make a page of ours say anything else.
std::string notice(const parsed_request& req) {
  const auto code = req.query.find("notice");
  if (code == req.query.end())
    return {};
  std::string_view text;
  if (code->second == "recorded")
    text = "Your decision was recorded.";
  else if (code->second == "commented")
    text = "Your comment was recorded.";
  else if (code->second == "reassigned")
    text = "The approval was reassigned.";
  else if (code->second == "delegated")
    text = "The approval was delegated.";
  else if (code->second == "signed-out")
    text = "You are signed out.";
  return text.empty() ? std::string{}
                      : "<p class=\"notice\">" + std::string{text} + "</p>";
}

response page_error(const request& req, const model::error& e) {
  return html_response(req, status_for(e), "Error",
                       "<h1>Not done</h1><p class=\"notice\">"
                         + html_escape(public_message(e)) + "</p>");
}

response refused_page(const request& req, status code, std::string_view why) {
  return html_response(req, code, "Refused",
                       "<h1>Refused</h1><p class=\"notice\">" + std::string{why}
                         + "</p>");
}

/// The sign-in form; the token travels in a POST body, never in a URL
/// (URLs land in histories, logs and Referer headers).
response sign_in(const request& req, status code, std::string_view message) {
  return html_response(
    req, code, "Sign in",
    "<h1>Sign in</h1>" + std::string{message}
      + "<form method=\"post\" action=\"/login\"><label>Token "
        "<input type=\"password\" name=\"token\" id=\"token\" required "
        "autocomplete=\"current-password\"></label> "
        "<button id=\"sign-in\">Sign in</button></form>");
}

response login_needed(const request& req) {
  return sign_in(req, status::unauthorized,
                 "<p>Sign in with the token the server printed.</p>");
}

/// The token that proves a form was made by one of our pages for the
/// caller's credential: a page on another site cannot know it.
std::string form_token(const handler_context& ctx, const caller& who) {
  return hmac_sha256_hex(ctx.options.form_secret, "form:" + who.credential);
}

std::string form_token_field(const handler_context& ctx, const caller& who) {
  return "<input type=\"hidden\" name=\"form\" value=\"" + form_token(ctx, who)
         + "\">";
}

/// True for an `application/x-www-form-urlencoded` body, the only kind our
/// forms send (a `text/plain` form is what a page elsewhere could send).
bool is_form(const request& req) {
  std::string_view type = req[beast_http::field::content_type];
  type = type.substr(0, type.find(';'));
  while (type.ends_with(' '))
    type.remove_suffix(1);
  return boost::beast::iequals(type, "application/x-www-form-urlencoded");
}

/// The fields a POST sent, or the page refusing it: from a page on another
/// site (403), not a form (415), malformed (400), or, with `who`, without
/// the form token of `who`'s pages (403).
std::variant<parameters, response> posted_form(const handler_context& ctx,
                                               const parsed_request& req,
                                               const caller* who) {
  const auto& raw = req.raw;
  if (cross_site(raw, req.authority))
    return refused_page(raw, status::forbidden,
                        "A page on another site may not send this form.");
  if (!is_form(raw))
    return refused_page(raw, status::unsupported_media_type,
                        "This is not a form of ours.");
  auto form = parse_form(raw.body());
  if (!form)
    return page_error(raw,
                      model::make_error(model::error_type::invalid_argument,
                                        "the form is malformed"));
  if (who != nullptr
      && !constant_time_equal((*form)["form"], form_token(ctx, *who)))
    return refused_page(raw, status::forbidden,
                        "This form is stale or not ours: reload the page and "
                        "send it again.");
  return std::move(*form);
}

response login(const handler_context& ctx, const parsed_request& req) {
  if (req.raw.method() == beast_http::verb::get)
    return sign_in(req.raw, status::ok, notice(req));
  auto form = posted_form(ctx, req, nullptr);
  if (auto* refused = std::get_if<response>(&form))
    return std::move(*refused);
  const auto& token = std::get<parameters>(form)["token"];
  if (ctx.options.tokens.find(token) == nullptr)
    return sign_in(req.raw, status::unauthorized,
                   "<p class=\"notice\">That token is not valid.</p>");
  auto res = redirect(req.raw, "/inbox");
  res.set(beast_http::field::set_cookie,
          "signoff_token=" + token
            + "; HttpOnly; SameSite=Strict; Path=/; Max-Age=86400");
  return res;
}

/// Forgets the cookie. The token itself stays valid: it is the server's
/// configuration, not a session.
response logout(const handler_context& ctx, const caller& who,
                const parsed_request& req) {
  auto form = posted_form(ctx, req, &who);
  if (auto* refused = std::get_if<response>(&form))
    return std::move(*refused);
  auto res = redirect(req.raw, "/login?notice=signed-out");
  res.set(beast_http::field::set_cookie,
          "signoff_token=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
  return res;
}

/// "Signed in as ..." and, for a token, the form to sign out.
std::string signed_in(const handler_context& ctx, const caller& who) {
  std::string out = "<div>Signed in as " + html_escape(who.identity);
  if (!who.unrestricted)
    out += " <form method=\"post\" action=\"/logout\">"
           + form_token_field(ctx, who)
           + "<button id=\"sign-out\">Sign out</button></form>";
  return out + "</div>";
}

/// Which zone the page's times are in, and the form to change it.
std::string zone_form(const handler_context& ctx, const caller& who,
                      const reader_zone& zone) {
  std::string options;
  for (const auto& choice : zone_choices()) {
    const auto offered = *parse_zone(choice);
    const bool chosen = offered.offset == zone.offset;
    options += "<option value=\"" + choice + "\"" + (chosen ? " selected" : "")
               + ">" + offered.name() + "</option>";
  }
  return "<form method=\"post\" action=\"/inbox/zone\">"
         + form_token_field(ctx, who)
         + "<label>Times in <select name=\"zone\" id=\"zone\">" + options
         + "</select></label> <button id=\"set-zone\">Show</button></form>";
}

/// Who may decide `spec`'s approval, as people read it.
std::string assignment_html(const model::approval_spec& spec) {
  if (spec.assignees.empty() && spec.candidate_groups.empty())
    return "anyone";
  std::string out;
  for (const auto& name : spec.assignees)
    out += (out.empty() ? "" : ", ") + html_escape(name);
  for (const auto& group : spec.candidate_groups)
    out += (out.empty() ? "group " : ", group ") + html_escape(group);
  return out;
}

/// The inbox's views of the approvals a reader may see.
enum class inbox_view { assigned, groups, pending, decided };

struct view_choice {
  inbox_view view;
  std::string_view name;
  std::string_view title;
};

constexpr std::array<view_choice, 4> views{{
  {inbox_view::assigned, "assigned", "Assigned to me"},
  {inbox_view::groups, "groups", "My groups"},
  {inbox_view::pending, "pending", "Waiting for a decision"},
  {inbox_view::decided, "decided", "Decided recently"},
}};

/// How far back "Decided recently" looks, and how many it shows.
constexpr model::duration decided_window = std::chrono::hours{24 * 7};
constexpr std::size_t decided_shown = 200;

/// The view the URL asks for (`?view=`); all pending by default.
const view_choice& view_of(const parsed_request& req) {
  auto asked = req.query.find("view");
  for (const auto& choice : views)
    if (asked != req.query.end() && asked->second == choice.name)
      return choice;
  return views[2];
}

/// True if the URL asks for priority order (`?sort=priority`), else by due.
bool by_priority(const parsed_request& req) {
  auto asked = req.query.find("sort");
  return asked != req.query.end() && asked->second == "priority";
}

std::string inbox_url(std::string_view view, bool priority) {
  return "/inbox?view=" + std::string{view}
         + (priority ? "&sort=priority" : "&sort=due");
}

/// Links to the views and, for pending ones, the two orders; the current
/// ones are marked for screen readers and shown in bold.
std::string view_links(const view_choice& current, bool priority) {
  auto link = [](const std::string& href, std::string_view text,
                 std::string_view id, bool here) {
    return "<a href=\"" + html_escape(href) + "\" id=\"" + std::string{id}
           + "\"" + (here ? " aria-current=\"page\"><strong>" : ">")
           + std::string{text} + (here ? "</strong></a>" : "</a>");
  };
  std::string out = "<nav aria-label=\"Views\"><p>";
  for (const auto& choice : views)
    out += link(inbox_url(choice.name, priority), choice.title,
                "view-" + std::string{choice.name}, &choice == &current)
           + " ";
  out += "</p>";
  if (current.view != inbox_view::decided)
    out += "<p>Sort by "
           + link(inbox_url(current.name, false), "due time", "sort-due",
                  !priority)
           + " or "
           + link(inbox_url(current.name, true), "priority", "sort-priority",
                  priority)
           + "</p>";
  return out + "</nav>";
}

/// True if the reader sees `record` in the pending view `view`.
bool in_view(inbox_view view, const caller& who,
             const model::approval_record& record) {
  const auto& spec = record.spec;
  auto has = [](const auto& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  switch (view) {
    case inbox_view::assigned:
      return has(spec.assignees, who.identity);
    case inbox_view::groups:
      return std::any_of(
        who.rights.groups.begin(), who.rights.groups.end(),
        [&](const auto& group) { return has(spec.candidate_groups, group); });
    case inbox_view::pending:
    case inbox_view::decided:
      break;
  }
  return true;
}

/// The approvals of the view the reader may read, in the order shown.
model::result<std::vector<model::approval_record>>
listed(const handler_context& ctx, const caller& who, const view_choice& choice,
       bool priority) {
  const bool decided = choice.view == inbox_view::decided;
  auto keys
    = decided ? ctx.target.list_decided_approvals(decided_window, decided_shown)
              : ctx.target.list_pending_approvals();
  if (keys.is_err())
    return keys.error();
  std::vector<model::approval_record> out;
  for (const auto& key : keys.value()) {
    if (!who.may(permission::read, key))
      continue;
    auto record = ctx.target.get_approval(key);
    if (record.is_ok() && in_view(choice.view, who, record.value()))
      out.push_back(std::move(record.value()));
  }
  if (decided)
    return out; // newest first, as listed
  // Soonest due first, approvals without a deadline last; by priority,
  // the highest first and then by due time.
  auto due = [](const model::approval_record& r) {
    return r.spec.expires_at.value_or(model::time_point::max());
  };
  std::stable_sort(out.begin(), out.end(), [&](const auto& a, const auto& b) {
    if (priority && a.spec.priority != b.spec.priority)
      return a.spec.priority > b.spec.priority;
    return due(a) < due(b);
  });
  return out;
}

response list(const handler_context& ctx, const caller& who,
              const parsed_request& req) {
  const auto& choice = view_of(req);
  const bool priority = by_priority(req);
  auto records = listed(ctx, who, choice, priority);
  if (records.is_err())
    return page_error(req.raw, records.error());
  const auto now = model::system_now();
  const auto zone = zone_of(req.raw);
  const bool decided = choice.view == inbox_view::decided;
  std::string table;
  for (const auto& r : records.value()) {
    table += "<tr><td><a href=\"" + html_escape(approval_url(r.key)) + "\">"
             + html_escape(r.key) + "</a></td><td>"
             + html_escape(r.spec.pending_reason) + "</td><td>"
             + fields_html(r.spec.metadata) + "</td><td>"
             + assignment_html(r.spec) + "</td><td>"
             + std::to_string(r.spec.priority) + "</td><td>";
    if (decided) {
      const auto status = r.status_at(now);
      table
        += std::string{to_string(status.state)}
           + (status.decided_by.empty()
                ? ""
                : " by " + html_escape(status.decided_by))
           + "</td><td>"
           + (status.decided_at ? time_html(*status.decided_at, now, zone) : "")
           + "</td></tr>";
    } else {
      table += std::to_string(r.grants.size()) + " of "
               + std::to_string(r.spec.quorum) + "</td><td>"
               + due_html(r, now, zone) + "</td></tr>";
    }
  }
  if (table.empty())
    table = "<tr><td colspan=\"7\">"
            + std::string{decided ? "Nothing was decided in the last 7 days."
                                  : "Nothing waits for you."}
            + "</td></tr>";
  return html_response(
    req.raw, status::ok, "Inbox",
    "<h1>" + std::string{choice.title} + "</h1>" + signed_in(ctx, who)
      + view_links(choice, priority) + zone_form(ctx, who, zone)
      + "<table><thead><tr><th>Approval</th><th>Why</th><th>Details</th>"
        "<th>Who may decide</th><th>Priority</th>"
      + (decided ? "<th>Outcome</th><th>Decided</th>"
                 : "<th>Grants</th><th>Due</th>")
      + "</tr></thead><tbody>" + table + "</tbody></table>");
}

/// Sets the zone cookie and goes back to the inbox; an unknown zone
/// changes nothing.
response set_zone(const handler_context& ctx, const caller& who,
                  const parsed_request& req) {
  auto posted = posted_form(ctx, req, &who);
  if (auto* refused = std::get_if<response>(&posted))
    return std::move(*refused);
  auto& form = std::get<parameters>(posted);
  if (!parse_zone(form["zone"]))
    return page_error(req.raw,
                      model::make_error(model::error_type::invalid_argument,
                                        "'zone' must be UTC or an offset "
                                        "such as +01:00"));
  auto res = redirect(req.raw, "/inbox");
  res.set(beast_http::field::set_cookie,
          std::string{zone_cookie} + "=" + form["zone"]
            + "; HttpOnly; SameSite=Strict; Path=/; Max-Age=31536000");
  return res;
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

std::string audit_section(const handler_context& ctx, const std::string& key,
                          model::time_point now, const reader_zone& zone) {
  auto trail = ctx.target.audit_trail(key);
  std::string rows;
  if (trail.is_ok())
    for (const auto& e : trail.value())
      rows += "<tr><td>" + std::to_string(e.sequence) + "</td><td>"
              + html_escape(e.action) + "</td><td>" + html_escape(e.actor)
              + "</td><td>" + time_html(e.at, now, zone) + "</td><td>"
              + html_escape(e.reason) + "</td><td><code>" + pretty(e.value)
              + "</code></td></tr>";
  return "<h2>Audit trail</h2><table><thead><tr><th>#</th><th>Action</th>"
         "<th>Who</th><th>When</th><th>Reason</th><th>Value</th></tr>"
         "</thead><tbody>"
         + rows + "</tbody></table>";
}

std::string decision_forms(const handler_context& ctx, const caller& who,
                           const std::string& key) {
  auto hidden = form_token_field(ctx, who)
                + "<input type=\"hidden\" name=\"key\" value=\""
                + html_escape(key) + "\">";
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

/// The forms that change who may decide: reassigning (anyone who may
/// decide, with the `assign` permission) and delegating (a named assignee).
std::string assignment_forms(const handler_context& ctx, const caller& who,
                             const model::approval_record& record) {
  if (!who.may(permission::assign, record.key))
    return {};
  auto hidden = form_token_field(ctx, who)
                + "<input type=\"hidden\" name=\"key\" value=\""
                + html_escape(record.key) + "\">";
  auto joined = [](const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names)
      out += (out.empty() ? "" : ", ") + name;
    return html_escape(out);
  };
  std::string out
    = "<h2>Reassign</h2><form method=\"post\" action=\"/inbox/reassign\">"
      + hidden
      + "<label>Assignees <input name=\"assignees\" id=\"reassign-assignees\" "
        "value=\""
      + joined(record.spec.assignees)
      + "\" placeholder=\"alice, bob\"></label> <label>Groups <input "
        "name=\"groups\" id=\"reassign-groups\" value=\""
      + joined(record.spec.candidate_groups)
      + "\" placeholder=\"finance\"></label> <label>Reason <input "
        "name=\"reason\"></label> <button id=\"reassign\">Reassign</button>"
        "</form>";
  const auto& assignees = record.spec.assignees;
  if (std::find(assignees.begin(), assignees.end(), who.identity)
      != assignees.end())
    out += "<h2>Delegate</h2><form method=\"post\" action=\"/inbox/delegate\">"
           + hidden
           + "<label>To <input name=\"to\" id=\"delegate-to\" required>"
             "</label> <label>Reason <input name=\"reason\"></label> "
             "<button id=\"delegate\">Delegate</button></form>";
  return out;
}

/// Anyone who may read an approval may discuss it, decided or not.
std::string comment_form(const handler_context& ctx, const caller& who,
                         const std::string& key) {
  return "<h2>Comment</h2><form method=\"post\" action=\"/inbox/comment\">"
         + form_token_field(ctx, who)
         + "<input type=\"hidden\" name=\"key\" value=\"" + html_escape(key)
         + "\"><label>Comment <textarea name=\"text\" id=\"comment-text\" "
           "rows=\"3\" cols=\"40\" required maxlength=\""
         + std::to_string(model::max_comment_bytes)
         + "\"></textarea></label> <button id=\"comment\">Add comment"
           "</button></form>";
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
  const auto zone = zone_of(req.raw);
  std::string body
    = "<h1>" + html_escape(key) + "</h1>" + signed_in(ctx, who) + notice(req)
      + "<p>Status: <strong id=\"status\">"
      + std::string{to_string(state.state)} + "</strong>"
      + (state.decided_by.empty() ? "" : " by " + html_escape(state.decided_by))
      + "</p><p>" + html_escape(record->spec.pending_reason)
      + "</p><h2>Details</h2>" + fields_html(record->spec.metadata)
      + "<p>Grants: " + std::to_string(record->grants.size()) + " of "
      + std::to_string(record->spec.quorum)
      + "; due: " + due_html(record.value(), now, zone) + "</p>";
  body += "<p>Who may decide: <span id=\"assignment\">"
          + assignment_html(record->spec) + "</span>; priority "
          + std::to_string(record->spec.priority) + "</p>";
  if (state.is_pending()) {
    // The server refuses what these forms would send all the same.
    if (model::may_decide(record->spec, who.identity, who.rights))
      body += decision_forms(ctx, who, key)
              + assignment_forms(ctx, who, record.value());
    else
      body += "<p class=\"notice\" id=\"not-yours\">This approval is "
              "assigned to others: you may not decide it.</p>";
  }
  body += comment_form(ctx, who, key) + runs_section(ctx, key)
          + audit_section(ctx, key, now, zone);
  return html_response(req.raw, status::ok, key, body);
}

/// What a form's POST answers once the orchestrator replied: back to
/// `page`, or the page saying why it was not done.
template <class T>
auto back_to(std::string page) {
  return [page = std::move(page)](const request& answered,
                                  const model::result<T>& r) {
    if (r.is_err())
      return page_error(answered, r.error());
    return redirect(answered, page);
  };
}

answer decide(const handler_context& ctx, const caller& who,
              const parsed_request& req) {
  auto posted = posted_form(ctx, req, &who);
  if (auto* refused = std::get_if<response>(&posted))
    return std::move(*refused);
  auto& form = std::get<parameters>(posted);
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
  d->rights = who.rights;
  auto page = approval_url(d->key) + "&notice=recorded";
  return when_done<decision_report>(
    [&target = ctx.target,
     d = std::move(d.value())](completion<decision_report> then) mutable {
      target.async_decide(std::move(d), true, std::move(then));
    },
    back_to<decision_report>(std::move(page)));
}

/// POST /inbox/comment: the comment form, said as the reader.
answer comment(const handler_context& ctx, const caller& who,
               const parsed_request& req) {
  auto posted = posted_form(ctx, req, &who);
  if (auto* refused = std::get_if<response>(&posted))
    return std::move(*refused);
  auto& form = std::get<parameters>(posted);
  auto key = form["key"];
  if (!who.may(permission::read, key))
    return html_response(req.raw, status::forbidden, "Not allowed",
                         "<h1>Not allowed</h1>");
  auto page = approval_url(key) + "&notice=commented";
  return when_done<model::audit_entry>(
    [&target = ctx.target, key = std::move(key), text = std::move(form["text"]),
     actor = who.identity](completion<model::audit_entry> then) mutable {
      target.async_comment(key, std::move(text), std::move(actor),
                           std::move(then));
    },
    back_to<model::audit_entry>(std::move(page)));
}

/// The names of a comma-separated form field, trimmed; empty ones dropped.
std::vector<std::string> names_in(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto name = text.substr(0, comma);
    while (!name.empty() && name.front() == ' ')
      name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ')
      name.remove_suffix(1);
    if (!name.empty())
      out.emplace_back(name);
    text.remove_prefix(comma == std::string_view::npos ? text.size()
                                                       : comma + 1);
  }
  return out;
}

/// POST /inbox/reassign and /inbox/delegate: the assignment forms, sent as
/// the reader.
answer change_assignment(const handler_context& ctx, const caller& who,
                         const parsed_request& req,
                         model::assignment_kind kind) {
  auto posted = posted_form(ctx, req, &who);
  if (auto* refused = std::get_if<response>(&posted))
    return std::move(*refused);
  auto& form = std::get<parameters>(posted);
  auto key = form["key"];
  if (!who.may(permission::assign, key))
    return html_response(req.raw, status::forbidden, "Not allowed",
                         "<h1>Not allowed</h1>");
  model::assignment_change change;
  change.key = key;
  change.kind = kind;
  change.reason = form["reason"];
  change.actor = who.identity;
  change.rights = who.rights;
  const bool delegation = kind == model::assignment_kind::delegate;
  if (delegation) {
    change.to = form["to"];
  } else {
    change.assignees = names_in(form["assignees"]);
    change.candidate_groups = names_in(form["groups"]);
  }
  auto page = approval_url(key)
              + "&notice=" + (delegation ? "delegated" : "reassigned");
  return when_done<model::decision_outcome>(
    [&target = ctx.target, change = std::move(change)](
      completion<model::decision_outcome> then) mutable {
      target.async_change_assignment(std::move(change), std::move(then));
    },
    back_to<model::decision_outcome>(std::move(page)));
}

response not_found_page(const request& req) {
  return html_response(req, status::not_found, "Not found",
                       "<h1>Not found</h1>");
}

} // namespace

answer handle_inbox(const handler_context& ctx, const parsed_request& req) {
  const auto& path = req.path;
  const bool get = req.raw.method() == beast_http::verb::get;
  const bool post = req.raw.method() == beast_http::verb::post;
  if (path[0] == "login")
    return path.size() == 1 && (get || post) ? login(ctx, req)
                                             : not_found_page(req.raw);
  if (path[0] == "logout" && (path.size() != 1 || !post))
    return not_found_page(req.raw);
  auto who = authenticate(ctx, req.raw, true);
  if (!who)
    return login_needed(req.raw);
  if (path[0] == "logout")
    return logout(ctx, *who, req);
  if (path.size() == 1 && get)
    return list(ctx, *who, req);
  if (path.size() == 2 && path[1] == "approval" && get)
    return detail(ctx, *who, req);
  if (path.size() == 2 && path[1] == "decide" && post)
    return decide(ctx, *who, req);
  if (path.size() == 2 && path[1] == "comment" && post)
    return comment(ctx, *who, req);
  if (path.size() == 2 && path[1] == "reassign" && post)
    return change_assignment(ctx, *who, req, model::assignment_kind::reassign);
  if (path.size() == 2 && path[1] == "delegate" && post)
    return change_assignment(ctx, *who, req, model::assignment_kind::delegate);
  if (path.size() == 2 && path[1] == "zone" && post)
    return set_zone(ctx, *who, req);
  return not_found_page(req.raw);
}

answer handle_action_link(const handler_context& ctx,
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
  auto form = parse_form(req.raw.body());
  if (!form)
    return page_error(req.raw,
                      model::make_error(model::error_type::invalid_argument,
                                        "the form is malformed"));
  model::decision d{link->key, link->action, nullptr, (*form)["reason"], actor};
  d.require_existing = true;
  if (d.kind == model::decision_kind::grant)
    d.value = boost::json::value{{"approvedBy", link->approver}};
  auto done = "<h1>Done</h1><p>" + html_escape(link->key) + ": "
              + html_escape(action) + " recorded.</p>";
  return when_done<decision_report>(
    [&target = ctx.target,
     d = std::move(d)](completion<decision_report> then) mutable {
      target.async_decide(std::move(d), true, std::move(then));
    },
    [done = std::move(done)](const request& answered,
                             const model::result<decision_report>& report) {
      if (report.is_err())
        return page_error(answered, report.error());
      return html_response(answered, status::ok, "Done", done);
    });
}

} // namespace signoff::http::detail
