// The crash loop across a cluster: three worker processes, nodes a, b and
// c of one cluster (each with its own LMDB directory, settings file and
// TLS certificate), each starting its share of the orders (order i on the
// i % 3-th node); every order's approval key is owned by whichever node
// `owner_of` says, so most runs wait on another node's key. One node at a
// time is SIGKILLed at a random moment, stays down a random while, and is
// restarted; the node killed is picked at random, never the one killed
// last. Deciders post decisions to the HTTP endpoint of a random live
// node all along, so most decisions are routed to the key's owner; a
// decision answered 503 (its owner is down) is not acknowledged and is
// tried again later. In the end, all nodes up: every run finished on its
// own node, every approval lives on its owner only, every acknowledged
// decision is in its owner's audit trail and decided its run's branch, no
// checkpointed step ran again, and no run executed in two actors at once.
//
// SIGNOFF_CLUSTER_CRASH_ORDERS (default 300) and SIGNOFF_CLUSTER_CRASH_KILLS
// (default 10) size it; scripts/reliability.sh runs the long version.

#define BOOST_TEST_MODULE signoff_cluster_crash
#include <boost/test/unit_test.hpp>

#include <array>
#include <atomic>
#include <limits>
#include <optional>
#include <random>
#include <thread>

#include "cluster/world.hpp"
#include "crash/crash_driver.hpp"
#include "signoff/actors/cluster.hpp"
#include "signoff/persistence/lmdb_store.hpp"

using namespace signoff;
using namespace signoff::test::crash;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> node_names{"a", "b", "c"};

/// The node that starts order i's run.
std::size_t home_of(int order) {
  return static_cast<std::size_t>(order) % node_names.size();
}

/// The three nodes' workers, each restarted as a new generation after a
/// kill; read and changed from the deciders' threads too.
class cluster_workers {
public:
  cluster_workers(test::cluster_world& world, int orders)
      : world_(world), orders_(orders) {
    for (std::size_t n = 0; n < node_names.size(); ++n) {
      std::filesystem::create_directories(dir(n));
      settings_[n] = world.settings(node_names[n], node_names[n]);
      start(n);
    }
  }

  [[nodiscard]] std::filesystem::path dir(std::size_t n) const {
    return world_.dir().path() / node_names[n];
  }

  /// The HTTP port of each node; 0 for a node down or not serving yet.
  std::array<std::uint16_t, 3> ports() {
    std::lock_guard lock{mutex_};
    std::array<std::uint16_t, 3> out{};
    for (std::size_t n = 0; n < out.size(); ++n)
      out[n] = workers_[n] ? workers_[n]->port() : 0;
    return out;
  }

  void kill(std::size_t n) {
    std::lock_guard lock{mutex_};
    workers_[n]->kill();
    workers_[n].reset();
  }

  /// Starts node n's next generation.
  void start(std::size_t n) {
    std::lock_guard lock{mutex_};
    workers_[n].emplace(dir(n), orders_, generations_[n]++, settings_[n]);
  }

  void kill_all() {
    for (std::size_t n = 0; n < node_names.size(); ++n)
      kill(n);
  }

private:
  test::cluster_world& world_;
  int orders_;
  std::array<std::string, 3> settings_;
  std::array<int, 3> generations_{};
  std::mutex mutex_;
  std::array<std::optional<worker>, 3> workers_;
};

/// The approval keys not known decided yet: what a decider falls back on
/// when no node can list the pending ones (one is down).
class open_keys {
public:
  explicit open_keys(int orders) {
    for (int i = 0; i < orders; ++i)
      keys_.push_back("approval:o" + std::to_string(i));
  }

  void settled(const std::string& key) {
    std::lock_guard lock{mutex_};
    std::erase(keys_, key);
  }

  std::vector<std::string> sample(std::mt19937& rng, std::size_t n) {
    std::lock_guard lock{mutex_};
    std::vector<std::string> out;
    std::sample(keys_.begin(), keys_.end(), std::back_inserter(out), n, rng);
    return out;
  }

private:
  std::mutex mutex_;
  std::vector<std::string> keys_;
};

/// Decides approvals through the HTTP endpoint of a random live node.
class cluster_decider {
public:
  cluster_decider(decision_log& log, open_keys& open, unsigned seed)
      : log_(log), open_(open), rng_(seed) {}

  /// One round: a few pending keys (as a live node lists them, or open
  /// keys when none can), each decided at a random live node. Each
  /// decision tried takes one from `budget`; none is tried at 0.
  void round(const std::array<std::uint16_t, 3>& ports,
             std::atomic<int>& budget) {
    std::vector<std::uint16_t> live;
    for (auto port : ports)
      if (port != 0)
        live.push_back(port);
    if (live.empty())
      return;
    auto keys = pending_keys(pick(live));
    if (!keys)
      keys = open_.sample(rng_, 8);
    std::shuffle(keys->begin(), keys->end(), rng_);
    keys->resize(std::min<std::size_t>(keys->size(), 8));
    for (const auto& key : *keys) {
      if (budget.fetch_sub(1) <= 0)
        return;
      const bool reject = std::uniform_int_distribution{0, 3}(rng_) == 0;
      switch (decide_over_http(pick(live), key, reject, log_)) {
        case 200:
        case 409: // decided already
          open_.settled(key);
          break;
        case 0: // its node was killed: maybe decided, maybe not
          break;
        case 503:
          log_.count("http unavailable (owner down, tried again later)");
          break;
        case 404:
          log_.count("http not found (its run has not reached it yet)");
          break;
        default:
          log_.surprise("HTTP answer for " + key);
      }
    }
  }

private:
  std::uint16_t pick(const std::vector<std::uint16_t>& live) {
    return live[std::uniform_int_distribution<std::size_t>{0, live.size()
                                                                - 1}(rng_)];
  }

