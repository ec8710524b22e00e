#define BOOST_TEST_MODULE signoff_notify
#include <boost/test/unit_test.hpp>
