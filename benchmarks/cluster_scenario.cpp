#include "cluster_scenario.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cycle_driver.hpp"
#include "measure.hpp"
#include "order_workflow.hpp"
#include "signoff/actors/cluster.hpp"
#include "signoff/cluster/node.hpp"
#include "signoff/persistence/lmdb_store.hpp"
#include "signoff/persistence/memory_store.hpp"
#include "support/free_port.hpp"

extern char** environ; // NOLINT: POSIX

namespace signoff::bench {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

/// Node k numbers its orders from k times this, so no two nodes' runs
/// wait on one key.
constexpr std::size_t orders_per_node = 100'000'000;

std::string node_name(std::size_t k) {
  return "n" + std::to_string(k);
}

/// Where the nodes of one run keep their settings, certificates, stores
/// and the files they signal each other with.
fs::path cluster_dir(const bench_options& o) {
  return o.dir / ("cluster-" + std::to_string(o.nodes));
}

/// Writes `text` to `path` whole (through a rename), so a reader polling
/// for the file never sees half of it.
void signal_file(const fs::path& path, const std::string& text = "") {
  const auto partial = path.string() + ".partial";
  std::ofstream{partial} << text;
  fs::rename(partial, path);
}

/// Waits until `path` exists, calling `tick` between looks; fails after
/// `limit`.
void wait_for(
  const fs::path& path, std::chrono::seconds limit,
  const std::function<void()>& tick = [] {}) {
  const auto deadline = bench_clock::now() + limit;
  while (!fs::exists(path)) {
    if (bench_clock::now() > deadline)
      fail("waited " + std::to_string(limit.count()) + " s for "
           + path.string());
    tick();
    std::this_thread::sleep_for(2ms);
  }
}

/// Microseconds since the epoch: comparable across the nodes' processes.
long long wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// ---- a node ----------------------------------------------------------------

/// Waits until the node's link is up to every peer.
void wait_for_peers(const cluster::cluster_node& node) {
  const auto deadline = bench_clock::now() + 60s;
  for (;;) {
    const auto peers = node.link().status->peers();
    if (std::all_of(peers.begin(), peers.end(),
                    [](const cluster::peer_state& p) { return p.up; }))
      return;
    if (bench_clock::now() > deadline)
      fail("node " + node.settings().self + " is not linked to every peer");
    std::this_thread::sleep_for(10ms);
  }
}

/// The first node times `count` grants from order `first` on, one after
/// the other, each on its own run; writes "local US" or "routed US" lines
/// to `file`.
void time_decisions(orchestrator& orch, const cluster::cluster_node& node,
                    std::size_t first, std::size_t count,
                    const fs::path& file) {
  std::vector<double> grant_us;
  drive_facade_cycles(orch, first, count, &grant_us);
  const auto nodes = node.settings().node_names();
  std::string lines;
  for (std::size_t j = 0; j < count; ++j) {
    const bool local
      = actors::owner_of(approval_key(first + j), nodes) == node_name(0);
    lines
      += (local ? "local " : "routed ") + std::to_string(grant_us[j]) + "\n";
  }
  signal_file(file, lines);
}

// ---- the driver
// --------------------------------------------------------------

/// The cluster's authority and one certificate per node, by the `openssl`
/// command, as docs/cluster.md shows.
void make_certificates(const fs::path& dir, std::size_t nodes) {
  auto run = [&](const std::string& command) {
    const auto full
      = "cd '" + dir.string() + "' && (" + command + ") >/dev/null 2>&1";
    if (std::system(full.c_str()) != 0)
      fail("making the certificates failed: " + command);
  };
  const std::string ec
    = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
  run("openssl req -x509 " + ec
      + "-keyout ca.key -out ca.pem -days 2 -subj /CN=bench-ca");
  for (std::size_t k = 0; k < nodes; ++k) {
    const auto n = node_name(k);
    run("openssl req " + ec + "-keyout " + n + ".key -out " + n
        + ".csr -subj /CN=" + n);
    run("openssl x509 -req -in " + n + ".csr -CA ca.pem -CAkey ca.key "
        + "-CAcreateserial -days 2 -out " + n + ".pem");
  }
}

/// Writes each node's settings file, `n<k>.toml`, in `dir`.
void write_settings(const fs::path& dir, std::size_t nodes) {
  std::string list;
  for (std::size_t k = 0; k < nodes; ++k)
    list += std::string{list.empty() ? "" : ", "} + "\"" + node_name(k)
            + "=127.0.0.1:" + std::to_string(test::free_port()) + "\"";
  for (std::size_t k = 0; k < nodes; ++k) {
    const auto n = node_name(k);
    std::ofstream{dir / (n + ".toml")}
      << "name = \"" << n << "\"\nnodes = [" << list << "]\n"
      << "certificate = \"" << n << ".pem\"\nkey = \"" << n << ".key\"\n"
      << "cafile = \"ca.pem\"\n";
  }
}

/// The node processes: started together, each expected to exit 0 once
/// told to stop; any that ends before fails the benchmark.
class node_processes {
public:
  node_processes(const bench_options& o, std::size_t count) {
    for (std::size_t k = 0; k < count; ++k) {
      std::vector<std::string> args{"/proc/self/exe",
                                    "--scenario",
                                    "cluster-node",
                                    "--node",
                                    std::to_string(k),
                                    "--nodes",
                                    std::to_string(count),
                                    "--store",
                                    o.store,
                                    "--sync",
                                    o.sync ? "on" : "off",
                                    "--cycles",
                                    std::to_string(o.cycles),
                                    "--in-flight",
                                    std::to_string(o.in_flight),
                                    "--pending",
                                    std::to_string(o.pending),
                                    "--dir",
                                    o.dir.string()};
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      pid_t pid = 0;
      if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ)
          != 0)
        fail("cannot start node " + node_name(k));
      pids_.push_back(pid);
    }
  }
  ~node_processes() {
    for (auto pid : pids_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  node_processes(const node_processes&) = delete;
  node_processes& operator=(const node_processes&) = delete;

  /// Fails if any node ended already.
  void check() const {
    for (auto pid : pids_)
      if (::waitpid(pid, nullptr, WNOHANG) == pid)
        fail("a node of the cluster ended early");
  }

  /// Waits for every node's exit; fails unless each exited 0.
  void wait() {
    for (auto pid : pids_) {
      int status = 0;
      if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)
          || WEXITSTATUS(status) != 0)
        fail("a node of the cluster failed");
    }
    pids_.clear();
  }

