// The LMDB environment around the stores: one executing process per
// directory (the execution lock), one environment per directory and
// process, a map another process grew, pooled read transactions, and
// formats older than this build's.
//
// Another process is a real one (lmdb_child, through pipes: a test blocks
// on what it says and never sleeps). The raw environment is opened with
// lmdb.h only while the stores are closed, or from the child.

#include <boost/test/unit_test.hpp>

#include "persistence/piped_child.hpp"
#include "support/must.hpp"
#include "support/raw_lmdb.hpp"
#include "support/runs.hpp"
#include "support/temp_dir.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <latch>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "signoff/model/approval.hpp"
#include "signoff/model/error.hpp"
#include "signoff/persistence/lmdb_store.hpp"

namespace {

namespace m = signoff::model;
namespace p = signoff::persistence;
namespace json = boost::json;
using signoff::test::at;
using signoff::test::close_lmdb_stores;
using signoff::test::describe;
using signoff::test::must;
using signoff::test::must_fail;
using signoff::test::piped_child;
using signoff::test::raw_lmdb;
using signoff::test::temp_dir;

constexpr std::size_t mib = std::size_t{1} << 20U;

bool mentions(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

p::lmdb_stores open_at(const p::lmdb_options& options) {
  auto opened = p::open_lmdb_stores(options);
  BOOST_TEST_REQUIRE(opened.is_ok(),
                     "open_lmdb_stores('"
                       << options.path << "') failed: "
                       << (opened.is_err() ? describe(opened.error()) : ""));
  return std::move(opened).value();
}

m::approval_spec make_spec() {
  m::approval_spec spec;
  spec.pending_reason = "needs sign-off";
  spec.metadata = json::object{{"order", "ord_1"}};
  return spec;
}

std::string our_pid() {
  return std::to_string(::getpid());
}

/// A child holding `dir` as its executing process; what it said first.
struct holder {
  explicit holder(const temp_dir& dir)
      : child({SIGNOFF_LMDB_CHILD, "hold", dir.str()}),
        said(child.read_line()) {}
  piped_child child;
  std::string said;
};

/// The reader slots this process holds in `dir`'s reader table, and how
/// many of them hold a snapshot, as another process sees them.
std::pair<int, int> reader_slots(const temp_dir& dir) {
  piped_child child{{SIGNOFF_LMDB_CHILD, "readers", dir.str(), our_pid()}};
  std::istringstream said{child.read_line()};
  std::string slots_word;
  std::string pinned_word;
  int slots = -1;
  int pinned = -1;
  said >> slots_word >> slots >> pinned_word >> pinned;
  BOOST_TEST_REQUIRE(child.wait() == 0);
  BOOST_TEST_REQUIRE(slots_word == "slots");
  return {slots, pinned};
}

} // namespace

BOOST_AUTO_TEST_SUITE(lmdb_environment)

// -- one executing process per directory -------------------------------------

BOOST_AUTO_TEST_CASE(a_second_executing_process_is_refused_naming_the_holder) {
  temp_dir dir;
  {
    holder other{dir};
    BOOST_TEST_REQUIRE(other.said
                       == "ready " + std::to_string(other.child.pid()));

    auto e = must_fail(p::open_lmdb_stores({.path = dir.str()}),
                       m::error_type::storage_error);
    BOOST_TEST(
      mentions(e.message, "process " + std::to_string(other.child.pid())),
      e.message);

    // Store-only access works beside the holder: read, decide.
    auto s = open_at({.path = dir.str(), .execution_lock = false});
    must(s.approvals->create_approval("beside", make_spec(), "run:r", at(0)));
    must(s.approvals->decide(
      m::decision::grant("beside", json::value(1), "alice"), at(1)));
    BOOST_TEST(must(s.approvals->find_approval("beside"))->status.state
               == m::approval_state::approved);
    close_lmdb_stores(s);

    // The holder dies holding it: the kernel releases its lock.
    other.child.kill();
    s = open_at({.path = dir.str()});
    BOOST_TEST(must(s.approvals->find_approval("beside")).has_value());

    // Now this process is the holder, and another is refused naming it.
    holder refused{dir};
    BOOST_TEST(refused.said.starts_with("error "), refused.said);
    BOOST_TEST(mentions(refused.said, "process " + our_pid()), refused.said);
    BOOST_TEST(refused.child.wait() == 1);
  }
}

BOOST_AUTO_TEST_CASE(a_store_only_handle_takes_the_lock_when_asked_to) {
  // The directory is open store-only in this process when an executing
  // open joins: the shared environment takes the lock then, and keeps it
  // while any handle is open.
  temp_dir dir;
  auto reader = open_at({.path = dir.str(), .execution_lock = false});
  {
    holder first{dir};
    BOOST_TEST(first.said.starts_with("ready "), first.said);
    must_fail(p::open_lmdb_stores({.path = dir.str()}),
              m::error_type::storage_error);
  }
  auto executing = open_at({.path = dir.str()});
  close_lmdb_stores(executing);
  holder refused{dir};
  BOOST_TEST(refused.said.starts_with("error "), refused.said);
  BOOST_TEST(mentions(refused.said, "process " + our_pid()), refused.said);
  close_lmdb_stores(reader);
  holder after{dir};
  BOOST_TEST(after.said.starts_with("ready "), after.said);
}

// -- one environment per directory and process -------------------------------

BOOST_AUTO_TEST_CASE(two_opens_in_one_process_share_the_environment) {
  temp_dir dir;
  auto first = open_at({.path = dir.str()});
  // Another path to the same directory.
  auto second = open_at({.path = (dir.path() / ".").string()});

  must(first.approvals->create_approval("shared", make_spec(), "run:r", at(0)));
  BOOST_TEST(must(second.approvals->find_approval("shared")).has_value());
  // One environment: one writer, one count of commits, whichever handle
  // writes, and one journal's batches read through the other's stores.
  const auto commits = first.journal->commit_count();
  must(
    second.approvals->create_approval("second", make_spec(), "run:r", at(0)));
  std::vector<p::write_batch> batches(1);
  second.journal->encode(
    p::run_change{signoff::test::paused("run", "wf", {"batched"}), true, 0, {}},
    batches[0]);
  must(first.journal->commit(batches).front());
  BOOST_TEST(first.journal->commit_count() == commits + 2);
  BOOST_TEST(second.journal->commit_count() == commits + 2);
  BOOST_TEST(must(second.runs->find_by_pending_approval("batched"))
             == (std::vector<std::string>{"run"}));

  // Another durability cannot share it.
  auto e = must_fail(
    p::open_lmdb_stores(
      {.path = dir.str(), .durability = p::lmdb_durability::no_sync}),
    m::error_type::invalid_argument);
  BOOST_TEST(mentions(e.message, "durability"), e.message);

  // Closing one handle leaves the other working, with the lock.
  close_lmdb_stores(first);
  BOOST_TEST(must(second.approvals->find_approval("shared")).has_value());
  {
    holder refused{dir};
    BOOST_TEST(refused.said.starts_with("error "), refused.said);
  }
  close_lmdb_stores(second);
  {
    holder after{dir};
    BOOST_TEST(after.said.starts_with("ready "), after.said);
  }
  // Everything was closed: LMDB opens it afresh (raw, then the stores).
  {
    raw_lmdb raw{dir.str()};
    BOOST_TEST(
      raw.get("records", signoff::test::run_record("run")).has_value());
  }
  auto again = open_at({.path = dir.str()});
  BOOST_TEST(must(again.approvals->find_approval("second")).has_value());
}

BOOST_AUTO_TEST_CASE(opens_and_closes_race_on_one_directory) {
  // Threads open, use and close one directory at once: an open never
  // overlaps the close of the environment it would have shared.
  constexpr int threads = 4;
  constexpr int rounds = 40;
  temp_dir dir;
  std::atomic<int> failures{0};
  std::mutex notes;
  std::string first_failure;
  auto failed = [&](const std::string& what) {
    if (failures++ == 0) {
      const std::lock_guard guard{notes};
      first_failure = what;
    }
  };
  {
    std::latch start{threads};
    std::vector<std::jthread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        start.arrive_and_wait();
        for (int i = 0; i < rounds; ++i) {
          auto opened = p::open_lmdb_stores(
            {.path = dir.str(), .durability = p::lmdb_durability::no_sync});
          if (opened.is_err()) {
            failed(describe(opened.error()));
            continue;
          }
          const auto key = std::to_string(t) + "-" + std::to_string(i);
          auto made = opened->approvals->create_approval(key, make_spec(),
                                                         "run:r", at(0));
          auto found = opened->approvals->find_approval(key);
          if (made.is_err() || found.is_err() || !found.value())
            failed("the write or read of " + key);
        }
      });
  }
  BOOST_TEST(failures == 0, first_failure);
  auto s
    = open_at({.path = dir.str(), .durability = p::lmdb_durability::no_sync});
  int missing = 0;
  for (int t = 0; t < threads; ++t)
    for (int i = 0; i < rounds; ++i)
      if (!must(s.approvals->find_approval(std::to_string(t) + "-"
                                           + std::to_string(i))))
        ++missing;
  BOOST_TEST(missing == 0);
}

