// `sync` syncs: a SIGKILL keeps the page cache, so crash tests pass with
// `no_sync` too. Here a child process makes acknowledged writes through the
// stores with the sync-counting shim preloaded (sync_counter.cpp), which
// logs every sync call into the file where the child logs each
// acknowledgement. Every acknowledged write must follow a sync of the data
// file (and, with `sync`, of its meta page) made after the previous
// acknowledgement; `no_sync` makes none.

#include <boost/test/unit_test.hpp>

#include "persistence/piped_child.hpp"
#include "support/temp_dir.hpp"

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

using signoff::test::piped_child;
using signoff::test::temp_dir;

/// What one acknowledged write followed since the previous one.
struct acknowledged {
  std::string what;
  int data_syncs = 0;
  int meta_syncs = 0;
};

/// The child's log, read back.
struct sync_log {
  /// Acknowledgements after the stores opened, in order.
  std::vector<acknowledged> acks;
  /// Syncs of data.mdb anywhere in the log, opening included.
  int all_syncs = 0;
  /// Whether the shim was loaded (else counting nothing proves nothing).
  bool counted = false;
};

/// Runs the child's durable writes with `mode` under the shim.
sync_log durable_writes(const std::string& mode) {
  temp_dir dir;
  const auto log = (dir.path() / "sync.log").string();
  // The shim comes before ASan's runtime in the preload order, which ASan
  // checks by default.
  std::string asan = "verify_asan_link_order=0";
  if (const char* given = std::getenv("ASAN_OPTIONS"))
    asan = std::string{given} + ":" + asan;
  piped_child child{
    {SIGNOFF_LMDB_CHILD, "durable", (dir.path() / "db").string(), mode, log},
    {"LD_PRELOAD=" SIGNOFF_SYNC_COUNTER, "SIGNOFF_SYNC_LOG=" + log,
     "ASAN_OPTIONS=" + asan}};
  const auto said = child.read_line();
  BOOST_TEST_REQUIRE(child.wait() == 0, mode << ": " << said);

  sync_log out;
  std::ifstream in{log};
  bool opened = false;
  acknowledged next;
  for (std::string line; std::getline(in, line);) {
    if (line == "sync-counter loaded") {
      out.counted = true;
    } else if (line == "opened") {
      opened = true;
      next = {};
    } else if (line.starts_with("ack ")) {
      BOOST_TEST_REQUIRE(opened, "an acknowledgement before the open");
      next.what = line.substr(4);
      out.acks.push_back(next);
      next = {};
    } else if (line.starts_with("sync ") && line.ends_with("/data.mdb")) {
      ++out.all_syncs;
      // "sync pwrite": a write through the O_DSYNC descriptor, LMDB's meta
      // page; any other call syncs the data written before it.
      if (line.starts_with("sync pwrite "))
        ++next.meta_syncs;
      else
        ++next.data_syncs;
    }
  }
  BOOST_TEST_REQUIRE(out.counted, "the shim was not loaded");
  // create, decide, save, append and a group commit, five rounds.
  BOOST_TEST_REQUIRE(out.acks.size() == 25u, mode);
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(lmdb_sync)

BOOST_AUTO_TEST_CASE(sync_syncs_data_and_meta_before_each_acknowledgement) {
  const auto log = durable_writes("sync");
  for (const auto& ack : log.acks) {
    BOOST_TEST(ack.data_syncs >= 1, ack.what << " without a data sync");
    BOOST_TEST(ack.meta_syncs >= 1, ack.what << " without a meta page sync");
  }
}

BOOST_AUTO_TEST_CASE(no_meta_sync_syncs_data_before_each_acknowledgement) {
  const auto log = durable_writes("no_meta_sync");
  for (const auto& ack : log.acks) {
    BOOST_TEST(ack.data_syncs >= 1, ack.what << " without a data sync");
    BOOST_TEST(ack.meta_syncs == 0, ack.what << " synced the meta page");
  }
}

BOOST_AUTO_TEST_CASE(no_sync_makes_no_sync_call) {
  const auto log = durable_writes("no_sync");
  BOOST_TEST(log.all_syncs == 0);
}

BOOST_AUTO_TEST_SUITE_END()
