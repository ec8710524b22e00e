#include "signoff/model/result.hpp"

#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "support/printing.hpp"

#include "signoff/model/error.hpp"

namespace json = boost::json;
namespace model = signoff::model;
using namespace signoff::model;

namespace {

result<int> parse_digit(char c) {
  if (c < '0' || c > '9')
    return make_error("NOT_A_DIGIT", std::string{"not a digit: "} + c);
  return c - '0';
}

result<void> check_positive(int n) {
  if (n <= 0)
    return make_error(error_type::invalid_argument, "must be positive");
  return ok();
}

template <class R>
R round_trip(const R& r) {
  return json::value_to<R>(json::parse(json::serialize(json::value_from(r))));
}

} // namespace

BOOST_AUTO_TEST_SUITE(result)

BOOST_AUTO_TEST_CASE(ok_construction_holds_the_value) {
  model::result<int> r = ok(42);
  BOOST_TEST(r.is_ok());
  BOOST_TEST(!r.is_err());
  BOOST_TEST(static_cast<bool>(r));
  BOOST_TEST(r.value() == 42);
  BOOST_TEST(*r == 42);

  model::result<std::string> s = ok(std::string{"hello"});
  BOOST_TEST(s->size() == 5U);
  BOOST_TEST(std::move(s).value() == "hello");
}

BOOST_AUTO_TEST_CASE(err_construction_holds_the_error) {
  model::result<int> r
    = err(make_error("OUT_OF_STOCK", "no widgets", {{"sku", "WIDGET"}}));
  BOOST_TEST(r.is_err());
  BOOST_TEST(!r.is_ok());
  BOOST_TEST(!static_cast<bool>(r));
  BOOST_TEST(r.error().type == "OUT_OF_STOCK");
  BOOST_TEST(r.error().message == "no widgets");
  BOOST_TEST(r.error().details.at("sku").as_string() == "WIDGET");
  BOOST_TEST(r.error().is("OUT_OF_STOCK"));
  BOOST_TEST(!r.error().is("NOT_FOUND"));
}

BOOST_AUTO_TEST_CASE(value_is_mutable_through_a_non_const_result) {
  model::result<std::string> r = ok(std::string{"a"});
  r.value() += "b";
  *r += "c";
  BOOST_TEST(r.value() == "abc");
}

BOOST_AUTO_TEST_CASE(default_constructed_result_is_ok_with_default_value) {
  model::result<int> r;
  BOOST_TEST(r.is_ok());
  BOOST_TEST(r.value() == 0);
}

BOOST_AUTO_TEST_CASE(value_or_returns_value_or_fallback) {
  model::result<int> good = ok(7);
  model::result<int> bad = err(make_error("X", "boom"));
  BOOST_TEST(good.value_or(-1) == 7);
  BOOST_TEST(bad.value_or(-1) == -1);
}

BOOST_AUTO_TEST_CASE(plain_value_converts_to_success) {
  model::result<std::string> s = std::string{"plain"};
  BOOST_TEST(s.is_ok());
  BOOST_TEST(s.value() == "plain");

  model::result<std::string> literal = "literal";
  BOOST_TEST(literal.is_ok());
  BOOST_TEST(literal.value() == "literal");

  auto digit = parse_digit('7');
  BOOST_REQUIRE(digit.is_ok());
  BOOST_TEST(digit.value() == 7);
}

BOOST_AUTO_TEST_CASE(plain_error_converts_to_failure) {
  auto digit = parse_digit('x');
  BOOST_REQUIRE(digit.is_err());
  BOOST_TEST(digit.error().type == "NOT_A_DIGIT");
  BOOST_TEST(digit.error().message == "not a digit: x");

  model::result<json::value> j = make_error(error_type::not_found, "gone");
  BOOST_REQUIRE(j.is_err());
  BOOST_TEST(j.error().is(error_type::not_found));
}

BOOST_AUTO_TEST_CASE(make_error_defaults_details_to_null) {
  auto e = make_error(error_type::storage_error, "disk full");
  BOOST_TEST(e.type == "STORAGE_ERROR");
  BOOST_TEST(e.message == "disk full");
  BOOST_TEST(e.details.is_null());
}

BOOST_AUTO_TEST_CASE(result_void_ok_and_err) {
  model::result<void> fine = ok();
  BOOST_TEST(fine.is_ok());
  BOOST_TEST(!fine.is_err());
  BOOST_TEST(static_cast<bool>(fine));

  model::result<void> defaulted;
  BOOST_TEST(defaulted.is_ok());

  auto bad = check_positive(-3);
  BOOST_REQUIRE(bad.is_err());
  BOOST_TEST(!static_cast<bool>(bad));
  BOOST_TEST(bad.error().type == "INVALID_ARGUMENT");
  BOOST_TEST(bad.error().message == "must be positive");
  BOOST_TEST(check_positive(3).is_ok());

  model::result<void> wrapped = err(make_error("X", "wrapped"));
  BOOST_REQUIRE(wrapped.is_err());
  BOOST_TEST(wrapped.error().message == "wrapped");
}

