#pragma once

// What the API, inbox and link handlers share: who is calling, how model
// errors map to HTTP, and how responses are built.

#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "router.hpp"
#include "signoff/model/error.hpp"
#include "signoff/orchestrator.hpp"
#include "text.hpp"

namespace signoff::http::detail {

/// The authenticated caller of a request.
struct caller {
  std::string identity;
  const token_grant* grant = nullptr;
  /// Development mode without authentication: everything is allowed.
  bool unrestricted = false;
  /// The token the request came with; empty without authentication.
  std::string credential{};
  /// What the identity may decide: its groups, and whether the token
  /// overrides assignment (`permission::admin`; everything without
  /// authentication).
  model::actor_rights rights{};

  [[nodiscard]] bool may(permission p) const;
  [[nodiscard]] bool may(permission p, std::string_view key) const;
  /// True if `p` is granted for every key (no prefix limits the token).
  [[nodiscard]] bool may_everywhere(permission p) const;
  /// A run is covered when every approval it reached is.
  [[nodiscard]] bool may(permission p,
                         const model::saved_workflow_state& run) const;
};

/// A request taken apart.
struct parsed_request {
  const request& raw;
  std::vector<std::string> path;
  parameters query;
  /// The host (and port) the request is for: its Host header's, or its
  /// absolute-form target's.
  std::string authority;
};

/// Everything a handler needs.
struct handler_context {
  orchestrator& target;
  const server_options& options;
};

/// The value of the cookie `name` the request sent; empty if none.
[[nodiscard]] std::string_view cookie_value(const request& req,
                                            std::string_view name);

/// The bearer token of the request (header, or the inbox cookie when
/// `cookie_ok`), resolved; nothing if missing or unknown.
[[nodiscard]] std::optional<caller>
authenticate(const handler_context& ctx, const request& req, bool cookie_ok);

/// True if a browser says the request comes from a page of another site:
/// its Origin, or without one its Referer, names another host and port
/// than `authority`. Without either it is not from a browser's page.
[[nodiscard]] bool cross_site(const request& req, std::string_view authority);

/// The permission a decision needs.
[[nodiscard]] permission permission_for(model::decision_kind kind);

/// The HTTP status for a model error.
[[nodiscard]] beast_http::status status_for(const model::error& e);

/// The message a client may see: internal failures are not described.
[[nodiscard]] std::string public_message(const model::error& e);

[[nodiscard]] response json_response(const request& req,
                                     beast_http::status status,
                                     const boost::json::value& body);

/// `{"success": false, "error": type, "message": ...}` (+ the winner of a
/// conflict) with the error's status.
[[nodiscard]] response error_response(const request& req,
                                      const model::error& e);

/// 401 asking for a bearer token: none came, or not one we know.
[[nodiscard]] response unauthenticated(const request& req);

/// 403 with `message`: the token may not do this.
[[nodiscard]] response denied(const request& req, std::string message);

[[nodiscard]] response html_response(const request& req,
                                     beast_http::status status,
                                     std::string_view title,
                                     std::string_view body);

[[nodiscard]] response redirect(const request& req, std::string location);

/// An approval as the API shows it: the stored record with its status as
/// of now (a pending approval past its final deadline reads expired), its
/// next reminder (`nextReminderAt`) and final deadline (`finalExpiresAt`).
[[nodiscard]] boost::json::value
approval_json(const model::approval_record& record, model::time_point now);

/// The answer of a call to the orchestrator that replies later:
/// `start(then)` sends it with `then`, a `completion<T>`, and
/// `make(req, result)` makes the response on the connection's thread. Both
/// hold what they need by value (the orchestrator by reference: it outlives
/// the server); `then` only hands the result on, as a completion must.
template <class T, class Start, class Make>
[[nodiscard]] deferred when_done(Start start, Make make) {
  return
    [start = std::move(start), make = std::move(make)](reply done) mutable {
      start(completion<T>{[done = std::move(done), make](model::result<T> r) {
        done([make, r = std::move(r)](const request& req) {
          return make(req, r);
        });
      }});
    };
}

// Handlers, by family. Reads answer at once; decisions, cancelling a run
// and cleanup answer when the orchestrator replies.
[[nodiscard]] answer handle_api(const handler_context& ctx,
                                const parsed_request& req);
[[nodiscard]] answer handle_inbox(const handler_context& ctx,
                                  const parsed_request& req);
[[nodiscard]] answer handle_action_link(const handler_context& ctx,
                                        const parsed_request& req);
/// GET /metrics; `served` counts the server's responses.
[[nodiscard]] answer handle_metrics(const handler_context& ctx,
                                    const parsed_request& req,
                                    const response_counts& served);

} // namespace signoff::http::detail
