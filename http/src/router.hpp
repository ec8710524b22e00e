#pragma once

// Turns one HTTP request into one answer: the JSON API, the approver inbox
// pages and signed action links. Reads go to the stores at once; what needs
// the orchestrator actor (decisions, cancelling a run, cleanup) is sent as
// an asynchronous call, and its response is made when the reply comes.

#include <functional>
#include <optional>
#include <variant>

#include <boost/beast/http.hpp>

#include "metrics_endpoint.hpp"
#include "request_reader.hpp"
#include "signoff/http/server.hpp"

namespace signoff::http::detail {

namespace beast_http = boost::beast::http;
using request = beast_http::request<beast_http::string_body>;
using response = beast_http::response<beast_http::string_body>;

/// Makes the response to `req` once a call returned; run on the thread
/// that answers the connection, while `req` (the request the call was
/// started for) is still there.
using finish = std::function<response(const request& req)>;

/// Takes a call's outcome: called exactly once, from any thread (mostly an
/// actor's), so it only hands `finish` on.
using reply = std::function<void(finish)>;

/// A call in flight once started: `start(done)` sends it and returns at
/// once; `done` gets its outcome later (or at once, from the same thread).
/// It holds what it needs by value: the request it came from may be gone
/// by the time it is started.
using deferred = std::function<void(reply done)>;

/// What a request gets: a response now, or one a call makes later.
using answer = std::variant<response, deferred>;

/// Handles requests; thread-safe (it only reads its options).
class router {
public:
  /// `options` must outlive the router; its `form_secret` must be set.
  router(orchestrator& target, const server_options& options);

  /// Never throws: failures become 4xx/5xx responses without internal text
  /// (also a deferred answer's, when its `finish` throws).
  [[nodiscard]] answer handle(const request& req) const noexcept;

  /// The answer to what a connection read with `parser`, which stopped with
  /// `read_error`: the handled request, 413 for a body over the limit, 400
  /// or 431 for bytes that are no acceptable HTTP request, or nothing when
  /// nobody is left to answer (the connection just closes).
  [[nodiscard]] std::optional<answer>
  answer_to(const request_parser& parser,
            boost::beast::error_code read_error) const noexcept;

  /// `answer_to` for a caller that is no server (the fuzzer): a deferred
  /// answer is started and waited for on the calling thread.
  [[nodiscard]] std::optional<response>
  respond(const request_parser& parser,
          boost::beast::error_code read_error) const noexcept;

  /// The answer to a connection the server has no room for: 503, closing.
  [[nodiscard]] static response busy();

  /// Where the server counts the responses it writes, for `/metrics`.
  [[nodiscard]] response_counts& served() noexcept {
    return served_;
  }

private:
  answer route(const request& req) const;

  orchestrator& target_;
  const server_options& options_;
  response_counts served_;
};

} // namespace signoff::http::detail
