#define BOOST_TEST_MODULE signoff_persistence
#include <boost/test/unit_test.hpp>
