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

std::optional<response>
router::respond(const request_parser& parser,
                boost::beast::error_code read_error) const noexcept {
  if (read_error == beast_http::error::body_limit) {
    auto res = too_large(parser.get().version());
    res.keep_alive(false);
    return res;
  }
  if (read_error)
    return std::nullopt;
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
  if (path.size() == 1 && path[0] == "health")
    return json_response(req, beast_http::status::ok, {{"status", "ok"}});
  if (!path.empty() && path[0] == "api")
    return handle_api(ctx, parsed);
  if (!path.empty() && (path[0] == "inbox" || path[0] == "login"))
    return handle_inbox(ctx, parsed);
  if (!path.empty() && path[0] == "act")
    return handle_action_link(ctx, parsed);
  if (path.empty())
    return redirect(req, "/inbox");
  return error_response(
    req, model::make_error(model::error_type::not_found, "no such endpoint"));
}

} // namespace signoff::http::detail
