#define BOOST_TEST_MODULE signoff_model
#include <boost/test/unit_test.hpp>
