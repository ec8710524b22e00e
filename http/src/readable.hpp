#pragma once

// What the inbox shows people instead of raw data: times as dates in the
// reader's zone with how long ago (or how soon) they are, and a JSON
// object's fields as a list of names and values.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "signoff/model/time.hpp"

namespace signoff::http::detail {

/// A reader's zone as a fixed offset from UTC. Pages are rendered without
/// JavaScript, so the browser cannot say its zone: the reader picks an
/// offset once and a cookie keeps it (daylight saving is theirs to switch).
struct reader_zone {
  std::chrono::minutes offset{0};

  /// "UTC", or "UTC+01:00" / "UTC-05:30".
  [[nodiscard]] std::string name() const;
};

/// Parses "UTC", "+01:00", "-05:30" (from -12:00 to +14:00, whole quarter
/// hours); nothing for anything else.
[[nodiscard]] std::optional<reader_zone> parse_zone(std::string_view text);

/// The offsets a reader may pick, as parse_zone reads them, west to east.
[[nodiscard]] const std::vector<std::string>& zone_choices();

/// "in 2 d 3 h", "5 min ago", "just now": how far `at` is from `now`, to
/// the two largest units.
[[nodiscard]] std::string relative_time(model::time_point at,
                                        model::time_point now);

/// `at` as an HTML `<time>` element: the date and minute in the reader's
/// zone, the exact UTC instant in its `datetime` attribute and title, then
/// the relative time.
[[nodiscard]] std::string time_html(model::time_point at, model::time_point now,
                                    const reader_zone& zone);

/// An object's fields as an HTML description list: strings as their text,
/// other values as JSON; anything else (and an empty object) as escaped
/// JSON in `<code>`.
[[nodiscard]] std::string fields_html(const boost::json::value& v);

} // namespace signoff::http::detail
