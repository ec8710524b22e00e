#include "signoff/model/json_text.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_stack.hpp>

namespace signoff::model {

namespace {

namespace json = boost::json;
using json::error_code;

/// Builds the value as Boost.JSON's own parser does (on a value_stack), but
/// reads doubles from their text with std::from_chars, which rounds
/// correctly.
struct exact_number_handler {
  /// The stack works in `scratch` (then the heap), apart from the value's
  /// storage: a monotonic storage would keep every block the stack grew
  /// out of.
  explicit exact_number_handler(std::span<unsigned char> scratch)
      : stack{{}, scratch.data(), scratch.size()} {}

  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  json::value_stack stack;
  /// The text of a number split across input chunks, so far.
  std::string number;

  bool on_document_begin(error_code&) {
    return true;
  }
  bool on_document_end(error_code&) {
    return true;
  }
  bool on_object_begin(error_code&) {
    return true;
  }
  bool on_object_end(std::size_t n, error_code&) {
    stack.push_object(n);
    return true;
  }
  bool on_array_begin(error_code&) {
    return true;
  }
  bool on_array_end(std::size_t n, error_code&) {
    stack.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, error_code&) {
    stack.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, error_code&) {
    stack.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view s, error_code&) {
    number.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view, error_code&) {
    number.clear();
    stack.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, error_code&) {
    number.clear();
    stack.push_uint64(u);
    return true;
  }
  bool on_double(double rounded, json::string_view s, error_code& ec) {
    number.append(s.data(), s.size());
    double exact = 0;
    const auto parsed
      = std::from_chars(number.data(), number.data() + number.size(), exact);
    number.clear();
    // Below the smallest double, the parser's zero is what is meant.
    const double read = parsed.ec == std::errc{} ? exact : rounded;
    // Past the largest, Boost reads an infinity and would write it back as
    // `Infinity`, which is not JSON: a value holding it could not be read
    // again once stored.
    if (!std::isfinite(read)) {
      ec = json::make_error_code(json::error::exponent_overflow);
      return false;
    }
    stack.push_double(read);
    return true;
  }
  bool on_bool(bool b, error_code&) {
    stack.push_bool(b);
    return true;
  }
  bool on_null(error_code&) {
    stack.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, error_code&) {
    return true;
  }
  bool on_comment(json::string_view, error_code&) {
    return true;
  }
};

} // namespace

boost::json::value parse_json(std::string_view text,
                              boost::system::error_code& ec,
                              const boost::json::parse_options& options,
                              boost::json::storage_ptr storage) {
  // Its values are written before they are read.
  std::array<unsigned char, 1024> scratch;
  json::basic_parser<exact_number_handler> parser{options, std::span{scratch}};
  parser.handler().stack.reset(std::move(storage));
  const auto used = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && used < text.size())
    ec = json::make_error_code(json::error::extra_data);
  if (ec)
    return nullptr;
  return parser.handler().stack.release();
}

namespace {

void write_number(std::string& out, double d) {
  // std::to_chars without a format picks the shortest text that reads back
  // exactly, plain or scientific, whichever is shorter.
  std::array<char, 32> buffer{};
  const auto [end, ec]
    = std::to_chars(buffer.data(), buffer.data() + buffer.size(), d);
  out.append(buffer.data(), ec == std::errc{} ? end : buffer.data());
}

void write_value(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::double_:
      if (std::isfinite(v.get_double())) {
        write_number(out, v.get_double());
        return;
      }
      break; // Boost's text for what JSON cannot carry, as before
    case boost::json::kind::array: {
      out += '[';
      const char* separator = "";
      for (const auto& x : v.get_array()) {
        out += separator;
        write_value(out, x);
        separator = ",";
      }
      out += ']';
      return;
    }
    case boost::json::kind::object: {
      out += '{';
      const char* separator = "";
      for (const auto& kv : v.get_object()) {
        out += separator;
        out += json::serialize(kv.key());
        out += ':';
        write_value(out, kv.value());
        separator = ",";
      }
      out += '}';
      return;
    }
    default:
      break;
  }
  out += json::serialize(v);
}

} // namespace

std::string write_json(const boost::json::value& v) {
  std::string out;
  write_value(out, v);
  return out;
}

bool is_storable(const boost::json::value& v) noexcept {
  switch (v.kind()) {
    case boost::json::kind::double_:
      return std::isfinite(v.get_double());
    case boost::json::kind::array:
      for (const auto& x : v.get_array())
        if (!is_storable(x))
          return false;
      return true;
    case boost::json::kind::object:
      for (const auto& kv : v.get_object())
        if (!is_storable(kv.value()))
          return false;
      return true;
    default:
      return true;
  }
}

} // namespace signoff::model
