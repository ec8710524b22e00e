#pragma once

// What the HTTP test binaries' in-process servers share: their bearer
// tokens and link secret, the workflow their seeded runs pause in, and the
// paths and signed links their requests use.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "http/client.hpp"
#include "signoff/http/action_links.hpp"
#include "signoff/http/crypto.hpp"
#include "signoff/http/server.hpp"
#include "signoff/signoff.hpp"

namespace signoff::test {

inline constexpr std::string_view admin_token = "admin-secret-token-0123456789";
inline constexpr std::string_view finance_token
  = "finance-secret-token-0123456789";
inline constexpr std::string_view reader_token
  = "reader-secret-token-0123456789";
inline constexpr std::string_view finops_token
  = "finops-secret-token-0123456789";
/// Every permission, but only under the finance prefix.
inline constexpr std::string_view finance_admin_token
  = "finance-admin-secret-token-0123456789";
inline constexpr std::string_view test_link_secret
  = "link-secret-for-tests-0123456789";
inline constexpr std::string_view test_form_secret
  = "form-secret-for-tests-0123456789";
/// The key prefix the finance tokens are limited to.
inline constexpr std::string_view finance_prefix = "approval:finance:";

/// Options for a server on a free loopback port taking bodies up to
/// `max_body` bytes, with five tokens: admin (everything), finance-bot
/// (read + approve under `finance_prefix`), auditor (read), finance-ops
/// (read + cancel-run under `finance_prefix`), finance-admin (everything
/// under `finance_prefix`).
inline http::server_options test_server_options(std::size_t max_body,
                                                std::string link_secret,
                                                bool no_auth = false) {
  http::server_options options;
  options.port = 0;
  options.max_body_bytes = max_body;
  options.link_secret = std::move(link_secret);
  options.form_secret = test_form_secret;
  options.no_auth = no_auth;
  using p = http::permission;
  auto add = [&](std::string_view token, std::string identity,
                 std::vector<std::string> prefixes,
                 std::set<http::permission> permissions) {
    options.tokens.add(token, {std::move(identity), std::move(prefixes),
                               std::move(permissions)});
  };
  const std::set<http::permission> every{p::read,   p::approve, p::reject,
                                         p::edit,   p::cancel,  p::cancel_run,
                                         p::cleanup};
  add(admin_token, "admin", {}, every);
  add(finance_token, "finance-bot", {std::string{finance_prefix}},
      {p::read, p::approve});
  add(reader_token, "auditor", {}, {p::read});
  add(finops_token, "finance-ops", {std::string{finance_prefix}},
      {p::read, p::cancel_run});
  add(finance_admin_token, "finance-admin", {std::string{finance_prefix}},
      every);
  return options;
}

/// The form token the inbox's pages give a browser signed in with `token`
/// (empty without authentication), with `test_form_secret`.
inline std::string form_token_for(std::string_view token) {
  return http::hmac_sha256_hex(test_form_secret, "form:" + std::string{token});
}

/// Waits for the approval `input.key` (quorum, metadata and deadline from
/// the input) between two steps and reports how it ended; `after` counts
/// the runs that got past their approval.
inline workflow gate_workflow(std::shared_ptr<std::atomic<int>> after) {
  using boost::json::value;
  return [after](step& step, const value& in) -> task<model::result<value>> {
    const auto& obj = in.as_object();
    const std::string key{obj.at("key").as_string()};
    model::approval_options options;
    options.pending_reason = std::string{obj.at("reason").as_string()};
    options.metadata = obj.at("metadata");
    if (const auto* q = obj.if_contains("quorum"))
      options.quorum = q->to_number<std::uint32_t>();
    options.expires_in = std::chrono::hours{72};
    if (const auto* e = obj.if_contains("expiresInMs"))
      options.expires_in = std::chrono::milliseconds{e->to_number<int>()};
    co_await step.run("prepare", [&] { return value{{"prepared", key}}; });
    auto decided = co_await step.try_approval(key, options);
    co_await step.run("after", [&] { ++*after; });
    if (decided.is_err())
      co_return value{{"branch", decided.error().type},
                      {"message", decided.error().message}};
    co_return value{{"branch", "approved"}, {"value", decided.value()}};
  };
}

/// A run a test server starts with, paused on `key`.
struct seeded_run {
  std::string workflow;
  std::string run_id;
  std::string key;
  boost::json::value input;
};

/// A run of the gate workflow waiting on `key`.
inline seeded_run gate_run(std::string run_id, std::string key,
                           std::string reason, boost::json::value metadata,
                           int quorum = 1) {
  boost::json::value input{
    {"key", key}, {"reason", reason}, {"metadata", metadata}};
  if (quorum != 1)
    input.as_object()["quorum"] = quorum;
  return {"gate", std::move(run_id), std::move(key), std::move(input)};
}

inline std::string approval_path(std::string_view key) {
  return "/api/approvals/" + http_client::url_encode(key);
}

inline std::string run_path(std::string_view run_id) {
  return "/api/workflows/" + http_client::url_encode(run_id);
}

/// A signed action link for `key`, valid for `valid_for` from now.
inline std::string link_for(std::string key, model::decision_kind action,
                            std::string approver,
                            model::duration valid_for = std::chrono::hours{1},
                            std::string_view secret = test_link_secret) {
  return http::sign_action_link({std::move(key), action, std::move(approver),
                                 model::system_now() + valid_for},
                                secret);
}

} // namespace signoff::test
