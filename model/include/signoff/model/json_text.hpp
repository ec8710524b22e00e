#pragma once

#include <string>
#include <string_view>

#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

namespace signoff::model {

/// Parses JSON text like `boost::json::parse`, except that every number with
/// a fraction or an exponent becomes the double nearest to its text. Boost
/// 1.81's parser rounds about one in ten of the doubles it serializes to a
/// neighbour, so without this a saved value would change a little on every
/// save and load. Sets `ec` (and returns null) on malformed text. The
/// value's nodes come from `storage`.
[[nodiscard]] boost::json::value
parse_json(std::string_view text, boost::system::error_code& ec,
           const boost::json::parse_options& options = {},
           boost::json::storage_ptr storage = {});

/// Writes `v` as JSON text the way people write numbers: a double as the
/// shortest decimal text that reads back as the same double, without an
/// exponent where a plain number is as short (15000, not Boost's 1.5E4).
/// For text people and other programs read: API answers, the inbox, the
/// CLI, notifications. The stores keep Boost's own text.
[[nodiscard]] std::string write_json(const boost::json::value& v);

/// False if `v` holds a number JSON text cannot carry (NaN, an infinity):
/// such a value would be written as text no parser reads back.
[[nodiscard]] bool is_storable(const boost::json::value& v) noexcept;

} // namespace signoff::model