// -- a map another process grew ----------------------------------------------

namespace {

/// This process reads and writes from several threads while a child,
/// store-only, writes 8 MiB into a map both started at 1 MiB.
void read_and_write_while_a_child_grows_the_map() {
  constexpr int writers = 2;
  constexpr int readers = 3;
  constexpr int seeded = 50;
  temp_dir dir;
  auto s = open_at({.path = dir.str(),
                    .map_size = mib,
                    .max_map_size = 1024 * mib,
                    .durability = p::lmdb_durability::no_sync});
  const auto spec = make_spec();
  for (int i = 0; i < seeded; ++i)
    must(s.approvals->create_approval("seed-" + std::to_string(i), spec,
                                      "run:s", at(0)));
  std::atomic<bool> child_done{false};
  std::atomic<int> errors{0};
  std::mutex notes;
  std::string first_error;
  auto note = [&](const std::string& what) {
    if (errors++ == 0) {
      const std::lock_guard guard{notes};
      first_error = what;
    }
  };
  std::vector<int> written(writers, 0);
  std::vector<int> reads(readers, 0);
  std::string said;
  {
    piped_child child{{SIGNOFF_LMDB_CHILD, "grow", dir.str(), "8"}};
    BOOST_TEST_REQUIRE(child.started());
    {
      std::vector<std::jthread> pool;
      for (int w = 0; w < writers; ++w)
        pool.emplace_back([&, w] {
          auto& count = written[static_cast<std::size_t>(w)];
          while (!child_done) {
            const auto key
              = "parent-" + std::to_string(w) + "-" + std::to_string(count);
            if (auto made
                = s.approvals->create_approval(key, spec, "run:p", at(0));
                made.is_err())
              note(describe(made.error()));
            ++count;
          }
        });
      for (int r = 0; r < readers; ++r)
        pool.emplace_back([&, r] {
          auto& count = reads[static_cast<std::size_t>(r)];
          for (; !child_done; ++count) {
            const auto key = "seed-" + std::to_string((count + r) % seeded);
            auto found = s.approvals->find_approval(key);
            if (found.is_err())
              note(describe(found.error()));
            else if (!found.value() || found.value()->spec != spec)
              note(key + " read wrong");
            if (count % 16 != 0)
              continue;
            // A long read: the child's keys so far, one by one.
            if (auto listed = s.approvals->list_pending("child-", at(1), 2048);
                listed.is_err())
              note(describe(listed.error()));
          }
        });
      said = child.read_line();
      child_done = true;
    }
    BOOST_TEST_REQUIRE(child.wait() == 0, said);
  }
  BOOST_TEST_REQUIRE(said == "done 2048");
  BOOST_TEST(errors == 0, first_error);
  for (const int count : reads)
    BOOST_TEST_MESSAGE("a reader read " << count << " times");

  // The child's records lie past the map this process started with.
  int wrong = 0;
  for (int i = 0; i < 2048; ++i) {
    auto found = must(s.approvals->find_approval("child-" + std::to_string(i)));
    if (!found
        || found->spec.metadata
             != json::value(json::object{{"pad", std::string(4096, 'c')}}))
      ++wrong;
  }
  BOOST_TEST(wrong == 0);
  for (int w = 0; w < writers; ++w)
    for (int i = 0; i < written[static_cast<std::size_t>(w)]; ++i)
      if (!must(s.approvals->find_approval("parent-" + std::to_string(w) + "-"
                                           + std::to_string(i))))
        ++wrong;
  BOOST_TEST(wrong == 0);
}

} // namespace

