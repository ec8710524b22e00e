#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "signoff/model/approval.hpp"
#include "signoff/model/result.hpp"
#include "signoff/model/time.hpp"
#include "signoff/persistence/approval_store.hpp"

namespace signoff {

class orchestrator;

/// The webhook's answer: the reference's `{success, message}`.
struct webhook_response {
  bool success = false;
  std::string message;

  /// `{"success": ..., "message": ...}`.
  [[nodiscard]] boost::json::value to_json() const;
};

/// Turns a webhook body into a decision. The body is the reference's:
/// `key` (non-empty string), `action` ("approve", "reject", "edit" or
/// "cancel"), `value` (for approve; required for edit), `reason` (required
/// for reject), `actorId` (optional string). Errors: INVALID_ARGUMENT with
/// a message naming the field.
[[nodiscard]] model::result<model::decision>
parse_webhook_body(const boost::json::value& body);

/// A bulk decision's body: the webhook body with `keys` (an array of keys)
/// or `prefix` (a string: every approval pending under it) instead of
/// `key`; `decision` has no key.
struct bulk_body {
  std::vector<std::string> keys{};
  std::optional<std::string> prefix{};
  model::decision decision{};
};

/// Reads a bulk decision's body. Checks its shape only (the keys
/// themselves are the orchestrator's to check). Errors: INVALID_ARGUMENT
/// with a message naming the field.
[[nodiscard]] model::result<bulk_body>
parse_bulk_body(const boost::json::value& body);

/// Decides approvals from webhook bodies. A key nobody asked for is refused
/// (an approver deciding on a mistyped key would otherwise leave a decision
/// no run ever reads). Thread-safe; never throws.
class approval_webhook_handler {
public:
  /// Largest body `handle_text` accepts: 1 MiB.
  static constexpr std::size_t max_body_bytes = std::size_t{1} << 20U;

  /// Decides through the orchestrator, so waiting runs resume.
  explicit approval_webhook_handler(orchestrator& target);

  /// Decides on the store alone (no run is resumed), as the reference's
  /// handler over an approval store does.
  explicit approval_webhook_handler(
    std::shared_ptr<persistence::approval_store> store,
    model::clock clock = model::system_now);

  /// Handles a parsed body.
  [[nodiscard]] webhook_response
  operator()(const boost::json::value& body) const noexcept;

  /// Parses and handles a raw body; malformed JSON is refused.
  [[nodiscard]] webhook_response
  handle_text(std::string_view body) const noexcept;

private:
  using decide_fn
    = std::function<model::result<model::approval_record>(model::decision)>;
  decide_fn decide_;
};

/// The reference's approval checker: a function from an approval key to its
/// status as of now (pending for a key nobody asked for yet).
using approval_checker_fn
  = std::function<model::result<model::approval_status>(const std::string&)>;

/// Makes an approval checker over `store`.
[[nodiscard]] approval_checker_fn
approval_checker(std::shared_ptr<persistence::approval_store> store,
                 model::clock clock = model::system_now);

} // namespace signoff
