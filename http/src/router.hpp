#pragma once

// Turns one HTTP request into one response: the JSON API, the approver
// inbox pages and signed action links, all over the blocking orchestrator.

#include <optional>

#include <boost/beast/http.hpp>

#include "request_reader.hpp"
#include "signoff/http/server.hpp"

namespace signoff::http::detail {

namespace beast_http = boost::beast::http;
using request = beast_http::request<beast_http::string_body>;
using response = beast_http::response<beast_http::string_body>;

/// Handles requests; thread-safe (it only reads its options).
class router {
public:
  /// `options` must outlive the router; its `form_secret` must be set.
  router(orchestrator& target, const server_options& options);

  /// Never throws: failures become 4xx/5xx responses without internal text.
  [[nodiscard]] response handle(const request& req) const noexcept;

  /// The answer to what a connection read with `parser`, which stopped with
  /// `read_error`: the handled request, 413 for a body over the limit, 400
  /// or 431 for bytes that are no acceptable HTTP request, or nothing when
  /// nobody is left to answer (the connection just closes).
  [[nodiscard]] std::optional<response>
  respond(const request_parser& parser,
          boost::beast::error_code read_error) const noexcept;

  /// The answer to a connection the server has no room for: 503, closing.
  [[nodiscard]] static response busy();

private:
  response route(const request& req) const;

  orchestrator& target_;
  const server_options& options_;
};

} // namespace signoff::http::detail
