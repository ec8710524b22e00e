#define BOOST_TEST_MODULE signoff_cluster
#include <csignal>

#include <boost/test/unit_test.hpp>

namespace {

/// A node killed while the test still writes to it must fail that write,
/// not kill the test.
struct ignore_sigpipe {
  ignore_sigpipe() {
    std::signal(SIGPIPE, SIG_IGN);
  }
};

} // namespace

BOOST_TEST_GLOBAL_FIXTURE(ignore_sigpipe);
