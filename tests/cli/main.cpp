#define BOOST_TEST_MODULE signoff_cli
#include <boost/test/unit_test.hpp>
