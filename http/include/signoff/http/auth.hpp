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
/// it. `assign` reassigns and delegates approvals. `admin` decides,
/// reassigns and delegates approvals whoever they are assigned to (within
/// the token's prefixes and its other permissions); without it a token
/// decides only approvals that name its identity as an assignee, name a
/// group of its identity, or name nobody.
enum class permission {
  read,
  approve,
  reject,
  edit,
  cancel,
  cancel_run,
  cleanup,
  assign,
  admin
};

/// Parses "read", "approve", "reject", "edit", "cancel", "cancel-run",
/// "cleanup", "assign" or "admin".
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
  /// prefixes mean all keys; "*" as permissions means all of them but
  /// `admin`, which is always named). Returns an error message, or nothing
  /// on success.
  [[nodiscard]] std::optional<std::string> add_spec(std::string_view spec);

  /// Makes each of `identities` a member of the group `name` (added to
  /// the members it has). The groups of a token's identity are checked
  /// against an approval's candidate groups.
  void add_group(const std::string& name,
                 const std::vector<std::string>& identities);

  /// Parses "group:identity,identity". Returns an error message (no group
  /// name, no member), or nothing on success.
  [[nodiscard]] std::optional<std::string>
  add_group_spec(std::string_view spec);

  /// The groups `identity` is a member of, sorted.
  [[nodiscard]] std::vector<std::string>
  groups_of(const std::string& identity) const;

private:
  std::map<std::string, token_grant> by_hash_;
  /// identity -> its groups.
  std::map<std::string, std::set<std::string>, std::less<>> groups_;
};

} // namespace signoff::http
