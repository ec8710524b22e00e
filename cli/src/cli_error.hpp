#pragma once

// The CLI's own error code and how errors become exit codes.

#include <string>
#include <string_view>

#include "signoff/model/error.hpp"

namespace signoff::cli {

/// The command line itself is wrong: an unknown command or option, a
/// missing argument, a malformed value. Nothing was read or changed.
inline constexpr std::string_view usage_error = "USAGE_ERROR";

/// The server named by `--server` could not be reached, or did not answer
/// in time (a request that timed out may still take effect).
inline constexpr std::string_view unreachable_error = "SERVER_UNREACHABLE";

/// Exit codes of the `signoff` tool.
enum exit_code : int {
  exit_ok = 0,
  /// Refused on its merits: conflict, not found, invalid.
  exit_domain_error = 1,
  /// The command line is wrong.
  exit_usage_error = 2,
  /// The store failed, the server could not be reached (or something
  /// unexpected happened).
  exit_storage_error = 3,
};

/// A `USAGE_ERROR` with `message`.
[[nodiscard]] model::error make_usage_error(std::string message);

/// The exit code that reports `e`.
[[nodiscard]] exit_code exit_code_for(const model::error& e) noexcept;

} // namespace signoff::cli
