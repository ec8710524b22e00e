#pragma once

#include <string>
#include <string_view>

#include "signoff/model/approval.hpp"
#include "signoff/model/result.hpp"
#include "signoff/model/time.hpp"

namespace signoff::http {

/// What a signed action link lets its holder do, once.
struct action_link {
  std::string key{};
  /// grant, reject or cancel.
  model::decision_kind action = model::decision_kind::grant;
  /// Who the link was made for; decisions record "link:" + approver.
  std::string approver{};
  model::time_point expires_at{};
};

/// Signs `link` with `secret` (HMAC-SHA256 over key, action, approver and
/// expiry) into a URL-safe token for `/act/{token}`.
[[nodiscard]] std::string sign_action_link(const action_link& link,
                                           std::string_view secret);

/// Checks a token's signature and expiry. A link is single-use: once its
/// approver decided the approval, the approval refuses the link (the
/// server checks that). Errors: INVALID_ARGUMENT (malformed or forged),
/// APPROVAL_EXPIRED (past its expiry).
[[nodiscard]] model::result<action_link>
verify_action_link(std::string_view token, std::string_view secret,
                   model::time_point now);

} // namespace signoff::http
