// Three nodes of a cluster in one process, each an orchestrator on CAF's
// deterministic test coordinator with its own stores, joined by a link
// that hands envelopes straight to the named node's gateway (or answers
// UNAVAILABLE for a node the test took down). The transport under mutual
// TLS is tested with real processes in tests/cluster; here every message
// between the nodes runs in a known order.

#include "deterministic.hpp"

#include <map>

#include "cluster_wire.hpp"

using namespace signoff;
using test::deterministic_engine;

namespace {

/// What the test links share: each node's gateway, and the nodes down;
/// and what the nodes logged, as "node: line".
struct network {
  std::map<std::string, actors::cluster_gateway_actor> gateways;
  std::set<std::string> down;
  std::vector<std::string> log;
};

/// A node's link: calls go to the named node's gateway, or are answered
/// UNAVAILABLE while the test holds that node down.
actors::cluster_link_actor::behavior_type
test_link(actors::cluster_link_actor::pointer self,
          std::shared_ptr<network> net, std::string node) {
  return {
    [self, net](
      actors::cluster_atom, const std::string& to,
      actors::cluster_envelope& call) -> caf::result<actors::cluster_envelope> {
      auto it = net->gateways.find(to);
      if (net->down.count(to) > 0 || net->down.count(call.from) > 0
          || it == net->gateways.end())
        return actors::detail::make_failure(
          to, model::make_error(model::error_type::unavailable,
                                "node '" + to + "' cannot be reached"));
      return self->delegate(it->second, actors::cluster_atom_v,
                            std::move(call));
    },
    [net, node](actors::cluster_atom,
                const actors::cluster_gateway_actor& gateway) {
      net->gateways[node] = gateway;
    },
  };
}

/// Waits for the approval "key" of `in`, then returns the decision's value.
workflow one_approval() {
  return [](step& step, const boost::json::value& in)
           -> task<model::result<boost::json::value>> {
    const std::string key{in.at("key").as_string()};
    auto decided = co_await step.try_approval(key);
    if (decided.is_err())
      co_return decided.error();
    co_return decided.value();
  };
}

class cluster_fixture {
public:
  cluster_fixture()
      : net_sys_(deterministic_engine::init_config(net_cfg_)),
        net_sched_(dynamic_cast<caf::scheduler::test_coordinator&>(
          net_sys_.scheduler())) {
    for (const auto& name : names)
      add_node(name);
    settle();
    for (const auto& name : names)
      node(name).register_workflow("one", one_approval());
  }

  ~cluster_fixture() {
    nodes_.clear(); // stops the orchestrators
    for (auto& link : links_)
      caf::anon_send_exit(link, caf::exit_reason::user_shutdown);
    net_sched_.run();
  }

  cluster_fixture(const cluster_fixture&) = delete;
  cluster_fixture& operator=(const cluster_fixture&) = delete;

  deterministic_engine& node(const std::string& name) {
    return *nodes_.at(name);
  }

  /// Runs every node's messages, and the links', until none is left.
  void settle() {
    for (bool any = true; any;) {
      any = net_sched_.run() > 0;
      for (auto& [name, n] : nodes_)
        any = n->run() > 0 || any;
    }
  }

  /// A key owned by `owner`, named after `hint`.
  [[nodiscard]] std::string key_owned_by(const std::string& owner,
                                         const std::string& hint) const {
    for (int i = 0;; ++i) {
      auto key = hint + "-" + std::to_string(i);
      if (actors::owner_of(key, names) == owner)
        return key;
    }
  }

  /// Starts run `run_id` of "one" on `at`, waiting on `key`.
  model::execution_result start(const std::string& at, const std::string& key,
                                const std::string& run_id) {
    auto& n = node(at);
    n.send_execute("one", boost::json::object{{"key", key}}, run_id);
    settle();
    return test::must(n.reply<model::result<model::execution_result>>());
  }

  /// Sends a grant of `key` to node `at` and returns the answer.
  model::result<actors::decision_report> grant_at(const std::string& at,
                                                  const std::string& key) {
    auto& n = node(at);
    n.send_grant(key);
    settle();
    return n.reply<model::result<actors::decision_report>>();
  }

  void take_down(const std::string& name) {
    net_->down.insert(name);
  }
  void bring_up(const std::string& name) {
    net_->down.erase(name);
  }

  /// Tells `at` that `peer` came up, as its link does on a reconnection.
  void tell_peer_up(const std::string& at, const std::string& peer) {
    caf::anon_send(net_->gateways.at(at), actors::cluster_atom_v,
                   actors::detail::make_call(peer, "peer_up", nullptr));
    settle();
  }

