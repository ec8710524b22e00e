#include "router.hpp"

#include <exception>

#include "handlers.hpp"
#include "text.hpp"

namespace signoff::http::detail {

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
