#define BOOST_TEST_MODULE signoff_actors
#include <boost/test/unit_test.hpp>