BOOST_AUTO_TEST_CASE(map_grown_by_another_process_is_adopted_by_every_thread) {
  // Every thread must map the grown size before it can read the newest
  // pages, and LMDB allows that only while no transaction of the process
  // is open. Mapping it while others read made a round crash one time in
  // two or three (the old pages unmapped under a reader): three rounds.
  for (int round = 0; round < 3; ++round) {
    BOOST_TEST_CONTEXT("round " << round) {
      read_and_write_while_a_child_grows_the_map();
    }
  }
}

// -- pooled read transactions -----------------------------------------------

BOOST_AUTO_TEST_CASE(reads_reuse_their_reader_slots) {
  // A read takes a reset transaction from the pool and renews it: the
  // reader slots stay those of the most reads ever run at once, and none
  // holds a snapshot (which would pin pages) between reads.
  constexpr int threads = 4;
  temp_dir dir;
  auto s = open_at({.path = dir.str()});
  must(s.approvals->create_approval("k", make_spec(), "run:r", at(0)));

  for (const int reads : {1, 10'000}) {
    for (int i = 0; i < reads; ++i)
      must(s.approvals->find_approval("k"));
    const auto [slots, pinned] = reader_slots(dir);
    BOOST_TEST(slots == 1, "after " << reads << " reads one at a time");
    BOOST_TEST(pinned == 0);
  }

  for (int round = 0; round < 2; ++round) {
    std::atomic<int> failures{0};
    {
      std::latch start{threads};
      std::vector<std::jthread> pool;
      for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
          start.arrive_and_wait();
          for (int i = 0; i < 2'000; ++i)
            if (auto found = s.approvals->find_approval("k");
                found.is_err() || !found.value())
              ++failures;
        });
    }
    BOOST_TEST(failures == 0);
    const auto [slots, pinned] = reader_slots(dir);
    BOOST_TEST(slots >= 1);
    BOOST_TEST(slots <= threads);
    BOOST_TEST(pinned == 0);
  }
}

