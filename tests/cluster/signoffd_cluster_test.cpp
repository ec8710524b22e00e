// Three signoffd processes as one cluster on loopback, each with its own
// LMDB directory and certificate: the Quick Start with the approval owned
// by another node than the run, decided at the third node over HTTP and
// with the CLI; every node lists the whole cluster; a node's loss makes
// calls on its keys answer 503 and change nothing, and once it is back
// everything that waited on it goes on.

#include <boost/test/unit_test.hpp>

#include <cstdlib>

#include "cluster/nodes.hpp"
#include "http/client.hpp"
#include "http/signoffd_process.hpp"
#include "signoff/actors/cluster.hpp"

using namespace signoff;
namespace client = signoff::test::http_client;

namespace {

constexpr std::string_view token = "ops-cluster-secret";

/// A node as a signoffd process, started and restarted on its directory.
class node {
public:
  node(test::cluster_world& world, std::string name, bool seed)
      : world_(world), name_(std::move(name)), seed_(seed),
        settings_(world.settings(name_, name_)) {
    start();
  }

  void start() {
    std::vector<std::string> args{
      "--data",    (world_.dir().path() / ("data-" + name_)).string(),
      "--port",    "0",
      "--cluster", settings_,
      "--token",   "ops:" + std::string{token} + "::*",
      "--group",   "managers:ops",
      "--group",   "finance:ops"};
    if (!seed_)
      args.emplace_back("--no-seed");
    process_.reset(); // a restart: the old process is gone first
    process_ = std::make_unique<test::signoffd_process>(
      world_.dir().path(), name_ + "-" + std::to_string(++starts_), args);
    BOOST_TEST_REQUIRE(process_->wait_until_listening(),
                       name_ << " did not start: " << process_->err());
  }

  void kill() {
    ::kill(process_->pid(), SIGKILL);
    while (!process_->exited())
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }

  client::response get(const std::string& target) const {
    return client::send(process_->port, "GET", target, client::bearer(token));
  }

  client::response post(const std::string& target,
                        const boost::json::value& body) const {
    auto headers = client::bearer(token);
    headers.emplace_back("Content-Type", "application/json");
    return client::send(process_->port, "POST", target, headers,
                        boost::json::serialize(body));
  }

  [[nodiscard]] std::string url() const {
    return "http://127.0.0.1:" + std::to_string(process_->port);
  }

