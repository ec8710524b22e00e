#include "router.hpp"

#include <algorithm>
#include <exception>
#include <future>
#include <memory>

#include <boost/beast/core/string.hpp>
#include <boost/url/parse.hpp>

#include "handlers.hpp"
#include "text.hpp"

namespace signoff::http::detail {

namespace {

namespace urls = boost::urls;
using status = beast_http::status;

/// True when there is nobody to answer: the client closed before its
/// request was complete, went silent, or the socket failed. Any other
/// failure is bytes that are no HTTP request, which get an answer.
bool unanswerable(const boost::beast::error_code& ec) {
  if (!ec)
    return false;
  const auto& http_errors
    = beast_http::make_error_code(beast_http::error::end_of_stream).category();
  return ec.category() != http_errors || ec == beast_http::error::end_of_stream
         || ec == beast_http::error::partial_message
         || ec == beast_http::error::short_read;
}

/// What every answer carries: browsers must not guess another type than
/// the one sent, and links out of our pages must not carry their URLs
/// (a signed link's is a credential).
response secured(response res) {
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "same-origin");
  return res;
}

/// A JSON refusal of a connection's request before it was routed; the
/// connection closes after it.
response refusal(unsigned version, status code, std::string_view message,
                 std::string_view type = "INVALID_ARGUMENT") {
  request req;
  req.version(version);
  auto res = json_response(
    req, code, {{"success", false}, {"error", type}, {"message", message}});
  res.keep_alive(false);
  return secured(std::move(res));
}

/// A refusal in the format of the part of the server `path` leads to:
/// a page for the inbox and links, JSON elsewhere.
response refusal(const parsed_request& req, status code, std::string type,
                 const std::string& message) {
  const auto& path = req.path;
  if (!path.empty()
      && (path[0] == "inbox" || path[0] == "login" || path[0] == "logout"
          || path[0] == "act"))
    return html_response(req.raw, code, "Refused",
                         "<h1>Refused</h1><p class=\"notice\">"
                           + html_escape(message) + "</p>");
  return json_response(
    req.raw, code,
    {{"success", false}, {"error", std::move(type)}, {"message", message}});
}

/// True if `host` (of a Host header or an absolute-form target) names the
/// server in a way a page elsewhere cannot get a browser to send: an IP
/// address, "localhost", or a name it was told (DNS rebinding needs a
/// name its attacker controls).
bool names_this_server(const urls::authority_view& host,
                       const std::vector<std::string>& allowed) {
  if (host.host_type() != urls::host_type::name)
    return host.host_type() != urls::host_type::none;
  const auto name = host.host();
  const auto is = [&](std::string_view other) {
    return boost::beast::iequals(name, other);
  };
  return is("localhost") || std::any_of(allowed.begin(), allowed.end(), is);
}

/// `call`, whose response is made like any other: secured, without a body
/// for HEAD, and a 500 without internal text if making it throws.
deferred finished(deferred call, bool head) {
  return [call = std::move(call), head](reply done) {
    call([done = std::move(done), head](finish make) {
      done([make = std::move(make), head](const request& req) {
        response res;
        try {
          res = make(req);
        } catch (...) {
          res = error_response(
            req,
            model::make_error(model::error_type::unexpected_error, "internal"));
        }
        if (head)
          res.body().clear();
        return secured(std::move(res));
      });
    });
  };
}

} // namespace

bool cross_site(const request& req, std::string_view authority) {
  std::string_view source = req[beast_http::field::origin];
  if (source.empty())
    source = req[beast_http::field::referer];
  // No browser page sent it (or an old browser did); the inbox's form
  // token still guards its forms.
  if (source.empty())
    return false;
  auto url = urls::parse_uri(source);
  return !url || !url->has_authority() || !whole_authority(*url)
         || !boost::beast::iequals(url->encoded_authority(), authority);
}

router::router(orchestrator& target, const server_options& options)
    : target_(target), options_(options) {}

answer router::handle(const request& req) const noexcept {
  const bool head = req.method() == beast_http::verb::head;
  try {
    answer out;
    if (head) {
      // HEAD is GET without the body; the Content-Length stays the GET's.
      request get{req};
      get.method(beast_http::verb::get);
      out = route(get);
    } else {
      out = route(req);
    }
    if (auto* call = std::get_if<deferred>(&out))
      return finished(std::move(*call), head);
    auto& res = std::get<response>(out);
    if (head)
      res.body().clear();
    return secured(std::move(res));
  } catch (...) {
    return secured(error_response(
      req, model::make_error(model::error_type::unexpected_error, "internal")));
  }
}

