#pragma once

// Sizes and seeds the long reliability runs pass to the suites through the
// environment.

#include <charconv>
#include <cstdlib>
#include <string_view>
#include <system_error>

namespace signoff::test {

/// A count a stress case uses (its rounds, its backlog, its seed):
/// `fallback` in the normal test run, or the positive number in the
/// environment variable `name`, which the long reliability runs set.
template <class Number = int>
Number count_from_env(const char* name, Number fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr)
    return fallback;
  const std::string_view digits{text};
  Number n = 0;
  auto [end, ec]
    = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  return ec == std::errc{} && end == digits.data() + digits.size() && n > 0
           ? n
           : fallback;
}

} // namespace signoff::test
