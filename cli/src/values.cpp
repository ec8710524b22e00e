#include "values.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "signoff/model/json_text.hpp"

#include "cli_error.hpp"

namespace signoff::cli {

namespace {

using namespace std::chrono_literals;

struct duration_unit {
  std::string_view suffix;
  model::duration length;
};

// Longer suffixes first, so "ms" is not read as "m".
constexpr std::array<duration_unit, 6> duration_units{{
  {"ms", 1ms},
  {"s", 1s},
  {"m", 1min},
  {"h", 1h},
  {"d", 24h},
  {"w", 24h * 7},
}};

model::error bad_duration(std::string_view option, std::string_view text) {
  return make_usage_error(std::string{option} + " '" + std::string{text}
                          + "' is not a duration such as 30d, 12h or 90m");
}

/// Parses a span such as "30d" for `option` (named in the error).
model::result<model::duration> parse_duration(std::string_view option,
                                              std::string_view text) {
  for (const auto& unit : duration_units) {
    if (!text.ends_with(unit.suffix))
      continue;
    const auto number = text.substr(0, text.size() - unit.suffix.size());
    std::int64_t count = 0;
    auto [end, ec]
      = std::from_chars(number.data(), number.data() + number.size(), count);
    if (number.empty() || ec != std::errc{}
        || end != number.data() + number.size() || count < 0)
      return bad_duration(option, text);
    const auto per_unit = unit.length.count();
    if (count > std::numeric_limits<std::int64_t>::max() / per_unit)
      return bad_duration(option, text);
    return model::duration{count * per_unit};
  }
  return bad_duration(option, text);
}

} // namespace

model::result<boost::json::value> parse_json_value(std::string_view text) {
  boost::system::error_code ec;
  auto parsed = model::parse_json(text, ec);
  if (ec)
    return make_usage_error("--value is not valid JSON (" + ec.message()
                            + "): " + std::string{text});
  return parsed;
}

model::result<model::duration> parse_age(std::string_view text) {
  return parse_duration("--older-than", text);
}

model::result<model::duration> parse_timeout(std::string_view text) {
  auto limit = parse_duration("--timeout", text);
  if (limit.is_ok() && limit.value() == model::duration::zero())
    return make_usage_error("--timeout must be longer than 0");
  return limit;
}

model::result<model::run_status> parse_status(std::string_view text) {
  if (auto status = model::parse_run_status(text))
    return *status;
  return make_usage_error("--status '" + std::string{text}
                          + "' is not one of running, paused, completed, "
                            "failed, cancelled");
}

model::result<std::string> parse_actor(std::string_view text) {
  if (text.empty())
    return make_usage_error("--by must not be empty");
  return std::string{text};
}

model::result<std::vector<std::string>> parse_names(std::string_view text) {
  std::vector<std::string> names;
  if (text.empty())
    return names;
  for (;;) {
    const auto comma = text.find(',');
    const auto name = text.substr(0, comma);
    if (name.empty())
      return make_usage_error("a list of names must not hold an empty one: '"
                              + std::string{text} + "'");
    names.emplace_back(name);
    if (comma == std::string_view::npos)
      return names;
    text.remove_prefix(comma + 1);
  }
}

} // namespace signoff::cli
