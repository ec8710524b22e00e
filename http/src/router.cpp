#include "router.hpp"

#include <exception>

#include "handlers.hpp"
#include "text.hpp"

namespace signoff::http::detail {

namespace {

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

} // namespace

router::router(orchestrator& target, const server_options& options)
    : target_(target), options_(options) {}

response router::handle(const request& req) const noexcept {
  try {
    return route(req);
  } catch (const std::exception&) {
    return error_response(
      req, model::make_error(model::error_type::unexpected_error, "internal"));
  }
}

std::optional<response>
router::respond(const request_parser& parser,
                boost::beast::error_code read_error) const noexcept {
  if (read_error == beast_http::error::body_limit) {
    auto res = too_large(parser.get().version());
    res.keep_alive(false);
    return res;
  }
  if (unanswerable(read_error))
    return std::nullopt;
  // A coding other than chunked leaves the body's end unknown, and what
  // follows would be read as another request (RFC 9112, 6.3): refused like
  // any request that is not valid HTTP.
  if (read_error
      || (parser.get().count(beast_http::field::transfer_encoding) != 0
          && !parser.chunked())) {
    auto res = malformed(read_error == beast_http::error::header_limit);
    res.keep_alive(false);
    return res;
  }
  return handle(parser.get());
}

response router::too_large(unsigned version) {
  request req;
  req.version(version);
  return json_response(req, beast_http::status::payload_too_large,
                       {{"success", false},
                        {"error", "INVALID_ARGUMENT"},
                        {"message", "the request body is too large"}});
}

response router::malformed(bool header_too_large) {
  request req;
  req.version(11);
  return json_response(
    req,
    header_too_large ? beast_http::status::request_header_fields_too_large
                     : beast_http::status::bad_request,
    {{"success", false},
     {"error", "INVALID_ARGUMENT"},
     {"message", header_too_large ? "the request header is too large"
                                  : "the request is not valid HTTP"}});
}

response router::route(const request& req) const {
  const std::string_view target = req.target();
  const auto question = target.find('?');
  parsed_request parsed{req, {}, {}};
  if (!split_path(target.substr(0, question), parsed.path)
      || (question != std::string_view::npos
          && !parse_pairs(target.substr(question + 1), parsed.query)))
    return error_response(req,
                          model::make_error(model::error_type::invalid_argument,
                                            "the URL is malformed"));
  handler_context ctx{target_, options_};
  const auto& path = parsed.path;
  const bool get = req.method() == beast_http::verb::get;
  if (path.size() == 1 && path[0] == "health" && get)
    return json_response(req, beast_http::status::ok, {{"status", "ok"}});
  if (!path.empty() && path[0] == "api")
    return handle_api(ctx, parsed);
  if (!path.empty() && (path[0] == "inbox" || path[0] == "login"))
    return handle_inbox(ctx, parsed);
  if (!path.empty() && path[0] == "act")
    return handle_action_link(ctx, parsed);
  if (path.empty() && get)
    return redirect(req, "/inbox");
  return error_response(
    req, model::make_error(model::error_type::not_found, "no such endpoint"));
}

} // namespace signoff::http::detail
