#pragma once

// Unwrapping results in tests: a failed requirement names the error.

#include <string>
#include <string_view>
#include <utility>

#include <boost/test/unit_test.hpp>

#include "signoff/model/result.hpp"

namespace signoff::test {

inline std::string describe(const model::error& e) {
  return e.type + ": " + e.message;
}

/// The value of an ok result; fails the test case otherwise.
template <class T>
T must(model::result<T> r) {
  BOOST_TEST_REQUIRE(r.is_ok(), "unexpected error "
                                  << (r.is_err() ? describe(r.error()) : ""));
  return std::move(r).value();
}

inline void must(const model::result<void>& r) {
  BOOST_TEST_REQUIRE(r.is_ok(), "unexpected error "
                                  << (r.is_err() ? describe(r.error()) : ""));
}

/// The error of a failed result, which must carry `code`.
template <class T>
model::error must_fail(const model::result<T>& r, std::string_view code) {
  BOOST_TEST_REQUIRE(r.is_err(), "expected error " << code);
  BOOST_TEST(r.error().type == code, describe(r.error()));
  return r.error();
}

} // namespace signoff::test