  decision_log& log_;
  open_keys& open_;
  std::mt19937 rng_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(cluster_crash_loop)

BOOST_AUTO_TEST_CASE(node_kills_lose_nothing_acknowledged_and_repeat_no_step) {
  const auto size
    = size_from_env("SIGNOFF_CLUSTER_CRASH", 300, 10, "cluster crash loop");
  const int orders = size.orders;
  const int kills = size.kills;
  const unsigned seed = size.seed;
  test::cluster_world world;
  decision_log decisions;
  open_keys open{orders};
  std::mt19937 rng{seed};
  cluster_workers workers{world, orders};

  // Decisions tried while one node lives between two kills, so the work
  // spreads over every kill instead of being done before most of them.
  const int per_kill = std::max(8, 3 * orders / std::max(kills, 1));
  std::atomic<int> budget{per_kill};
  std::atomic<bool> stop{false};
  {
    constexpr unsigned decider_count = 3;
    std::vector<std::jthread> threads;
    for (unsigned d = 0; d < decider_count; ++d)
      threads.emplace_back([&, d] {
        cluster_decider decider{decisions, open, seed + 1 + d};
        while (!stop) {
          if (budget <= 0) {
            std::this_thread::sleep_for(5ms);
            continue;
          }
          decider.round(workers.ports(), budget);
        }
      });
    std::size_t last_killed = node_names.size();
    for (int kill = 0; kill < kills; ++kill) {
      std::this_thread::sleep_for(std::chrono::milliseconds{
        std::uniform_int_distribution{200, 1500}(rng)});
      auto victim = std::uniform_int_distribution<std::size_t>{
        0, node_names.size() - 2}(rng);
      if (last_killed < node_names.size() && victim >= last_killed)
        ++victim; // any node but the last one killed
      last_killed = victim;
      workers.kill(victim);
      budget = per_kill;
      // The others keep working while it is down.
      std::this_thread::sleep_for(std::chrono::milliseconds{
        std::uniform_int_distribution{50, 1000}(rng)});
      workers.start(victim);
    }
    stop = true;
  }

  // Every node up, left to finish every run while the last keys are
  // decided; then killed too.
  {
    cluster_decider decider{decisions, open, seed};
    const auto deadline = std::chrono::steady_clock::now() + 10min;
    std::atomic<int> unlimited{std::numeric_limits<int>::max()};
    for (;;) {
      const auto ports = workers.ports();
      if (all_finished(
            ports[0], [&](int i) { return ports[home_of(i)]; }, orders))
        break;
      BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                            "runs still unfinished after 10 minutes");
      decider.round(ports, unlimited);
      std::this_thread::sleep_for(50ms);
    }
    workers.kill_all();
  }

  std::vector<persistence::lmdb_stores> stores;
  for (std::size_t n = 0; n < node_names.size(); ++n) {
    auto opened = persistence::open_lmdb_stores(
      {.path = (workers.dir(n) / "db").string()});
    BOOST_REQUIRE(opened.is_ok());
    stores.push_back(std::move(opened.value()));
  }
  auto owner = [&](const std::string& key) {
    const auto& name = actors::owner_of(key, node_names);
    return static_cast<std::size_t>(
      std::find(node_names.begin(), node_names.end(), name)
      - node_names.begin());
  };
  // A run lives on the node that started it, an approval on its owner:
  // nowhere else.
  for (int i = 0; i < orders; ++i) {
    const auto run_id = "run-o" + std::to_string(i);
    const auto key = "approval:o" + std::to_string(i);
    for (std::size_t n = 0; n < node_names.size(); ++n) {
      auto run = stores[n].runs->load(run_id);
      BOOST_REQUIRE(run.is_ok());
      BOOST_TEST(run.value().has_value() == (n == home_of(i)),
                 run_id << " on node " << node_names[n]);
      auto approval = stores[n].approvals->find_approval(key);
      BOOST_REQUIRE(approval.is_ok());
      BOOST_TEST(approval.value().has_value() == (n == owner(key)),
                 key << " on node " << node_names[n]);
    }
  }

  crash_records records{
    .orders = orders,
    .runs_of = [&](int i) -> persistence::workflow_state_store& {
      return *stores[home_of(i)].runs;
    },
    .node_of = [](int i) { return node_names[home_of(i)]; },
    .approvals_of
    = [&](const std::string& key) -> persistence::approval_store& {
      return *stores[owner(key)].approvals;
    },
    .effects = {}};
  for (std::size_t n = 0; n < node_names.size(); ++n)
    read_effects(workers.dir(n), node_names[n], records.effects);
  check_invariants(records, decisions, "cluster crash loop",
                   "nodes=3 node_kills=" + std::to_string(kills));
}

BOOST_AUTO_TEST_SUITE_END()