BOOST_AUTO_TEST_CASE(result_void_equality) {
  model::result<void> a = ok();
  model::result<void> b;
  model::result<void> e1 = make_error("X", "one");
  model::result<void> e2 = make_error("X", "one");
  model::result<void> e3 = make_error("X", "two");
  BOOST_TEST((a == b));
  BOOST_TEST((e1 == e2));
  BOOST_TEST(!(a == e1));
  BOOST_TEST(!(e1 == e3));
}

BOOST_AUTO_TEST_CASE(equality_compares_side_and_content) {
  model::result<int> a = ok(1);
  model::result<int> b = ok(1);
  model::result<int> c = ok(2);
  model::result<int> e1 = err(make_error("X", "m", {{"n", 1}}));
  model::result<int> e2 = err(make_error("X", "m", {{"n", 1}}));
  model::result<int> e3 = err(make_error("X", "m", {{"n", 2}}));
  BOOST_TEST((a == b));
  BOOST_TEST((a != c));
  BOOST_TEST((e1 == e2));
  BOOST_TEST((e1 != e3));
  BOOST_TEST((a != e1));

  // An ok holding the default value differs from an error.
  model::result<int> zero = ok(0);
  model::result<int> failed = make_error("X", "");
  BOOST_TEST((zero != failed));
}

BOOST_AUTO_TEST_CASE(error_equality_includes_details) {
  BOOST_TEST(make_error("A", "m") == make_error("A", "m"));
  BOOST_TEST(make_error("A", "m") != make_error("B", "m"));
  BOOST_TEST(make_error("A", "m") != make_error("A", "n"));
  BOOST_TEST(make_error("A", "m", 1) != make_error("A", "m", 2));
}

BOOST_AUTO_TEST_CASE(json_form_of_ok_and_err) {
  model::result<json::value> good = ok(json::value{{"orderId", "ord_1"}});
  auto jv = json::value_from(good);
  BOOST_TEST(jv.at("ok").as_bool() == true);
  BOOST_TEST(jv.at("value").at("orderId").as_string() == "ord_1");
  BOOST_TEST(jv.as_object().if_contains("error") == nullptr);

  model::result<json::value> bad
    = make_error("OUT_OF_STOCK", "none left", {{"sku", "W"}});
  auto je = json::value_from(bad);
  BOOST_TEST(je.at("ok").as_bool() == false);
  BOOST_TEST(je.at("error").at("type").as_string() == "OUT_OF_STOCK");
  BOOST_TEST(je.at("error").at("message").as_string() == "none left");
  BOOST_TEST(je.at("error").at("details").at("sku").as_string() == "W");
  BOOST_TEST(je.as_object().if_contains("value") == nullptr);
}

BOOST_AUTO_TEST_CASE(json_round_trip_of_result_json) {
  const model::result<json::value> values[] = {
    ok(json::value{{"orderId", "ord_1"}, {"total", 15000}, {"tags", {1, 2}}}),
    ok(json::value{}),
    ok(json::value("text")),
    ok(json::value(true)),
    err(make_error("OUT_OF_STOCK", "none left", {{"sku", "W"}})),
    err(make_error(error_type::approval_rejected, "too expensive")),
  };
  for (const auto& r : values) {
    auto back = round_trip(r);
    BOOST_TEST((back == r), json::serialize(json::value_from(r)));
    BOOST_TEST(back.is_ok() == r.is_ok());
  }
}

BOOST_AUTO_TEST_CASE(json_round_trip_of_result_int) {
  model::result<int> good = ok(-17);
  model::result<int> bad = make_error("X", "y");
  BOOST_TEST((round_trip(good) == good));
  BOOST_TEST((round_trip(bad) == bad));
}

BOOST_AUTO_TEST_CASE(json_malformed_result_is_refused) {
  using R = model::result<json::value>;
  BOOST_TEST(json::try_value_to<R>(json::parse("42")).has_error());
  BOOST_TEST(json::try_value_to<R>(json::parse(R"({"value": 1})")).has_error());
  BOOST_TEST(json::try_value_to<R>(json::parse(R"({"ok": "yes", "value": 1})"))
               .has_error());
  BOOST_TEST(json::try_value_to<R>(json::parse(R"({"ok": true})")).has_error());
  BOOST_TEST(
    json::try_value_to<R>(json::parse(R"({"ok": false})")).has_error());
  BOOST_TEST(json::try_value_to<R>(
               json::parse(R"({"ok": false, "error": {"message": "m"}})"))
               .has_error());
  BOOST_TEST(json::try_value_to<model::result<int>>(
               json::parse(R"({"ok": true, "value": "seven"})"))
               .has_error());
}

BOOST_AUTO_TEST_SUITE_END()