// -- formats -----------------------------------------------------------------

/// A directory as signoff wrote it in format 1: an approval decided with
/// its trail and the length kept apart, and a run paused on another with
/// its checkpoints, input and metadata inside its record.
void write_format_1(const temp_dir& dir) {
  {
    auto empty = open_at({.path = dir.str()}); // creates the databases
    close_lmdb_stores(empty);
  }
  raw_lmdb raw{dir.str()};
  raw.put("meta", "format", "1");
  const auto be64 = [](std::uint64_t n) {
    std::string out(8, '\0');
    for (int i = 7; i >= 0; --i, n >>= 8U)
      out[static_cast<std::size_t>(i)] = static_cast<char>(n & 0xFFU);
    return out;
  };
  raw.put(
    "approvals", "k",
    R"({"version":1,"key":"k","status":{"status":"approved","value":7,)"
    R"("decidedBy":"alice","decidedAt":1700000000001,"reason":""},)"
    R"("pendingReason":"needs sign-off","metadata":null,"expiresAt":null,)"
    R"("quorum":1,"createdAt":1700000000000,"grants":[{"approver":)"
    R"("alice","at":1700000000001,"value":7,"edited":false}]})");
  raw.put("audit", "k" + be64(1),
          R"({"key":"k","sequence":1,"action":"created","actor":"run:r",)"
          R"("at":1700000000000,"reason":"needs sign-off","value":null})");
  raw.put("audit", "k" + be64(2),
          R"({"key":"k","sequence":2,"action":"approved","actor":"alice",)"
          R"("at":1700000000001,"reason":"","value":7})");
  raw.put("audit_length", "k", be64(2));
  raw.put("approvals", "open",
          R"({"version":1,"key":"open","status":{"status":"pending"},)"
          R"("pendingReason":"","metadata":null,"expiresAt":null,"quorum":1,)"
          R"("createdAt":1700000000000,"grants":[]})");
  raw.put("audit", "open" + be64(1),
          R"({"key":"open","sequence":1,"action":"created","actor":"run:r",)"
          R"("at":1700000000000,"reason":"","value":null})");
  raw.put("audit_length", "open", be64(1));
  raw.put("pending", "open", "");
  raw.put("runs", "r",
          R"({"version":1,"runId":"r","workflowName":"wf","status":"paused",)"
          R"("resumeState":{"k":{"ok":true,"value":7},"step":{"ok":true,)"
          R"("value":{"n":1}}},"pendingApprovals":["open"],"approvalKeys":)"
          R"(["k","open"],"pendingReason":"","input":{"order":"o1"},)"
          R"("metadata":{"by":"me"},"startedAt":1700000000000,"updatedAt":)"
          R"(1700000000002,"result":null})");
  raw.put("runs_by_pending", "open", "r");
  raw.put("paused_by_name", "wf", "r");
}

