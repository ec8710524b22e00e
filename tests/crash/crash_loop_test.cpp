// The crash loop: a worker process serving orders on an LMDB directory is
// killed with SIGKILL at random moments and restarted, again and again,
// while this process decides their approvals through the worker's HTTP
// endpoint and through the `signoff` CLI on the directory (also while no
// worker runs). In the end every run must have finished, every
// acknowledged decision must be in the audit trail and have decided its
// run's branch, no checkpointed step may have run again, and no run may
// have executed in two actors at once.
//
// SIGNOFF_CRASH_ORDERS (default 1000) and SIGNOFF_CRASH_KILLS (default 12)
// size it; scripts/reliability.sh runs the full version.

#define BOOST_TEST_MODULE signoff_crash
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <thread>

#include "crash/crash_driver.hpp"
#include "signoff/persistence/lmdb_store.hpp"
#include "support/temp_dir.hpp"

using namespace signoff;
using namespace signoff::test::crash;
using namespace std::chrono_literals;

namespace {

/// Decides approvals until told to stop: through HTTP while a worker
/// serves, through the CLI on the directory at any time.
class decider {
public:
  decider(const test::temp_dir& dir, decision_log& log, unsigned seed)
      : dir_(dir), log_(log), rng_(seed) {}

  /// One round: a few pending keys (as the worker or the store lists
  /// them), each decided through a channel picked at random.
  /// Each decision tried takes one from `budget`; none is tried at 0.
  void round(std::uint16_t port, std::atomic<int>& budget) {
    auto keys = port != 0
                  ? pending_keys(port).value_or(std::vector<std::string>{})
                  : cli_pending();
    std::shuffle(keys.begin(), keys.end(), rng_);
    keys.resize(std::min<std::size_t>(keys.size(), 8));
    for (const auto& key : keys) {
      if (budget.fetch_sub(1) <= 0)
        return;
      const bool reject = std::uniform_int_distribution{0, 3}(rng_) == 0;
      const bool through_cli
        = port == 0 || std::uniform_int_distribution{0, 2}(rng_) == 0;
      if (through_cli)
        decide_with_cli(key, reject);
      else
        decide_with_http(port, key, reject);
    }
  }

private:
  void decide_with_http(std::uint16_t port, const std::string& key,
                        bool reject) {
    if (auto status = decide_over_http(port, key, reject, log_);
        !booked(status))
      log_.surprise("HTTP " + std::to_string(status) + " for " + key);
  }

  void decide_with_cli(const std::string& key, bool reject) {
    std::vector<std::string> args{SIGNOFF_CLI, "--db", db()};
    if (reject)
      args.insert(args.end(), {"reject", key, "--reason", "refused by cli"});
    else
      args.insert(args.end(),
                  {"approve", key, "--value", R"({"channel":"cli"})"});
    args.insert(args.end(), {"--by", "cli"});
    // Its refusals ("already decided") are expected: not on our stderr.
    test::child_process cli{args, "/dev/null", "/dev/null"};
    switch (cli.wait(std::chrono::minutes{1})) {
      case 0:
        log_.ack({key, reject ? "rejected" : "approved", "cli"}, "cli acked");
        break;
      case 1:
        log_.count("cli refused (already decided)");
        break;
      default:
        log_.surprise("signoff CLI failed for " + key);
    }
  }

  std::vector<std::string> cli_pending() {
    const auto out = (dir_.path() / "pending.json").string();
    test::child_process cli{
      {SIGNOFF_CLI, "--db", db(), "--json", "pending", "--prefix", "approval:"},
      out,
      "/dev/null"};
    std::vector<std::string> keys;
    if (cli.wait(std::chrono::minutes{1}) == 0) {
      std::ifstream in{out};
      std::stringstream text;
      text << in.rdbuf();
      boost::system::error_code ec;
      auto json = boost::json::parse(text.str(), ec);
      if (!ec && json.is_object() && json.as_object().contains("approvals"))
        for (const auto& k : json.at("approvals").as_array())
          keys.emplace_back(k.at("key").as_string());
    }
    std::filesystem::remove(out);
    return keys;
  }

  [[nodiscard]] std::string db() const {
    return (dir_.path() / "db").string();
  }

  const test::temp_dir& dir_;
  decision_log& log_;
  std::mt19937 rng_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(crash_loop)

BOOST_AUTO_TEST_CASE(kills_lose_nothing_acknowledged_and_repeat_no_step) {
  const auto size = size_from_env("SIGNOFF_CRASH", 1000, 12, "crash loop");
  const int orders = size.orders;
  const int kills = size.kills;
  const unsigned seed = size.seed;
  test::temp_dir dir;
  decision_log decisions;
  std::mt19937 rng{seed};
  // Several deciders pick from the same pending list, so some decisions
  // race each other across channels and only one may be acknowledged.
  constexpr unsigned decider_count = 3;
  std::vector<decider> deciders;
  for (unsigned d = 0; d < decider_count; ++d)
    deciders.emplace_back(dir, decisions, seed + 1 + d);
  // Decisions a generation may try, so the work spreads over every
  // generation instead of being done before most of the kills.
  const int per_generation = std::max(8, 3 * orders / std::max(kills, 1));

  // Each generation lives a random while, the deciders working on it from
  // every thread, and is killed while they still work.
  for (int generation = 0; generation < kills; ++generation) {
    worker w{dir.path(), orders, generation};
    const auto lifetime
      = std::chrono::milliseconds{std::uniform_int_distribution{50, 1500}(rng)};
    std::atomic<int> budget{per_generation};
    std::atomic<bool> stop{false};
    std::mutex port_mutex;
    {
      std::vector<std::jthread> threads;
      for (auto& d : deciders)
        threads.emplace_back([&] {
          while (!stop) {
            if (budget <= 0) {
              std::this_thread::sleep_for(5ms);
              continue;
            }
            std::uint16_t port = 0;
            {
              std::lock_guard lock{port_mutex};
              port = w.port();
            }
            d.round(port, budget);
          }
        });
      std::this_thread::sleep_for(lifetime);
      w.kill();
      stop = true;
    }
    // Between generations, decisions only the CLI can make.
    if (generation % 3 == 0) {
      std::atomic<int> cli_budget{8};
      deciders.front().round(0, cli_budget);
    }
  }

  // The last generation is left to finish every run, then killed too.
  {
    worker last{dir.path(), orders, kills};
    const auto deadline = std::chrono::steady_clock::now() + 10min;
    std::atomic<int> unlimited{std::numeric_limits<int>::max()};
    while (!all_finished(
      last.port(), [&](int) { return last.port(); }, orders)) {
      BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                            "runs still unfinished after 10 minutes");
      deciders.front().round(last.port(), unlimited);
      std::this_thread::sleep_for(50ms);
    }
    last.kill();
  }

  auto stores
    = persistence::open_lmdb_stores({.path = (dir.path() / "db").string()});
  BOOST_REQUIRE(stores.is_ok());
  crash_records records{
    .orders = orders,
    .runs_of
    = [&](int) -> persistence::workflow_state_store& { return *stores->runs; },
    .node_of = [](int) { return std::string{}; },
    .approvals_of = [&](const std::string&) -> persistence::approval_store& {
      return *stores->approvals;
    },
    .effects = {}};
  read_effects(dir.path(), "", records.effects);
  check_invariants(records, decisions, "crash loop",
                   "workers_killed=" + std::to_string(kills + 1));
}

BOOST_AUTO_TEST_SUITE_END()