  [[nodiscard]] const std::string& name() const {
    return name_;
  }

private:
  test::cluster_world& world_;
  std::string name_;
  bool seed_;
  std::string settings_;
  int starts_ = 0;
  std::unique_ptr<test::signoffd_process> process_;
};

/// Polls `check` (bounded): the nodes link and recover in the background.
template <class Check>
bool eventually(Check check) {
  const auto deadline
    = std::chrono::steady_clock::now() + std::chrono::seconds{30};
  while (std::chrono::steady_clock::now() < deadline) {
    if (check())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return check();
}

std::string path_of(const std::string& key) {
  return "/api/approvals/" + client::url_encode(key);
}

/// The status of the run `run_id`, read at `at`.
std::string run_status(const node& at, const std::string& run_id) {
  auto res = at.get("/api/workflows/" + run_id);
  if (res.status != 200)
    return "HTTP " + std::to_string(res.status);
  return std::string{res.json().at("status").as_string()};
}

boost::json::value approve(const std::string& key) {
  return {{"key", key}, {"action", "approve"}, {"value", {{"ok", true}}}};
}

const std::vector<std::string> names{"a", "b", "c"};

/// The demo's keys, as signoffd seeds them.
const std::string order_key = "approval:order:ord_123";
const std::string other_order_key = "approval:order:ord_124";
const std::string expense_key = "approval:expense:exp_7";

/// Nodes a, b and c started for `key`: its owner, the runner (the node
/// that seeds the demo runs, so the run waiting on `key` lives there) and
/// the third node.
struct three_nodes {
  three_nodes(test::cluster_world& world, const std::string& key)
      : owner(actors::owner_of(key, names)) {
    for (const auto& n : names)
      if (n != owner)
        (runner.empty() ? runner : third) = n;
    for (const auto& n : names)
      nodes[n] = std::make_unique<node>(world, n, n == runner);
  }

  node& at(const std::string& name) {
    return *nodes.at(name);
  }

  std::string owner;
  std::string runner;
  std::string third;
  std::map<std::string, std::unique_ptr<node>> nodes;
};

} // namespace

BOOST_AUTO_TEST_SUITE(cluster_nodes)

BOOST_AUTO_TEST_CASE(the_quick_start_across_three_nodes) {
  test::cluster_world world;
  // The run starts on a node that does not own its approval, and the
  // decision is made at the third.
  three_nodes cluster{world, order_key};
  const auto& owner = cluster.owner;
  auto& at_owner = cluster.at(owner);
  auto& at_runner = cluster.at(cluster.runner);
  auto& at_third = cluster.at(cluster.third);
  auto& nodes = cluster.nodes;

  // Every node lists the same pending approvals, whichever node owns them.
  const std::vector<std::string> seeded{expense_key, order_key,
                                        other_order_key};
  for (const auto& [name, n] : nodes) {
    BOOST_TEST_REQUIRE(
      eventually([&] {
        auto res = n->get("/api/approvals?prefix=approval:");
        return res.status == 200
               && boost::json::value_to<std::vector<std::string>>(
                    res.json().at("pending"))
                    == seeded;
      }),
      name << " lists " << n->get("/api/approvals").body);
  }
  // The approval lives with its owner; the run with the node that started
  // it; any node reads both.
  auto approval = at_third.get(path_of(order_key));
  BOOST_TEST_REQUIRE(approval.status == 200, approval.body);
  const std::string run_id{approval.json().at("runId").as_string()};
  BOOST_TEST(run_status(at_owner, run_id) == "paused");

  // Approve at the third node: routed to the owner, which wakes the run on
  // the runner.
  auto decided = at_third.post("/api/approvals", approve(order_key));
  BOOST_TEST_REQUIRE(decided.status == 200, decided.body);
  BOOST_TEST(
    eventually([&] { return run_status(at_third, run_id) == "completed"; }));
  auto run = at_runner.get("/api/workflows/" + run_id).json();
  BOOST_TEST(run.at("result").at("value").at("outcome") == "shipped");
  auto trail = at_runner.get(path_of(order_key) + "/audit").json();
  BOOST_TEST(trail.at("trail").as_array().back().at("actor") == "ops");

  // The CLI works against any node too.
  const auto cli = std::string{SIGNOFF_CLI} + " approve " + other_order_key
                   + " --value '{\"ok\":true}' >/dev/null";
  const auto with_env = "SIGNOFF_SERVER=" + at_owner.url()
                        + " SIGNOFF_TOKEN=" + std::string{token} + " " + cli;
  BOOST_TEST(std::system(with_env.c_str()) == 0);
  BOOST_TEST(
    at_runner.get(path_of(other_order_key)).json().at("status").at("status")
    == "approved");

  // The peers' links are up in every node's metrics.
  auto metrics = at_runner.get("/metrics").body;
  BOOST_TEST(metrics.find("signoff_peer_up{peer=\"" + owner + "\"} 1")
               != std::string::npos,
             metrics);
}

BOOST_AUTO_TEST_CASE(a_lost_node_makes_its_keys_wait_and_nothing_else) {
  test::cluster_world world;
  three_nodes cluster{world, other_order_key};
  const auto& owner = cluster.owner;
  auto& at_owner = cluster.at(owner);
  auto& at_runner = cluster.at(cluster.runner);
  auto& at_third = cluster.at(cluster.third);
  BOOST_TEST_REQUIRE(eventually(
    [&] { return at_third.get(path_of(other_order_key)).status == 200; }));
  const std::string run_id{
    at_third.get(path_of(other_order_key)).json().at("runId").as_string()};

  at_owner.kill();
  // Calls on its keys answer 503 and change nothing; listings say who is
  // missing; the rest of the cluster serves on.
  auto refused = at_third.post("/api/approvals", approve(other_order_key));
  BOOST_TEST(refused.status == 503, refused.body);
  BOOST_TEST(refused.body.find("node " + owner) != std::string::npos,
             refused.body);
  auto listing = at_runner.get("/api/approvals");
  BOOST_TEST(listing.status == 503, listing.body);
  BOOST_TEST(at_runner.get("/health").status == 200);
  BOOST_TEST(run_status(at_third, run_id) == "paused");
  BOOST_TEST(eventually([&] {
    return at_runner.get("/metrics")
             .body.find("signoff_peer_up{peer=\"" + owner + "\"} 0")
           != std::string::npos;
  }));

  // Back on its directory, it still holds the approval pending; the
  // decision goes through and wakes the run on the runner.
  at_owner.start();
  BOOST_TEST_REQUIRE(eventually(
    [&] { return at_third.get(path_of(other_order_key)).status == 200; }));
  BOOST_TEST(
    at_third.get(path_of(other_order_key)).json().at("status").at("status")
    == "pending");
  auto decided = at_third.post("/api/approvals", approve(other_order_key));
  BOOST_TEST(decided.status == 200, decided.body);
  BOOST_TEST(
    eventually([&] { return run_status(at_third, run_id) == "completed"; }));
}

BOOST_AUTO_TEST_CASE(a_node_refuses_to_serve_approvals_it_no_longer_owns) {
  test::cluster_world world;
  // Seeded alone, then joined to the cluster: some seeded keys belong to
  // other nodes now.
  const auto data = (world.dir().path() / "data-alone").string();
  {
    test::signoffd_process alone{
      world.dir().path(), "alone", {"--data", data, "--port", "0"}};
    BOOST_TEST_REQUIRE(alone.wait_until_listening(), alone.err());
    BOOST_TEST(alone.terminate() == 0);
  }
  std::string joining;
  for (const auto& n : names)
    if (actors::owner_of(order_key, names) != n)
      joining = n;
  test::signoffd_process joined{world.dir().path(),
                                "joined",
                                {"--data", data, "--port", "0", "--cluster",
                                 world.settings(joining, joining)}};
  BOOST_TEST(joined.wait_exit_or_listen().value_or(0) == 2, joined.out());
  BOOST_TEST(joined.err().find(order_key) != std::string::npos, joined.err());
  BOOST_TEST(joined.err().find("decide or cancel them") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
