#include "signoff/model/json_text.hpp"

#include <bit>
#include <cstdint>
#include <random>
#include <string>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace json = boost::json;
using signoff::model::parse_json;
using signoff::model::write_json;

namespace {

json::value parsed(std::string_view text,
                   const json::parse_options& options = {}) {
  boost::system::error_code ec;
  auto v = parse_json(text, ec, options);
  BOOST_TEST_REQUIRE(!ec, text << ": " << ec.message());
  return v;
}

boost::system::error_code refusal(std::string_view text) {
  boost::system::error_code ec;
  auto v = parse_json(text, ec);
  BOOST_TEST(v.is_null());
  return ec;
}

} // namespace

BOOST_AUTO_TEST_SUITE(json_text)

// Found by fuzz/model_json: these are doubles Boost.JSON 1.81 serializes
// and then parses as a neighbouring double.
BOOST_AUTO_TEST_CASE(
  keys_with_odd_bytes_read_back_only_with_allow_invalid_utf8) {
  // What approval_store.hpp tells store writers: a key is any bytes, the
  // serializer writes them as they are, and the parser takes them back
  // only when asked to.
  const json::value record{{"key", std::string{"order:\xFF\xFE"}}};
  const auto text = json::serialize(record);
  BOOST_TEST(refusal(text).failed());
  json::parse_options options;
  options.allow_invalid_utf8 = true;
  BOOST_TEST(parsed(text, options) == record);
}

BOOST_AUTO_TEST_CASE(every_serialized_double_reads_back_exactly) {
  for (double d : {2.704880371482369e124, 1.3927926388013963e-143,
                   -1.917377330098547e208, 9.018446744073709e22}) {
    const auto text = json::serialize(json::value(d));
    BOOST_TEST(json::parse(text).as_double() != d,
               "Boost reads " << text << " exactly now: drop parse_json?");
    BOOST_TEST(parsed(text).as_double() == d, text);
  }
  // Any bit pattern of a finite double, in arrays and objects.
  std::mt19937_64 bits{7};
  for (int i = 0; i < 20'000; ++i) {
    const auto d = std::bit_cast<double>(bits() & 0xFFEF'FFFF'FFFF'FFFFULL);
    const json::value v{d, json::object{{"d", d}}};
    BOOST_TEST_REQUIRE(parsed(json::serialize(v)) == v, json::serialize(v));
  }
}

BOOST_AUTO_TEST_CASE(integers_and_everything_else_read_as_boost_reads_them) {
  const std::string text = R"({"i":-7,"u":18446744073709551615,"big":)"
                           R"(123456789012345678901234567890,"s":"caf\u00e9",)"
                           R"("a":[true,false,null,0.5,-0.0,1e-400]})";
  const auto v = parsed(text);
  BOOST_TEST(v == json::parse(text));
  BOOST_TEST(v.at("i").is_int64());
  BOOST_TEST(v.at("u").is_uint64());
  BOOST_TEST(v.at("big").is_double());
  BOOST_TEST(v.at("a").at(5).as_double() == 0.0);
}

BOOST_AUTO_TEST_CASE(numbers_past_the_largest_double_are_refused) {
  // Boost would read an infinity and write it as `Infinity`, which no JSON
  // parser reads back.
  BOOST_TEST(refusal("1e400") == json::error::exponent_overflow);
  BOOST_TEST(refusal(R"({"a":[-1.8e308]})") == json::error::exponent_overflow);
  BOOST_TEST(parsed("1.7976931348623157e308").as_double() > 1e308);
}

BOOST_AUTO_TEST_CASE(malformed_text_is_refused_and_options_apply) {
  BOOST_TEST(refusal("[1,2") == json::error::incomplete);
  BOOST_TEST(refusal("{} x") == json::error::extra_data);
  BOOST_TEST(refusal("") == json::error::incomplete);
  BOOST_TEST(refusal("\"\xff\"").failed());
  json::parse_options any_bytes;
  any_bytes.allow_invalid_utf8 = true;
  BOOST_TEST(parsed("\"\xff\"", any_bytes).as_string() == "\xff");
  json::parse_options shallow;
  shallow.max_depth = 2;
  boost::system::error_code ec;
  (void)parse_json("[[[1]]]", ec, shallow);
  BOOST_TEST(ec == json::error::too_deep);
}

BOOST_AUTO_TEST_CASE(written_numbers_read_as_people_write_them) {
  BOOST_TEST(write_json(json::value(15000.0)) == "15000");
  BOOST_TEST(write_json(json::value(0.1)) == "0.1");
  BOOST_TEST(write_json(json::value(-2.5)) == "-2.5");
  BOOST_TEST(write_json(json::value(1e300)) == "1e+300");
  BOOST_TEST(write_json(json::value(std::int64_t{-7})) == "-7");
  BOOST_TEST(write_json(json::value(18446744073709551615ULL))
             == "18446744073709551615");
  const json::value nested{
    {"price", 15000.0}, {"tags", {"a\"b", nullptr, true, 1.25}}, {"", nullptr}};
  BOOST_TEST(write_json(nested)
             == R"({"price":15000,"tags":["a\"b",null,true,1.25],"":null})");
  BOOST_TEST(write_json(json::value(json::string("line\n\x01")))
             == json::serialize(json::value(json::string("line\n\x01"))));
  // Every finite double reads back as the same number.
  std::mt19937_64 bits{11};
  for (int i = 0; i < 20'000; ++i) {
    const auto d = std::bit_cast<double>(bits() & 0xFFEF'FFFF'FFFF'FFFFULL);
    const auto text = write_json(json::value{d, json::object{{"d", d}}});
    const auto back = parsed(text);
    BOOST_TEST_REQUIRE(back.at(0).to_number<double>() == d, text);
    BOOST_TEST_REQUIRE(back.at(1).at("d").to_number<double>() == d, text);
  }
}

BOOST_AUTO_TEST_SUITE_END()
