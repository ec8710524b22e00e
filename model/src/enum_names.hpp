#pragma once

// One table per enum maps values to their stable lower-case names, so the
// to_string / parse / JSON functions cannot drift apart.

#include <array>
#include <optional>
#include <string_view>
#include <utility>

namespace signoff::model::detail {

template <class Enum, std::size_t N>
using name_table = std::array<std::pair<Enum, std::string_view>, N>;

template <class Enum, std::size_t N>
constexpr std::string_view name_of(const name_table<Enum, N>& table,
                                   Enum value) noexcept {
  for (const auto& [e, name] : table)
    if (e == value)
      return name;
  return "unknown";
}

template <class Enum, std::size_t N>
constexpr std::optional<Enum> parse_name(const name_table<Enum, N>& table,
                                         std::string_view text) noexcept {
  for (const auto& [e, name] : table)
    if (name == text)
      return e;
  return std::nullopt;
}

} // namespace signoff::model::detail
