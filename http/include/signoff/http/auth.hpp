#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace signoff::http {

/// What a request may do. `cleanup` removes old finished runs and their
/// approvals whatever their keys, so only a token without prefixes can use
/// it.
enum class permission {
  read,
  approve,
  reject,
  edit,
  cancel,
  cancel_run,
  cleanup
};

/// Parses "read", "approve", "reject", "edit", "cancel", "cancel-run" or
/// "cleanup".
[[nodiscard]] std::optional<permission>
parse_permission(std::string_view text) noexcept;

/// Who a token speaks for and what it may touch.
struct token_grant {
  /// Recorded as the actor of every decision and run cancel made with the
  /// token.
  std::string identity{};
  /// Approval key prefixes it may see and decide (literal); empty: all.
  std::vector<std::string> prefixes{};
  std::set<permission> permissions{};

  /// True if the grant covers `key` (by prefix).
  [[nodiscard]] bool covers(std::string_view key) const;
};

/// Bearer tokens configured at start. Only SHA-256 hashes of the tokens are
/// kept. Not thread-safe to modify; lookups are (configure, then serve).
class token_registry {
public:
  /// Adds `token` (the secret the client sends) with its grant.
  void add(std::string_view token, token_grant grant);

  /// The grant of `token`, if it is one.
  [[nodiscard]] const token_grant* find(std::string_view token) const;

  /// Parses "identity:token:prefix|prefix:permission,permission" (empty
  /// prefixes mean all keys; "*" as permissions means all of them).
  /// Returns an error message, or nothing on success.
  [[nodiscard]] std::optional<std::string> add_spec(std::string_view spec);

private:
  std::map<std::string, token_grant> by_hash_;
};

} // namespace signoff::http