  /// Stops `name`'s orchestrator and starts a new one on its stores, as a
  /// restarted process would.
  void restart(const std::string& name) {
    auto approvals = node(name).approvals;
    auto runs = node(name).runs;
    nodes_.erase(name);
    net_->gateways.erase(name);
    add_node(name, approvals, runs);
    settle();
    node(name).register_workflow("one", one_approval());
  }

  /// True if `node` logged a line containing `text`.
  [[nodiscard]] bool logged(const std::string& node,
                            const std::string& text) const {
    return std::any_of(net_->log.begin(), net_->log.end(),
                       [&](const std::string& line) {
                         return line.rfind(node + ": ", 0) == 0
                                && line.find(text) != std::string::npos;
                       });
  }

  const std::vector<std::string> names{"a", "b", "c"};

private:
  void add_node(const std::string& name,
                std::shared_ptr<persistence::approval_store> approvals = {},
                std::shared_ptr<persistence::workflow_state_store> runs = {}) {
    auto link = net_sys_.spawn(test_link, net_, name);
    links_.push_back(caf::actor_cast<caf::actor>(link));
    nodes_.emplace(
      name, std::make_unique<deterministic_engine>(
              [&](actors::orchestrator_config& config) {
                config.cluster = actors::cluster_membership{name, names, link};
                config.logger = [net = net_, name](std::string_view line) {
                  net->log.push_back(name + ": " + std::string{line});
                };
                if (approvals) {
                  config.approval_store = approvals;
                  config.workflow_state_store = runs;
                }
              }));
  }

