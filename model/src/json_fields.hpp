#pragma once

// Field-by-field JSON reading for the hand-written conversions: persisted
// types are converted explicitly so a renamed member never silently changes
// the stored format.

#include <optional>
#include <string_view>
#include <type_traits>

#include <boost/json.hpp>

#include "signoff/model/time.hpp"

namespace signoff::model::detail {

/// Reads the required field `name` into `out`; false if missing or mistyped.
template <class T>
bool read_field(const boost::json::object& obj, std::string_view name, T& out) {
  // A value converted by Boost shares the document's storage, which may be
  // a scratch buffer gone once the record is read.
  static_assert(!std::is_same_v<T, boost::json::value>,
                "read raw values with read_value_field");
  const auto* v = obj.if_contains(name);
  if (v == nullptr)
    return false;
  auto converted = boost::json::try_value_to<T>(*v);
  if (!converted)
    return false;
  out = std::move(*converted);
  return true;
}

/// Reads `name` if present and not null; false only if present but mistyped.
template <class T>
bool read_optional_field(const boost::json::object& obj, std::string_view name,
                         T& out) {
  const auto* v = obj.if_contains(name);
  if (v == nullptr || v->is_null())
    return true;
  return read_field(obj, name, out);
}

/// Copies `name` as a raw JSON value (null when missing).
inline void read_value_field(const boost::json::object& obj,
                             std::string_view name, boost::json::value& out) {
  // Assigned, not constructed: `out` keeps its own storage.
  if (const auto* v = obj.if_contains(name))
    out = *v;
  else
    out = nullptr;
}

/// Reads an instant stored as epoch milliseconds.
inline bool read_time(const boost::json::object& obj, std::string_view name,
                      time_point& out) {
  std::int64_t ms = 0;
  if (!read_field(obj, name, ms))
    return false;
  out = from_millis(ms);
  return true;
}

/// Reads an optional instant; false only if present but mistyped.
inline bool read_optional_time(const boost::json::object& obj,
                               std::string_view name,
                               std::optional<time_point>& out) {
  const auto* v = obj.if_contains(name);
  if (v == nullptr || v->is_null()) {
    out.reset();
    return true;
  }
  time_point t;
  if (!read_time(obj, name, t))
    return false;
  out = t;
  return true;
}

/// The error every failed read reports.
inline boost::system::error_code malformed() {
  return boost::json::make_error_code(boost::json::error::not_object);
}

/// Checks a persisted record's `version` field against what we can read.
inline bool read_version(const boost::json::object& obj, int supported) {
  int version = 0;
  return read_field(obj, "version", version) && version >= 1
         && version <= supported;
}

} // namespace signoff::model::detail
