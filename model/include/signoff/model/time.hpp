#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace signoff::model {

/// Wall-clock instants at millisecond resolution, as stored and shown.
using time_point = std::chrono::time_point<std::chrono::system_clock,
                                           std::chrono::milliseconds>;

/// Spans of time (expiries, cleanup ages, poll intervals).
using duration = std::chrono::milliseconds;

/// Where "now" comes from. The orchestrator and the stores take one so tests
/// can move time forward instead of sleeping.
using clock = std::function<time_point()>;

/// The system clock truncated to milliseconds.
[[nodiscard]] time_point system_now();

/// Milliseconds since the Unix epoch: the JSON and on-disk form of instants.
[[nodiscard]] inline std::int64_t to_millis(time_point t) noexcept {
  return t.time_since_epoch().count();
}

/// Inverse of `to_millis`.
[[nodiscard]] inline time_point from_millis(std::int64_t ms) noexcept {
  return time_point{duration{ms}};
}

} // namespace signoff::model