std::optional<response>
router::respond(const request_parser& parser,
                boost::beast::error_code read_error) const noexcept {
  auto out = answer_to(parser, read_error);
  if (!out)
    return std::nullopt;
  if (auto* res = std::get_if<response>(&*out))
    return std::move(*res);
  try {
    auto outcome = std::make_shared<std::promise<finish>>();
    auto made = outcome->get_future();
    std::get<deferred> (*out)(
      [outcome](finish make) { outcome->set_value(std::move(make)); });
    return made.get()(parser.get());
  } catch (...) {
    return secured(error_response(
      parser.get(),
      model::make_error(model::error_type::unexpected_error, "internal")));
  }
}

std::optional<answer>
router::answer_to(const request_parser& parser,
                  boost::beast::error_code read_error) const noexcept {
  if (unanswerable(read_error))
    return std::nullopt;
  // A coding other than chunked leaves the body's end unknown, and what
  // follows would be read as another request (RFC 9112, 6.3): refused like
  // any request that is not valid HTTP.
  const bool refused
    = read_error
      || (parser.get().count(beast_http::field::transfer_encoding) != 0
          && !parser.chunked());
  if (!refused)
    return handle(parser.get());
  auto res
    = read_error == beast_http::error::body_limit
        ? refusal(parser.get().version(), status::payload_too_large,
                  "the request body is too large")
      : read_error == beast_http::error::header_limit
        ? refusal(11, status::request_header_fields_too_large,
                  "the request header is too large")
        : refusal(11, status::bad_request, "the request is not valid HTTP");
  // An answer to HEAD has no body, whatever else was wrong.
  if (parser.get().method() == beast_http::verb::head)
    res.body().clear();
  return res;
}

response router::busy() {
  return refusal(11, status::service_unavailable,
                 "the server is busy; try again", "SERVER_BUSY");
}

answer router::route(const request& req) const {
  const auto hosts = req.count(beast_http::field::host);
  // RFC 9112, 3.2.
  if (hosts > 1 || (hosts == 0 && req.version() >= 11))
    return error_response(
      req, model::make_error(model::error_type::invalid_argument,
                             "an HTTP/1.1 request needs one Host header"));
  auto target = parse_target(req.target());
  if (!target)
    return error_response(req,
                          model::make_error(model::error_type::invalid_argument,
                                            "the URL is malformed"));
  // An absolute-form target names the host instead (RFC 9112, 3.2.2).
  const std::string_view authority
    = target->authority.empty() ? std::string_view{req[beast_http::field::host]}
                                : std::string_view{target->authority};
  auto host = urls::parse_authority(authority);
  if (!host || host->has_userinfo())
    return error_response(req,
                          model::make_error(model::error_type::invalid_argument,
                                            "the Host header is malformed"));
  parsed_request parsed{req, std::move(target->path), std::move(target->query),
                        std::string{authority}};
  const bool post = req.method() == beast_http::verb::post;
  // Without authentication, only the host and the origin keep a page on
  // another site from deciding.
  if (options_.no_auth && !names_this_server(*host, options_.allowed_hosts))
    return refusal(parsed, status::misdirected_request, "MISDIRECTED_REQUEST",
                   "this server does not answer for '" + std::string{authority}
                     + "'");
  if (options_.no_auth && post && cross_site(req, authority))
    return refusal(parsed, status::forbidden, "FORBIDDEN",
                   "a page on another site may not change anything here");
  handler_context ctx{target_, options_};
  const auto& path = parsed.path;
  const bool get = req.method() == beast_http::verb::get;
  if (path.size() == 1 && path[0] == "health" && get)
    return json_response(req, status::ok, {{"status", "ok"}});
  if (path.size() == 1 && path[0] == "metrics" && get)
    return handle_metrics(ctx, parsed, served_);
  if (!path.empty() && path[0] == "api")
    return handle_api(ctx, parsed);
  if (!path.empty()
      && (path[0] == "inbox" || path[0] == "login" || path[0] == "logout"))
    return handle_inbox(ctx, parsed);
  if (!path.empty() && path[0] == "act")
    return handle_action_link(ctx, parsed);
  if (path.empty() && get)
    return redirect(req, "/inbox");
  return error_response(
    req, model::make_error(model::error_type::not_found, "no such endpoint"));
}

} // namespace signoff::http::detail
