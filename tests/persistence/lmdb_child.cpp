// The process the LMDB environment suites start beside themselves, one
// role per run:
//
//   lmdb_child hold DIR              opens DIR as the executing process,
//                                    says "ready PID" (or "error MESSAGE")
//                                    and holds it until its input closes
//   lmdb_child grow DIR MIB          writes MIB MiB of approvals into DIR,
//                                    store-only and unsynced, growing the
//                                    map; says "done COUNT"
//   lmdb_child readers DIR PID       says "slots N pinned M": the reader
//                                    slots PID holds in DIR's reader table,
//                                    and how many of them hold a snapshot
//   lmdb_child durable DIR MODE LOG  makes acknowledged writes into DIR with
//                                    durability MODE (sync, no_meta_sync,
//                                    no_sync), appending "ack WHAT" to LOG
//                                    after each (the sync-counting shim
//                                    appends its lines to the same file)
//
// Exit code 0 when the role was played, 1 when it failed, 2 on bad usage.

#include <algorithm>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <lmdb.h>

#include "signoff/model/approval.hpp"
#include "signoff/model/time.hpp"
#include "signoff/model/workflow_state.hpp"
#include "signoff/persistence/lmdb_store.hpp"
#include "support/runs.hpp"

namespace {

namespace m = signoff::model;
namespace p = signoff::persistence;

using signoff::test::at;

/// An approval spec padded with `bytes` bytes of metadata.
m::approval_spec padded_spec(std::size_t bytes) {
  m::approval_spec spec;
  spec.pending_reason = "written by lmdb_child";
  spec.metadata = boost::json::object{{"pad", std::string(bytes, 'c')}};
  return spec;
}

int fail(const std::string& what) {
  std::cout << "error " << what << std::endl;
  return 1;
}

int hold(const std::string& dir) {
  auto stores = p::open_lmdb_stores({.path = dir});
  if (stores.is_err())
    return fail(stores.error().message);
  std::cout << "ready " << ::getpid() << std::endl;
  // Until the test closes our input (or dies, which closes it too).
  std::string ignored;
  while (std::getline(std::cin, ignored)) {
  }
  return 0;
}

int grow(const std::string& dir, int mib) {
  auto stores = p::open_lmdb_stores({.path = dir,
                                     .map_size = std::size_t{1} << 20U,
                                     .durability = p::lmdb_durability::no_sync,
                                     .execution_lock = false});
  if (stores.is_err())
    return fail(stores.error().message);
  const auto spec = padded_spec(4096);
  const int count = mib * 256;
  for (int i = 0; i < count; ++i)
    if (auto made = stores->approvals->create_approval(
          "child-" + std::to_string(i), spec, "run:child", at(i));
        made.is_err())
      return fail(made.error().message);
  std::cout << "done " << count << std::endl;
  return 0;
}

int readers(const std::string& dir, const std::string& pid) {
  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc == MDB_SUCCESS)
    rc = mdb_env_open(env, dir.c_str(), MDB_RDONLY, 0644);
  if (rc != MDB_SUCCESS) {
    mdb_env_close(env);
    return fail(mdb_strerror(rc));
  }
  struct count {
    std::string pid;
    int slots = 0;
    int pinned = 0;
  } seen{pid};
  // Lines: pid, thread, and the snapshot's transaction id or "-".
  mdb_reader_list(
    env,
    [](const char* line, void* context) {
      auto& c = *static_cast<count*>(context);
      std::istringstream in{line};
      std::string owner;
      std::string thread;
      std::string txnid;
      if (in >> owner >> thread >> txnid && owner == c.pid) {
        ++c.slots;
        c.pinned += txnid == "-" ? 0 : 1;
      }
      return 0;
    },
    &seen);
  mdb_env_close(env);
  std::cout << "slots " << seen.slots << " pinned " << seen.pinned << std::endl;
  return 0;
}

int durable(const std::string& dir, const std::string& mode,
            const std::string& log) {
  p::lmdb_durability durability = p::lmdb_durability::sync;
  if (mode == "no_meta_sync")
    durability = p::lmdb_durability::no_meta_sync;
  else if (mode == "no_sync")
    durability = p::lmdb_durability::no_sync;
  else if (mode != "sync")
    return fail("unknown durability " + mode);
  // Appends, like the shim, so the lines keep the order of the calls.
  const int out = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (out < 0)
    return fail("cannot open " + log);
  auto say = [out](const std::string& line) {
    const auto text = line + "\n";
    return ::write(out, text.data(), text.size())
           == static_cast<ssize_t>(text.size());
  };
  auto stores = p::open_lmdb_stores({.path = dir, .durability = durability});
  if (stores.is_err())
    return fail(stores.error().message);
  say("opened");
  auto& approvals = *stores->approvals;
  // Each call is acknowledged (returns ok) only once committed, and each
  // writes something new: a commit with nothing to write syncs nothing.
  const std::vector<std::pair<std::string, std::function<bool(int)>>> writes{
    {"create",
     [&](int round) {
       return approvals
         .create_approval("k-" + std::to_string(round), padded_spec(64),
                          "run:r", at(round))
         .is_ok();
     }},
    {"decide",
     [&](int round) {
       return approvals
         .decide(m::decision::grant("k-" + std::to_string(round),
                                    boost::json::value(round), "alice"),
                 at(round))
         .is_ok();
     }},
    {"save",
     [&](int round) {
       return stores->runs
         ->save(signoff::test::paused("r-" + std::to_string(round), "wf",
                                      {"k-" + std::to_string(round)}))
         .is_ok();
     }},
    {"append",
     [&](int round) {
       return stores->notifications
         ->append(boost::json::value{{"round", round}}, at(round))
         .is_ok();
     }},
    {"group",
     [&](int round) {
       // What the orchestrator's writer does: owners' batches, one commit.
       std::vector<p::write_batch> batches(3);
       for (int i = 0; i < 3; ++i) {
         auto t = m::create_approval("g-" + std::to_string(round) + "-"
                                       + std::to_string(i),
                                     padded_spec(64), "run:g", at(round));
         if (t.is_err())
           return false;
         stores->journal->encode(p::make_approval_change(std::nullopt,
                                                         std::move(t.value()),
                                                         at(round)),
                                 batches[i]);
       }
       auto results = stores->journal->commit(batches);
       return std::all_of(results.begin(), results.end(),
                          [](const auto& r) { return r.is_ok(); });
     }},
  };
  for (int round = 0; round < 5; ++round)
    for (const auto& [what, write] : writes) {
      if (!write(round))
        return fail(what + " failed");
      if (!say("ack " + what))
        return fail("cannot write " + log);
    }
  ::close(out);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv, argv + argc);
  if (args.size() == 3 && args[1] == "hold")
    return hold(args[2]);
  if (args.size() == 4 && args[1] == "grow")
    return grow(args[2], std::atoi(args[3].c_str()));
  if (args.size() == 4 && args[1] == "readers")
    return readers(args[2], args[3]);
  if (args.size() == 5 && args[1] == "durable")
    return durable(args[2], args[3], args[4]);
  std::cerr << "usage: lmdb_child hold DIR | grow DIR MIB | readers DIR PID"
               " | durable DIR MODE LOG\n";
  return 2;
}
