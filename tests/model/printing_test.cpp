#include <sstream>
#include <string>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "signoff/model/approval.hpp"
#include "signoff/model/error.hpp"
#include "signoff/model/workflow_state.hpp"

namespace bj = boost::json;
using namespace signoff::model;

namespace {

template <class T>
std::string printed(const T& x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

/// The name a status has in the JSON (and so the HTTP) answers.
template <class T>
std::string json_name(T x) {
  return std::string{bj::value_from(x).as_string()};
}

} // namespace

BOOST_AUTO_TEST_SUITE(printing)

BOOST_AUTO_TEST_CASE(approval_states_print_their_json_names) {
  for (auto s : {approval_state::pending, approval_state::approved,
                 approval_state::edited, approval_state::rejected,
                 approval_state::expired, approval_state::cancelled})
    BOOST_TEST(printed(s) == json_name(s));
  BOOST_TEST(printed(approval_state::edited) == "edited");
}

BOOST_AUTO_TEST_CASE(run_statuses_print_their_json_names) {
  for (auto s : {run_status::running, run_status::paused, run_status::completed,
                 run_status::failed, run_status::cancelled})
    BOOST_TEST(printed(s) == json_name(s));
  BOOST_TEST(printed(run_status::paused) == "paused");
}

BOOST_AUTO_TEST_CASE(an_error_prints_its_code_and_message) {
  auto e = make_error(error_type::approval_conflict,
                      "approval 'k' is already approved by jane",
                      bj::value{{"state", "approved"}});
  BOOST_TEST(printed(e)
             == "APPROVAL_CONFLICT: approval 'k' is already "
                "approved by jane");
  BOOST_TEST(printed(make_error(error_type::not_found, "")) == "NOT_FOUND");
}

BOOST_AUTO_TEST_SUITE_END()
