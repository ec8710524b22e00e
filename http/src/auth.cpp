#include "signoff/http/auth.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "signoff/http/crypto.hpp"

namespace signoff::http {

namespace {

constexpr std::array<std::pair<permission, std::string_view>, 9> names{{
  {permission::read, "read"},
  {permission::approve, "approve"},
  {permission::reject, "reject"},
  {permission::edit, "edit"},
  {permission::cancel, "cancel"},
  {permission::cancel_run, "cancel-run"},
  {permission::cleanup, "cleanup"},
  {permission::assign, "assign"},
  {permission::admin, "admin"},
}};

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(separator, start);
    if (end == std::string_view::npos)
      end = text.size();
    if (end > start)
      parts.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

} // namespace

std::optional<permission> parse_permission(std::string_view text) noexcept {
  for (const auto& [p, name] : names)
    if (name == text)
      return p;
  return std::nullopt;
}

bool token_grant::covers(std::string_view key) const {
  return prefixes.empty()
         || std::any_of(prefixes.begin(), prefixes.end(),
                        [key](const auto& p) { return key.starts_with(p); });
}

void token_registry::add(std::string_view token, token_grant grant) {
  by_hash_.insert_or_assign(sha256_hex(token), std::move(grant));
}

const token_grant* token_registry::find(std::string_view token) const {
  if (token.empty())
    return nullptr;
  auto it = by_hash_.find(sha256_hex(token));
  return it == by_hash_.end() ? nullptr : &it->second;
}

std::optional<std::string> token_registry::add_spec(std::string_view spec) {
  // identity:token:prefixes:permissions. Prefixes may hold colons (keys
  // do), so the permissions are what follows the last colon.
  const auto first = spec.find(':');
  const auto second = first == std::string_view::npos
                        ? std::string_view::npos
                        : spec.find(':', first + 1);
  const auto last = spec.rfind(':');
  if (second == std::string_view::npos || last <= second)
    return "a token is identity:token:prefix|prefix:permission,...";
  const std::vector<std::string> fields{
    std::string{spec.substr(0, first)},
    std::string{spec.substr(first + 1, second - first - 1)},
    std::string{spec.substr(second + 1, last - second - 1)},
    std::string{spec.substr(last + 1)}};
  if (fields[0].empty() || fields[1].size() < 16)
    return "a token needs an identity and a secret of at least 16 characters";
  token_grant grant{fields[0], split(fields[2], '|'), {}};
  for (const auto& name : split(fields[3], ',')) {
    if (name == "*") {
      // Overriding who approvals are assigned to is never implied.
      for (const auto& [p, ignored] : names)
        if (p != permission::admin)
          grant.permissions.insert(p);
      continue;
    }
    auto p = parse_permission(name);
    if (!p)
      return "unknown permission '" + name + "'";
    grant.permissions.insert(*p);
  }
  add(fields[1], std::move(grant));
  return std::nullopt;
}

void token_registry::add_group(const std::string& name,
                               const std::vector<std::string>& identities) {
  for (const auto& identity : identities)
    groups_[identity].insert(name);
}

std::optional<std::string>
token_registry::add_group_spec(std::string_view spec) {
  const auto colon = spec.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return "a group is name:identity,identity,...";
  auto members = split(spec.substr(colon + 1), ',');
  if (members.empty())
    return "the group '" + std::string{spec.substr(0, colon)}
           + "' names no member";
  add_group(std::string{spec.substr(0, colon)}, members);
  return std::nullopt;
}

std::vector<std::string>
token_registry::groups_of(const std::string& identity) const {
  auto it = groups_.find(identity);
  if (it == groups_.end())
    return {};
  return {it->second.begin(), it->second.end()};
}

} // namespace signoff::http
