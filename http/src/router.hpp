#pragma once

// Turns one HTTP request into one response: the JSON API, the approver
// inbox pages and signed action links, all over the blocking orchestrator.

#include <optional>

#include <boost/beast/http.hpp>

#include "signoff/http/server.hpp"

namespace signoff::http::detail {

namespace beast_http = boost::beast::http;
using request = beast_http::request<beast_http::string_body>;
using response = beast_http::response<beast_http::string_body>;
using request_parser = beast_http::request_parser<beast_http::string_body>;

/// Handles requests; thread-safe (it only reads its options).
class router {
public:
  router(orchestrator& target, const server_options& options);

  /// Never throws: failures become 4xx/5xx responses without internal text.
  [[nodiscard]] response handle(const request& req) const noexcept;

  /// The answer to what a connection read with `parser`, which stopped with
  /// `read_error`: the handled request, 413 for a body over the parser's
  /// limit, 400 or 431 for bytes that are no acceptable HTTP request, or
  /// nothing when nobody is left to answer (the connection just closes).
  [[nodiscard]] std::optional<response>
  respond(const request_parser& parser,
          boost::beast::error_code read_error) const noexcept;

private:
  /// The response for a body over the size limit.
  [[nodiscard]] static response too_large(unsigned version);

  /// The response to bytes that are no acceptable HTTP request: 431 for
  /// a header over the limit, 400 otherwise.
  [[nodiscard]] static response malformed(bool header_too_large);

  response route(const request& req) const;

  orchestrator& target_;
  const server_options& options_;
};

} // namespace signoff::http::detail
