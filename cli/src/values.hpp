#pragma once

// Option values as the commands use them. A malformed value is a
// USAGE_ERROR naming the option.

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "signoff/model/result.hpp"
#include "signoff/model/time.hpp"
#include "signoff/model/workflow_state.hpp"

namespace signoff::cli {

/// Parses `text` as one JSON value (`--value`).
[[nodiscard]] model::result<boost::json::value>
parse_json_value(std::string_view text);

/// Parses a span such as "30d", "12h", "90m", "45s" or "500ms"
/// (`--older-than`): a whole number and one unit (w, d, h, m, s, ms).
[[nodiscard]] model::result<model::duration> parse_age(std::string_view text);

/// Parses a span as `parse_age` does, but longer than 0 (`--timeout`).
[[nodiscard]] model::result<model::duration>
parse_timeout(std::string_view text);

/// Parses a run status name (`--status`): running, paused, completed,
/// failed or cancelled.
[[nodiscard]] model::result<model::run_status>
parse_status(std::string_view text);

/// Parses a non-empty actor name (`--by`).
[[nodiscard]] model::result<std::string> parse_actor(std::string_view text);

/// Parses a comma-separated list of identities or groups (`--assignees`,
/// `--groups`): "" is the empty list; no name in it may be empty.
[[nodiscard]] model::result<std::vector<std::string>>
parse_names(std::string_view text);

/// One of the parsers above as an option check: whether `text` parses.
template <auto Parse>
model::result<void> check(std::string_view text) {
  auto parsed = Parse(text);
  if (parsed.is_err())
    return parsed.error();
  return model::ok();
}

} // namespace signoff::cli
