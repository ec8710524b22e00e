// The process the crash-loop suite starts and kills with SIGKILL, again and
// again. It serves orders on an LMDB directory over HTTP and starts the
// orders that have no run yet; deciding is left to other processes (the
// driver through HTTP, the `signoff` CLI on the directory).
//
//   crash_worker DIR N GENERATION PORT_FILE [CLUSTER_SETTINGS]
//
// With CLUSTER_SETTINGS it is one node of a cluster (the cluster crash
// loop): it starts only its share of the orders, order i when i modulo the
// number of nodes is its place among the nodes' sorted names, and the
// approvals its runs wait on are owned by whichever node `owner_of` says.
//
// Every side effect of a step is appended to DIR/effects.log as
// "<step> <order> <generation>:<seq>", and the step's checkpoint saves the
// same "<generation>:<seq>" id, so the driver can tell which execution of a
// step is the checkpointed one and which ran again after it. A workflow
// function entered for a run whose previous entry has not returned yet
// logs "overlap <order>": two actors executing one run at once.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "signoff/cluster/node.hpp"
#include "signoff/http/server.hpp"
#include "signoff/persistence/lmdb_store.hpp"
#include "signoff/signoff.hpp"
#include "support/effects_log.hpp"

namespace {

using boost::json::value;
using signoff::model::result;

/// The worker's side effects, each with an id unique across generations.
class effects {
public:
  effects(const std::string& path, int generation)
      : log_(path), generation_(generation) {}

  /// Logs one side effect of `step` for `order` and returns its id.
  std::string effect(const std::string& step, const std::string& order) {
    auto id = std::to_string(generation_) + ":" + std::to_string(++seq_);
    log_.line(step, order + " " + id);
    return id;
  }

  void line(const std::string& what, const std::string& subject) {
    log_.line(what, subject);
  }

private:
  signoff::test::effects_log log_;
  int generation_;
  std::atomic<long> seq_{0};
};

/// The runs whose workflow function is executing right now.
class executing_runs {
public:
  /// Marks `run` as executing for the lifetime of the returned guard.
  auto enter(const std::string& run, effects& log, const std::string& order) {
    {
      std::lock_guard lock{mutex_};
      if (runs_.contains(run))
        log.line("overlap", order);
      runs_.insert(run);
    }
    auto leave = [this, run](void*) {
      std::lock_guard lock{mutex_};
      runs_.erase(runs_.find(run));
    };
    return std::unique_ptr<void, decltype(leave)>{this, leave};
  }

private:
  std::mutex mutex_;
  std::multiset<std::string> runs_;
};

/// An order: a step before the approval, then fulfil (granted or edited)
/// or refund (rejected), each a logged side effect.
signoff::workflow order_workflow(effects& log, executing_runs& executing) {
  return [&log, &executing](signoff::step& step,
                            const value& in) -> signoff::task<result<value>> {
    const std::string order{in.at("orderId").as_string()};
    auto guard = executing.enter(step.run_id(), log, order);
    auto reserved = co_await step.run(
      "reserve", [&] { return log.effect("reserve", order); });
    auto decision = co_await step.try_approval("approval:" + order);
    if (decision.is_err()) {
      auto refunded = co_await step.run(
        "refund", [&] { return log.effect("refund", order); });
      co_return value{
        {"branch", "rejected"}, {"reserve", reserved}, {"refund", refunded}};
    }
    auto fulfilled = co_await step.run(
      "fulfil", [&] { return log.effect("fulfil", order); });
    co_return value{
      {"branch", "granted"}, {"reserve", reserved}, {"fulfil", fulfilled}};
  };
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::fprintf(stderr,
                 "usage: %s DIR N GENERATION PORT_FILE [CLUSTER_SETTINGS]\n",
                 argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const int n = std::atoi(argv[2]);
  const int generation = std::atoi(argv[3]);
  const std::string port_file = argv[4];

  effects log{dir + "/effects.log", generation};
  executing_runs executing;
  auto stores = signoff::persistence::open_lmdb_stores({.path = dir + "/db"});
  if (stores.is_err()) {
    std::fprintf(stderr, "%s\n", stores.error().message.c_str());
    return 2;
  }
  // Alone it starts every order; a node starts every `share`-th from
  // `first`.
  int first = 0;
  int share = 1;
  // Declared before the orchestrator, so it stops after it.
  std::unique_ptr<signoff::cluster::cluster_node> node;
  signoff::orchestrator_options options;
  if (argc == 6) {
    auto settings = signoff::cluster::read_cluster_settings(argv[5]);
    if (settings.is_err()) {
      std::fprintf(stderr, "%s\n", settings.error().message.c_str());
      return 2;
    }
    if (auto checked = signoff::cluster::check_credentials(*settings);
        checked.is_err()) {
      std::fprintf(stderr, "%s\n", checked.error().message.c_str());
      return 2;
    }
    const auto names = settings->node_names();
    first = static_cast<int>(
      std::find(names.begin(), names.end(), settings->self) - names.begin());
    share = static_cast<int>(names.size());
    node = std::make_unique<signoff::cluster::cluster_node>(
      std::move(settings.value()), signoff::make_actor_system_config());
    options.system = &node->system();
    options.cluster = node->membership();
  }
  options.use_lmdb_stores(*stores);
  options.wake_poll_interval = std::chrono::milliseconds{100};
  signoff::orchestrator orch{std::move(options)};
  // Registering recovers the runs a kill left running and starts polling
  // for decisions made while no worker ran.
  orch.register_workflow("order", order_workflow(log, executing));
  if (node) {
    if (auto published = node->publish(orch.handle()); published.is_err()) {
      std::fprintf(stderr, "%s\n", published.error().message.c_str());
      return 2;
    }
  }

  signoff::http::server_options http_options;
  http_options.port = 0;
  if (auto refused
      = http_options.tokens.add_spec("driver:crash-driver-secret::*")) {
    std::fprintf(stderr, "%s\n", refused->c_str());
    return 2;
  }
  signoff::http::http_server server{orch, std::move(http_options)};
  if (auto started = server.start(); started.is_err()) {
    std::fprintf(stderr, "%s\n", started.error().message.c_str());
    return 2;
  }
  {
    // Written whole, then renamed: the driver never reads half a port.
    std::ofstream{port_file + ".tmp"} << server.port() << "\n";
    std::rename((port_file + ".tmp").c_str(), port_file.c_str());
  }

  // Start every order without a run; a run id per order makes a restart
  // find the runs it already started instead of starting them again.
  std::vector<std::thread> starters;
  constexpr int threads = 4;
  for (int t = 0; t < threads; ++t)
    starters.emplace_back([&, t] {
      for (int i = first + t * share; i < n; i += threads * share) {
        const auto order = "o" + std::to_string(i);
        if (orch.get_workflow_status("run-" + order).is_ok())
          continue;
        auto run = orch.execute("order", value{{"orderId", order}},
                                {.run_id = "run-" + order});
        if (run.is_ok())
          log.line("ack-started", order);
      }
    });
  for (auto& s : starters)
    s.join();
  log.line("ready", std::to_string(generation));
  // Runs go on as decisions arrive, until the driver kills this process.
  for (;;)
    std::this_thread::sleep_for(std::chrono::hours{1});
}
