#pragma once

// Boost.Test prints the operands of a failed comparison; model types print
// as their JSON form.

#include <ostream>

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
