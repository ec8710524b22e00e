#pragma once

// A small synchronous HTTP/1.1 client for the signoff server's JSON API:
// one kept-alive connection, a bounded wait for every step, JSON in and
// out. Failures to reach the server are SERVER_UNREACHABLE errors naming
// the URL; it never throws.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "signoff/model/result.hpp"

namespace signoff::cli {

/// Where the server is: `http://host[:port][/base]`.
struct server_url {
  /// The URL as given, for messages.
  std::string text;
  std::string host;
  std::string port;
  /// A path the API sits under (behind a proxy), without a trailing '/';
  /// empty for none.
  std::string base;
};

/// Parses `http://host[:port][/base]` (an IPv6 host in brackets). Errors:
/// USAGE_ERROR for anything else, https included (put a TLS-terminating
/// proxy in front of signoffd and call it over http on the host).
[[nodiscard]] model::result<server_url> parse_server_url(std::string_view text);

/// Checks that `token` can be sent in a header (printable ASCII, no
/// spaces). Errors: USAGE_ERROR.
[[nodiscard]] model::result<void> check_token(std::string_view token);

/// Percent-encodes every byte but the unreserved characters, so a key with
/// '/', '%', '?', spaces or UTF-8 is one path segment or query value.
[[nodiscard]] std::string percent_encode(std::string_view text);

/// How long the client waits.
struct http_limits {
  /// To connect: 10 seconds.
  std::chrono::milliseconds connect = std::chrono::seconds{10};
  /// From sending a request to the end of its answer: 60 seconds.
  std::chrono::milliseconds answer = std::chrono::seconds{60};
};

/// What the server answered.
struct http_answer {
  unsigned status = 0;
  /// The body parsed as JSON; null if it is empty or not JSON.
  boost::json::value body;
};

/// Sends requests to one server over one connection, opened on first use
/// and again when the server closes it. Not thread-safe.
class http_client {
public:
  /// `token` goes into every request as `Authorization: Bearer`; empty for
  /// none.
  http_client(server_url url, std::string token, http_limits limits = {});
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// GET `path` (below the URL's base; already percent-encoded). Errors:
  /// SERVER_UNREACHABLE.
  [[nodiscard]] model::result<http_answer> get(const std::string& path);

  /// POST `body` as JSON to `path`. Never sent twice. Errors:
  /// SERVER_UNREACHABLE.
  [[nodiscard]] model::result<http_answer> post(const std::string& path,
                                                const boost::json::value& body);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace signoff::cli