  caf::actor_system_config net_cfg_;
  caf::actor_system net_sys_;
  caf::scheduler::test_coordinator& net_sched_;
  std::shared_ptr<network> net_ = std::make_shared<network>();
  std::vector<caf::actor> links_;
  std::map<std::string, std::unique_ptr<deterministic_engine>> nodes_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(cluster)

BOOST_AUTO_TEST_CASE(a_run_waits_on_another_nodes_key_decided_at_a_third) {
  cluster_fixture c;
  const auto key = c.key_owned_by("b", "order");
  auto paused = c.start("a", key, "run-1");
  BOOST_TEST(paused.status == model::run_status::paused);
  // The approval lives with its owner only.
  BOOST_TEST(c.node("b").approval(key).status.is_pending());
  BOOST_TEST(!test::must(c.node("a").approvals->find_approval(key)));
  BOOST_TEST(!test::must(c.node("c").approvals->find_approval(key)));

  auto report = test::must(c.grant_at("c", key));
  BOOST_TEST(report.applied);
  BOOST_TEST(report.resumed_workflows == std::vector<std::string>{"a/run-1"});
  auto run = c.node("a").stored("run-1");
  BOOST_TEST(run.status == model::run_status::completed);
  BOOST_TEST_REQUIRE(run.outcome.has_value());
  BOOST_TEST(test::must(*run.outcome) == boost::json::value({{"by", "jane"}}));
}

BOOST_AUTO_TEST_CASE(reads_and_changes_reach_the_owner_from_any_node) {
  cluster_fixture c;
  const auto key = c.key_owned_by("c", "expense");
  c.start("a", key, "run-1");
  auto& b = c.node("b");

  b.send(actors::approval_atom_v, key);
  c.settle();
  BOOST_TEST(
    test::must(b.reply<model::result<model::approval_record>>()).spec.run_id
    == "run-1");

  b.send(actors::comment_atom_v, actors::comment_request{key, "why?", "lee"});
  c.settle();
  BOOST_TEST(test::must(b.reply<model::result<model::audit_entry>>()).actor
             == "lee");

  b.send(actors::assign_atom_v,
         model::assignment_change::reassign(key, {"kim"}, {}, "lee"));
  c.settle();
  BOOST_TEST(test::must(b.reply<model::result<model::decision_outcome>>())
               .record.spec.assignees
             == std::vector<std::string>{"kim"});
  BOOST_TEST(c.node("c").approval(key).spec.assignees
             == std::vector<std::string>{"kim"});

  b.send(actors::audit_atom_v, key);
  c.settle();
  BOOST_TEST(
    test::must(b.reply<model::result<std::vector<model::audit_entry>>>()).size()
    == 3U); // created, commented, reassigned

  // Runs live where they started; any node finds and lists them.
  b.send(actors::status_atom_v, std::string{"run-1"});
  c.settle();
  BOOST_TEST(
    test::must(b.reply<model::result<model::saved_workflow_state>>()).status
    == model::run_status::paused);
  b.send(actors::status_atom_v, std::string{"no-such-run"});
  c.settle();
  auto missing = b.reply<model::result<model::saved_workflow_state>>();
  BOOST_TEST_REQUIRE(missing.is_err());
  BOOST_TEST(missing.error().type == model::error_type::not_found);
  b.send(actors::list_runs_atom_v, persistence::run_filter{});
  c.settle();
  BOOST_TEST(test::must(b.reply<model::result<std::vector<std::string>>>())
             == std::vector<std::string>{"run-1"});
  b.send(actors::waiting_atom_v, key);
  c.settle();
  BOOST_TEST(test::must(b.reply<model::result<std::vector<std::string>>>())
             == std::vector<std::string>{"run-1"});

  // An outsider is refused by the owner, and nothing changes.
  auto outsider = model::decision::grant(key, true, "eve");
  outsider.rights = model::actor_rights::member_of();
  b.send_decide(outsider);
  c.settle();
  auto refused = b.reply<model::result<actors::decision_report>>();
  BOOST_TEST_REQUIRE(refused.is_err());
  BOOST_TEST(refused.error().type == model::error_type::forbidden);
  BOOST_TEST(c.node("c").approval(key).status.is_pending());
}

BOOST_AUTO_TEST_CASE(pending_lists_every_node_and_names_a_silent_one) {
  cluster_fixture c;
  std::vector<std::string> keys;
  for (const auto& owner : c.names)
    keys.push_back(c.key_owned_by(owner, "list"));
  for (std::size_t i = 0; i < keys.size(); ++i)
    c.start("a", keys[i], "run-" + std::to_string(i));
  std::sort(keys.begin(), keys.end());

  auto& b = c.node("b");
  b.send(actors::pending_atom_v, std::string{"list"});
  c.settle();
  BOOST_TEST(test::must(b.reply<model::result<std::vector<std::string>>>())
             == keys);

  c.take_down("c");
  b.send(actors::pending_atom_v, std::string{"list"});
  c.settle();
  auto partial = b.reply<model::result<std::vector<std::string>>>();
  BOOST_TEST_REQUIRE(partial.is_err());
  BOOST_TEST(partial.error().type == model::error_type::unavailable);
  BOOST_TEST(partial.error().details == boost::json::value({"c"}));
}

BOOST_AUTO_TEST_CASE(a_decision_on_a_down_owners_key_is_unavailable) {
  cluster_fixture c;
  const auto key = c.key_owned_by("b", "order");
  c.start("a", key, "run-1");
  c.take_down("b");
  auto refused = c.grant_at("c", key);
  BOOST_TEST_REQUIRE(refused.is_err());
  BOOST_TEST(refused.error().type == model::error_type::unavailable);
  BOOST_TEST(refused.error().message.find("'b'") != std::string::npos);
  c.bring_up("b");
  BOOST_TEST(c.node("b").approval(key).status.is_pending());
  BOOST_TEST(c.node("a").stored("run-1").status == model::run_status::paused);
  // Once back, the same decision goes through and wakes the run.
  BOOST_TEST(test::must(c.grant_at("c", key)).applied);
  BOOST_TEST(c.node("a").stored("run-1").status
             == model::run_status::completed);
}

BOOST_AUTO_TEST_CASE(a_wake_missed_while_the_runs_node_was_down_comes_later) {
  cluster_fixture c;
  const auto key = c.key_owned_by("b", "order");
  c.start("a", key, "run-1");
  c.take_down("a");
  auto report = test::must(c.grant_at("b", key));
  BOOST_TEST(report.applied);
  BOOST_TEST(report.resumed_workflows.empty());
  c.bring_up("a");
  BOOST_TEST(c.node("a").stored("run-1").status == model::run_status::paused);
  // The link says b is reachable again: a hands b its waiting runs and
  // learns the decision.
  c.tell_peer_up("a", "b");
  BOOST_TEST(c.node("a").stored("run-1").status
             == model::run_status::completed);
}

BOOST_AUTO_TEST_CASE(an_owner_that_restarted_learns_its_remote_waiters_again) {
  cluster_fixture c;
  const auto key = c.key_owned_by("b", "order");
  const auto late = c.key_owned_by("b", "late");
  c.start("a", key, "run-1");
  c.start("a", late, "run-2");
  c.restart("b");
  // Decided before a hears b is back: the watch answers with the decision.
  BOOST_TEST(test::must(c.grant_at("b", key)).resumed_workflows.empty());
  c.tell_peer_up("a", "b");
  BOOST_TEST(c.node("a").stored("run-1").status
             == model::run_status::completed);
  // Decided after: the watch registered the run again, and it is woken.
  BOOST_TEST(c.node("a").stored("run-2").status == model::run_status::paused);
  auto report = test::must(c.grant_at("c", late));
  BOOST_TEST(report.resumed_workflows == std::vector<std::string>{"a/run-2"});
  BOOST_TEST(c.node("a").stored("run-2").status
             == model::run_status::completed);
}

BOOST_AUTO_TEST_CASE(a_run_whose_node_restarted_is_woken_from_its_store) {
  cluster_fixture c;
  const auto key = c.key_owned_by("b", "order");
  c.start("a", key, "run-1");
  c.restart("a");
  BOOST_TEST(c.node("a").resident() == 0U);
  auto report = test::must(c.grant_at("b", key));
  BOOST_TEST(report.resumed_workflows == std::vector<std::string>{"a/run-1"});
  BOOST_TEST(c.node("a").stored("run-1").status
             == model::run_status::completed);
}

BOOST_AUTO_TEST_CASE(cancelling_a_run_cancels_its_approval_on_the_owner) {
  cluster_fixture c;
  const auto key = c.key_owned_by("c", "order");
  c.start("a", key, "run-1");
  auto& a = c.node("a");
  a.send(actors::cancel_run_atom_v,
         actors::cancel_run_request{"run-1", "not needed", "ops"});
  c.settle();
  auto cancelled
    = test::must(a.reply<model::result<model::execution_result>>());
  BOOST_TEST(cancelled.status == model::run_status::cancelled);
  BOOST_TEST(cancelled.pending_approvals == std::vector<std::string>{key});
  BOOST_TEST(c.node("c").approval(key).status.state
             == model::approval_state::cancelled);
}

BOOST_AUTO_TEST_CASE(a_run_reaching_a_down_owners_key_waits_for_it) {
  cluster_fixture c;
  const auto key = c.key_owned_by("b", "order");
  c.take_down("b");
  auto paused = c.start("a", key, "run-1");
  BOOST_TEST(paused.status == model::run_status::paused);
  BOOST_TEST(paused.pending_approvals == std::vector<std::string>{key});
  BOOST_TEST(!test::must(c.node("b").approvals->find_approval(key)));
  c.bring_up("b");
  // b is back: a hands it run-1's key, b has no such approval, run-1 asks
  // again and b creates it.
  c.tell_peer_up("a", "b");
  BOOST_TEST(c.node("b").approval(key).spec.run_id == "run-1");
  BOOST_TEST(test::must(c.grant_at("c", key)).resumed_workflows
             == std::vector<std::string>{"a/run-1"});
  BOOST_TEST(c.node("a").stored("run-1").status
             == model::run_status::completed);
}

BOOST_AUTO_TEST_CASE(a_run_on_the_owner_and_a_remote_run_share_a_key) {
  cluster_fixture c;
  const auto key = c.key_owned_by("b", "shared");
  c.start("a", key, "run-a");
  c.start("b", key, "run-b");
  auto report = test::must(c.grant_at("a", key));
  auto resumed = report.resumed_workflows;
  std::sort(resumed.begin(), resumed.end());
  BOOST_TEST(resumed == (std::vector<std::string>{"a/run-a", "run-b"}));
  BOOST_TEST(c.node("a").stored("run-a").status
             == model::run_status::completed);
  BOOST_TEST(c.node("b").stored("run-b").status
             == model::run_status::completed);
}

BOOST_AUTO_TEST_CASE(calls_of_a_newer_protocol_or_malformed_are_refused) {
  cluster_fixture c;
  const auto key = c.key_owned_by("b", "order");
  c.start("a", key, "run-1");
  auto& a = c.node("a");
  auto ask = [&](actors::cluster_envelope call) {
    a.self->send(c.node("b").engine->gateway(), actors::cluster_atom_v,
                 std::move(call));
    c.settle();
    return a.reply<actors::cluster_envelope>();
  };
  auto grant = actors::decision_request{model::decision::grant(key, true)};
  auto newer
    = actors::detail::make_call("a", "decide", boost::json::value_from(grant));
  newer.version = actors::cluster_protocol_version + 1;
  auto answer = ask(newer);
  BOOST_TEST(answer.kind == "error");
  BOOST_TEST(answer.body.find("newer") != std::string::npos);
  BOOST_TEST(c.logged("b", "refused a call 'decide' from node 'a'"));

  for (auto body : {std::string{"{"}, std::string{"[1,2]"},
                    std::string{R"({"decision":{"key":7}})"}}) {
    auto bad = actors::detail::make_call("a", "decide", nullptr);
    bad.body = body;
    BOOST_TEST(ask(bad).kind == "error", body);
  }
  auto unknown = actors::detail::make_call("a", "explode", nullptr);
  BOOST_TEST(ask(unknown).kind == "error");
  // A decision on a key b does not own is refused, not applied.
  auto elsewhere = actors::decision_request{
    model::decision::grant(c.key_owned_by("c", "x"), true)};
  BOOST_TEST(ask(actors::detail::make_call("a", "decide",
                                           boost::json::value_from(elsewhere)))
               .kind
             == "error");
  BOOST_TEST(c.node("b").approval(key).status.is_pending());
}

BOOST_AUTO_TEST_SUITE_END()