BOOST_AUTO_TEST_CASE(older_format_is_told_apart_and_migrated_on_request) {
  temp_dir dir;
  write_format_1(dir);
  signoff::test::lmdb_dump before;
  {
    raw_lmdb raw{dir.str()};
    before = raw.dump();
  }
  for (const bool execution_lock : {true, false}) {
    auto e = must_fail(p::open_lmdb_stores(
                         {.path = dir.str(), .execution_lock = execution_lock}),
                       m::error_type::storage_error);
    BOOST_TEST(mentions(e.message, "older signoff, format 1"), e.message);
    BOOST_TEST(mentions(e.message, "migrate"), e.message);
    BOOST_TEST(!mentions(e.message, "newer"), e.message);
  }
  {
    // The refusals changed nothing.
    raw_lmdb raw{dir.str()};
    BOOST_TEST(signoff::test::first_difference(before, raw.dump()).empty());
  }

  // With migrate, format 1 becomes format 4 at open, in the transaction
  // that writes the new format: approvals carry their revision, a run's
  // checkpoints become its log, decided approvals are indexed by when, and
  // each approval's or run's records move side by side into `records`.
  {
    auto s = open_at({.path = dir.str(), .migrate = true});
    auto record = must(s.approvals->find_approval("k"));
    BOOST_TEST_REQUIRE(record.has_value());
    BOOST_TEST(record->status.value == json::value(7));
    BOOST_TEST(record->revision == 2u);
    BOOST_TEST(must(s.approvals->audit_trail("k")).size() == 2u);
    BOOST_TEST(must(s.approvals->find_approval("open"))->revision == 1u);
    auto run = must(s.runs->load("r"));
    BOOST_TEST_REQUIRE(run.has_value());
    BOOST_TEST(run->checkpoints.size() == 2u);
    BOOST_TEST(run->checkpoints.at("step").value() == json::value({{"n", 1}}));
    BOOST_TEST(run->input == json::value({{"order", "o1"}}));
    BOOST_TEST(run->metadata == json::value({{"by", "me"}}));
    BOOST_TEST(must(s.runs->find_by_pending_approval("open"))
               == (std::vector<std::string>{"r"}));
    // Format 3 indexed the approval decided before by when.
    BOOST_TEST(must(s.approvals->list_decided(m::from_millis(0), 10))
               == (std::vector<std::string>{"k"}));
    // And it goes on in format 4: a decision appends to the trail, and is
    // listed as the most recent.
    must(s.approvals->decide(m::decision::reject("open", "no", "bob"), at(5)));
    BOOST_TEST(must(s.approvals->audit_trail("open")).size() == 2u);
    BOOST_TEST(must(s.approvals->list_decided(m::from_millis(0), 10))
               == (std::vector<std::string>{"open", "k"}));
    close_lmdb_stores(s);
  }
  {
    raw_lmdb raw{dir.str()};
    BOOST_TEST(raw.get("meta", "format").value_or("<missing>") == "4");
    const auto after = raw.dump();
    for (const auto* gone : {"approvals", "audit", "audit_length", "runs",
                             "run_inputs", "checkpoints"})
      BOOST_TEST(!after.contains(gone), gone << " is left");
    const auto& records = after.at("records");
    const auto holds = [&](const std::string& key) {
      return std::any_of(records.begin(), records.end(),
                         [&](const auto& r) { return r.first == key; });
    };
    BOOST_TEST(holds(signoff::test::approval_record("k")));
    BOOST_TEST(holds(signoff::test::audit_record("k", 2)));
    BOOST_TEST(holds(signoff::test::audit_record("open", 2)));
    BOOST_TEST(holds(signoff::test::run_record("r")));
  }
  // From then on it opens without migrate.
  auto s = open_at({.path = dir.str()});
  BOOST_TEST(must(s.approvals->find_approval("k")).has_value());
  close_lmdb_stores(s);

  // A format no signoff writes is refused by name.
  for (const std::string format : {"1x", "0"}) {
    {
      raw_lmdb raw{dir.str()};
      raw.put("meta", "format", format);
    }
    auto e
      = must_fail(p::open_lmdb_stores({.path = dir.str(), .migrate = true}),
                  m::error_type::storage_error);
    BOOST_TEST(mentions(e.message, "'" + format + "'"), e.message);
  }
}

