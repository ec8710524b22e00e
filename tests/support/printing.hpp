#pragma once

// Boost.Test prints the operands of a failed comparison; model types print
// as their JSON form. Raw bytes print readably.

#include <cctype>
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

#include <boost/json.hpp>

namespace signoff::model {

template <class T>
requires requires(const T& x) {
  boost::json::value_from(x);
}
std::ostream& boost_test_print_type(std::ostream& os, const T& x) {
  return os << boost::json::serialize(boost::json::value_from(x));
}

} // namespace signoff::model

namespace signoff::test {

/// `bytes` with everything but printable ASCII as \xNN, cut after `limit`.
inline std::string printable(std::string_view bytes, std::size_t limit = 120) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes.substr(0, limit)) {
    if (std::isprint(c) != 0 && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += digits[c >> 4U];
      out += digits[c & 0xFU];
    }
  }
  if (bytes.size() > limit)
    out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

} // namespace signoff::test