private:
  std::vector<pid_t> pids_;
};

} // namespace

void cluster_node_scenario(const bench_options& o) {
  const auto dir = cluster_dir(o);
  const auto self = node_name(o.node);
  auto settings = cluster::read_cluster_settings(dir / (self + ".toml"));
  if (settings.is_err())
    fail(settings.error().message);
  // The stores outlive the node, which outlives the orchestrator.
  std::optional<persistence::lmdb_stores> lmdb;
  std::shared_ptr<persistence::workflow_state_store> runs
    = persistence::make_memory_workflow_state_store();
  std::shared_ptr<persistence::approval_store> approvals
    = persistence::make_memory_approval_store();
  if (o.store == "lmdb") {
    auto opened = persistence::open_lmdb_stores(
      {.path = (dir / (self + "-db")).string(),
       .durability = o.sync ? persistence::lmdb_durability::sync
                            : persistence::lmdb_durability::no_sync});
    if (opened.is_err())
      fail("opening LMDB: " + opened.error().message);
    lmdb = std::move(opened.value());
    runs = lmdb->runs;
  }
  cluster::cluster_node node{std::move(settings.value()),
                             make_actor_system_config()};
  orchestrator_options options;
  options.system = &node.system();
  options.cluster = node.membership();
  if (lmdb)
    options.use_lmdb_stores(*lmdb);
  else {
    options.approval_store = approvals;
    options.workflow_state_store = runs;
  }
  auto counts = std::make_shared<step_counts>();
  orchestrator orch{std::move(options)};
  orch.register_workflow(workflow_name, order_workflow(counts));
  if (auto port = node.publish(orch.handle()); port.is_err())
    fail("publishing node " + self + ": " + port.error().message);
  wait_for_peers(node);

  signal_file(dir / ("ready-" + self));
  wait_for(dir / "go", 60s);
  const auto first = o.node * orders_per_node;
  const auto start = wall_us();
  drive_typed_cycles(node.system(), orch.handle(), first, o.cycles,
                     o.in_flight);
  const auto end = wall_us();
  expect_all_completed(*runs, first, o.cycles);
  expect_step_counts(*counts, o.cycles, o.cycles);
  signal_file(dir / ("done-" + self),
              std::to_string(start) + " " + std::to_string(end));

  if (o.node == 0) {
    // Alone, once every node is done with its cycles.
    for (std::size_t k = 0; k < o.nodes; ++k)
      wait_for(dir / ("done-" + node_name(k)), 600s);
    time_decisions(orch, node, first + o.cycles, o.pending, dir / "latency");
    expect_all_completed(*runs, first + o.cycles, o.pending);
  }
  // The others stay for the first node's decisions on their keys.
  wait_for(dir / "stop", 600s);
}

void cluster_scenario(const bench_options& o) {
  const auto dir = cluster_dir(o);
  fs::remove_all(dir);
  fs::create_directories(dir);
  make_certificates(dir, o.nodes);
  write_settings(dir, o.nodes);
  {
    node_processes nodes{o, o.nodes};
    auto check = [&] {
      nodes.check();
    };
    for (std::size_t k = 0; k < o.nodes; ++k)
      wait_for(dir / ("ready-" + node_name(k)), 60s, check);
    signal_file(dir / "go");
    long long first_start = std::numeric_limits<long long>::max();
    long long last_end = 0;
    for (std::size_t k = 0; k < o.nodes; ++k) {
      const auto done = dir / ("done-" + node_name(k));
      wait_for(done, 600s, check);
      long long start = 0;
      long long end = 0;
      std::ifstream{done} >> start >> end;
      first_start = std::min(first_start, start);
      last_end = std::max(last_end, end);
    }
    wait_for(dir / "latency", 600s, check);
    signal_file(dir / "stop");
    nodes.wait();

    const auto label = "cluster." + o.store + (o.sync ? "" : "-nosync")
                       + ".nodes" + std::to_string(o.nodes);
    report(label + ".cycles_per_s",
           static_cast<double>(o.nodes * o.cycles)
             / (static_cast<double>(last_end - first_start) / 1e6),
           "cycles/s");
    std::vector<double> local;
    std::vector<double> routed;
    std::ifstream in{dir / "latency"};
    std::string kind;
    double us = 0;
    while (in >> kind >> us)
      (kind == "local" ? local : routed).push_back(us);
    for (auto* samples : {&local, &routed}) {
      if (samples->empty())
        continue;
      const auto name
        = label + (samples == &local ? ".decision_local" : ".decision_routed");
      const auto p = percentiles_of(*samples);
      report(name + "_p50", p.p50, "us");
      report(name + "_p99", p.p99, "us");
    }
  }
  fs::remove_all(dir);
}

} // namespace signoff::bench