/// Takes a directory of this build apart into format 3's databases and
/// keys, as the build before it wrote them: approvals under their key,
/// audit entries under the key and the sequence, a run's header and input
/// under its id, its checkpoints under the id's length, the id and the
/// number.
void rewrite_as_format_3(const temp_dir& dir) {
  raw_lmdb raw{dir.str()};
  const auto written = raw.dump();
  for (const auto& [key, value] : written.at("records")) {
    raw.del("records", key);
    const std::string_view k{key};
    if (k.front() == 'a') {
      const std::size_t length
        = (std::size_t{static_cast<unsigned char>(k[1])} << 8U)
          | static_cast<unsigned char>(k[2]);
      const auto name = std::string{k.substr(3, length)};
      const auto rest = k.substr(4 + length);
      if (k[3 + length] == 'r')
        raw.put("approvals", name, value);
      else
        raw.put("audit", name + std::string{rest}, value);
      continue;
    }
    const std::size_t length = static_cast<unsigned char>(k[1]);
    const auto id = std::string{k.substr(2, length)};
    const auto part = k[2 + length];
    if (part == 'h')
      raw.put("runs", id, value);
    else if (part == 'i')
      raw.put("run_inputs", id, value);
    else
      raw.put("checkpoints",
              std::string(1, k[1]) + id + std::string{k.substr(3 + length)},
              value);
  }
  raw.put("meta", "format", "3");
}

BOOST_AUTO_TEST_CASE(format_3_is_migrated_into_records) {
  temp_dir dir;
  auto run = signoff::test::paused("r", "wf", {"open"});
  run.checkpoints["fetch"] = m::ok(json::value(1));
  run.checkpoints["check"] = m::ok(json::value({{"ok", true}}));
  m::approval_record decided;
  m::approval_record open;
  {
    auto s = open_at({.path = dir.str()});
    must(s.approvals->create_approval("k", make_spec(), "run:r", at(0)));
    must(s.approvals->decide(m::decision::grant("k", 7, "alice"), at(1)));
    must(s.approvals->create_approval("open", make_spec(), "run:r", at(0)));
    must(s.runs->save(run));
    decided = must(s.approvals->find_approval("k")).value();
    open = must(s.approvals->find_approval("open")).value();
    close_lmdb_stores(s);
  }
  rewrite_as_format_3(dir);

  auto e = must_fail(p::open_lmdb_stores({.path = dir.str()}),
                     m::error_type::storage_error);
  BOOST_TEST(mentions(e.message, "older signoff, format 3"), e.message);
  {
    auto s = open_at({.path = dir.str(), .migrate = true});
    BOOST_TEST(*must(s.approvals->find_approval("k")) == decided);
    BOOST_TEST(*must(s.approvals->find_approval("open")) == open);
    BOOST_TEST(must(s.approvals->audit_trail("k")).size() == 2u);
    BOOST_TEST(*must(s.runs->load("r")) == run);
    BOOST_TEST(must(s.runs->find_by_pending_approval("open"))
               == (std::vector<std::string>{"r"}));
    BOOST_TEST(must(s.approvals->list_decided(m::from_millis(0), 10))
               == (std::vector<std::string>{"k"}));
    close_lmdb_stores(s);
  }
  raw_lmdb raw{dir.str()};
  BOOST_TEST(raw.get("meta", "format").value_or("<missing>") == "4");
  const auto after = raw.dump();
  for (const auto* gone :
       {"approvals", "audit", "runs", "run_inputs", "checkpoints"})
    BOOST_TEST(!after.contains(gone), gone << " is left");
  // Two approvals with three audit entries, and a run with its input and
  // two checkpoints: everything moved, nothing else.
  BOOST_TEST(after.at("records").size() == 9u);
}

// A record of an older format that cannot be moved stops the migration
// with its reason, and the directory stays as it was, still refused.
BOOST_AUTO_TEST_CASE(a_migration_that_fails_changes_nothing) {
  temp_dir dir;
  write_format_1(dir);
  signoff::test::lmdb_dump before;
  {
    raw_lmdb raw{dir.str()};
    raw.put("audit", "short", "{}"); // no room for an entry's sequence
    before = raw.dump();
  }
  auto e = must_fail(p::open_lmdb_stores({.path = dir.str(), .migrate = true}),
                     m::error_type::storage_error);
  BOOST_TEST(mentions(e.message, "from format 3 to 4"), e.message);
  BOOST_TEST(mentions(e.message, "audit"), e.message);
  raw_lmdb raw{dir.str()};
  BOOST_TEST(signoff::test::first_difference(before, raw.dump()).empty());
}

BOOST_AUTO_TEST_SUITE_END()
