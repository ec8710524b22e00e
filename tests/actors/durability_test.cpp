#include "signoff/persistence/lmdb_store.hpp"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <future>
#include <map>
#include <random>
#include <set>
#include <span>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "child_process.hpp"
#include "fixtures.hpp"
#include "support/forwarding_stores.hpp"
#include "support/temp_dir.hpp"

using namespace signoff;
using namespace std::chrono_literals;

namespace {

/// Runs the durability child to its end and returns its exit code.
int run_child(const std::string& mode, const test::temp_dir& dir, int n) {
  return test::run_to_exit(
    {SIGNOFF_DURABILITY_CHILD, mode, dir.str(), std::to_string(n)});
}

std::vector<std::pair<std::string, std::string>>
read_effects(const test::temp_dir& dir) {
  return test::read_effects(dir.path() / "effects.log");
}

persistence::lmdb_stores reopen(const test::temp_dir& dir) {
  auto stores
    = persistence::open_lmdb_stores({.path = (dir.path() / "db").string()});
  BOOST_REQUIRE(stores.is_ok());
  return std::move(stores.value());
}

/// Checks every order finished with the boss's approval, decided once.
void check_all_completed(const test::temp_dir& dir, int n) {
  auto stores = reopen(dir);
  for (int i = 0; i < n; ++i) {
    const auto id = "o" + std::to_string(i);
    auto run = stores.runs->load("run-" + id);
    BOOST_REQUIRE(run.is_ok() && run.value());
    BOOST_TEST(to_string(run.value()->status) == "completed", id);
    auto approval = stores.approvals->find_approval("approval:" + id);
    BOOST_REQUIRE(approval.is_ok() && approval.value());
    BOOST_TEST(approval.value()->status.decided_by == "boss", id);
    auto trail = stores.approvals->audit_trail("approval:" + id).value();
    BOOST_TEST(
      std::count_if(trail.begin(), trail.end(),
                    [](const auto& e) { return e.action == "approved"; })
        == 1,
      id);
  }
}

using charge_atom = caf::atom_constant<caf::atom("charge")>;
constexpr charge_atom charge_atom_v{};

/// A payment service: answers a charge with twice its amount, or (when it
/// does not answer) keeps every charge waiting for good.
using charger = caf::typed_actor<caf::replies_to<charge_atom, int>::with<int>>;

struct charger_state {
  std::vector<caf::typed_response_promise<int>> unanswered;
};

charger::behavior_type
charger_behavior(charger::stateful_pointer<charger_state> self, bool answers) {
  return {[self, answers](charge_atom,
                          int amount) -> caf::typed_response_promise<int> {
    auto rp = self->make_response_promise<int>();
    if (answers)
      rp.deliver(2 * amount);
    else
      self->state.unanswered.push_back(rp);
    return rp;
  }};
}

/// Waits for an approval, then charges: the run that is woken goes on to
/// await another actor's reply. `charged` hears the reply.
workflow charge_after_approval(charger service,
                               std::shared_ptr<std::promise<int>> charged) {
  return [service, charged](step& step, const boost::json::value& in)
           -> task<model::result<boost::json::value>> {
    const std::string key{in.at("key").as_string()};
    co_await step.approval(key);
    const int amount = co_await step.request("charge", std::chrono::hours{1},
                                             service, charge_atom_v, 21);
    auto tell = [charged, amount] {
      charged->set_value(amount);
    };
    co_await step.run("tell", tell);
    co_return boost::json::value(amount);
  };
}
} // namespace

BOOST_AUTO_TEST_SUITE(durability)

BOOST_AUTO_TEST_CASE(use_lmdb_stores_takes_what_the_directory_opened) {
  test::temp_dir dir;
  auto stores = reopen(dir);
  orchestrator_options options;
  const auto own_outbox = persistence::make_memory_outbox();
  options.outbox = own_outbox;
  options.max_resident_runs = 7;
  options.use_lmdb_stores(stores);
  BOOST_TEST(options.approval_store == stores.approvals);
  BOOST_TEST(options.workflow_state_store == stores.runs);
  BOOST_TEST(options.journal == stores.journal);
  // Events are kept only when asked; the other fields stay as they were.
  BOOST_TEST(options.outbox == own_outbox);
  BOOST_TEST(options.max_resident_runs == 7U);
  options.use_lmdb_stores(stores, true);
  BOOST_TEST(options.outbox == stores.notifications);
}

// A process pauses 1,000 runs and exits; a new process grants them from the
// same directory. Every run completes and each side effect happened once.
BOOST_AUTO_TEST_CASE(paused_runs_survive_a_restart) {
  constexpr int n = 1000;
  test::temp_dir dir;
  BOOST_REQUIRE_EQUAL(run_child("pause", dir, n), 0);
  BOOST_REQUIRE_EQUAL(run_child("grant", dir, n), 0);
  std::map<std::string, int> creates;
  std::map<std::string, int> fulfils;
  for (const auto& [what, order] : read_effects(dir)) {
    creates[order] += what == "create" ? 1 : 0;
    fulfils[order] += what == "fulfil" ? 1 : 0;
  }
  BOOST_REQUIRE_EQUAL(creates.size(), std::size_t{n});
  for (const auto& [order, count] : creates) {
    BOOST_TEST(count == 1, order);
    BOOST_TEST(fulfils[order] == 1, order);
  }
  check_all_completed(dir, n);
}

// A child driving orders is killed with SIGKILL at random points, again and
// again. After each restart nothing acknowledged is lost, no step that was
// checkpointed (acknowledged paused or completed) runs again, and in the
// end every run finishes.
BOOST_AUTO_TEST_CASE(killed_at_random_points_loses_nothing_acknowledged) {
  // Enough orders that every kill lands while the child still works.
  constexpr int n = 1500;
  constexpr int kills = 20;
  test::temp_dir dir;
  std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> delay_ms{5, 60};
  for (int k = 0; k < kills; ++k) {
    test::child_process child{
      {SIGNOFF_DURABILITY_CHILD, "work", dir.str(), std::to_string(n)}};
    BOOST_REQUIRE(child.started());
    std::this_thread::sleep_for(std::chrono::milliseconds{delay_ms(rng)});
    child.kill();
  }
  std::set<std::string> completed_under_kills;
  for (const auto& [what, order] : read_effects(dir))
    if (what == "ack-completed")
      completed_under_kills.insert(order);
  const auto acked_before_last_run = completed_under_kills.size();
  BOOST_TEST_MESSAGE(acked_before_last_run << " of " << n
                                           << " orders completed under kills");
  BOOST_TEST(acked_before_last_run < std::size_t{n},
             "the kills landed after all work");
  BOOST_REQUIRE_EQUAL(run_child("work", dir, n), 0);

  std::set<std::string> paused_acks;
  std::set<std::string> completed_acks;
  std::set<std::string> granted_acks;
  std::map<std::string, int> creates;
  for (const auto& [what, order] : read_effects(dir)) {
    if (what == "create") {
      BOOST_TEST(!paused_acks.contains(order),
                 "create of " << order << " ran after its pause was acked");
      ++creates[order];
    } else if (what == "fulfil") {
      BOOST_TEST(!completed_acks.contains(order),
                 "fulfil of " << order << " ran after completion was acked");
    } else if (what == "ack-paused") {
      paused_acks.insert(order);
    } else if (what == "ack-completed") {
      completed_acks.insert(order);
    } else if (what == "ack-granted") {
      granted_acks.insert(order);
    }
  }
  BOOST_TEST(creates.size() == std::size_t{n});
  BOOST_TEST(completed_acks.size() == std::size_t{n});
  check_all_completed(dir, n);
}

BOOST_AUTO_TEST_CASE(quick_start_on_lmdb) {
  test::temp_dir dir;
  auto counters = std::make_shared<test::order_counters>();
  std::string run_id;
  {
    auto stores = reopen(dir);
    orchestrator orch{test::lmdb_orchestrator_options(stores)};
    orch.register_workflow("order-approval", test::order_workflow(counters));
    auto paused = orch.execute("order-approval", test::order_input("ord_123"));
    BOOST_REQUIRE(paused.is_ok());
    BOOST_TEST(to_string(paused->status) == "paused");
    run_id = paused->run_id;
  }
  // A new orchestrator on the same directory: the run wakes on its grant.
  auto stores = reopen(dir);
  orchestrator orch{test::lmdb_orchestrator_options(stores)};
  orch.register_workflow("order-approval", test::order_workflow(counters));
  BOOST_TEST(orch.list_pending_approvals("approval:").value()
               == std::vector<std::string>{"approval:manager:ord_123"},
             boost::test_tools::per_element());
  auto granted = orch.grant_approval("approval:manager:ord_123",
                                     {{"approvedBy", "jane@example.com"}});
  BOOST_REQUIRE(granted.is_ok());
  BOOST_TEST(granted->resumed_workflows == std::vector<std::string>{run_id},
             boost::test_tools::per_element());
  auto status = orch.get_workflow_status(run_id).value();
  BOOST_TEST(to_string(status.status) == "completed");
  BOOST_TEST(status.outcome->value().at("approvedBy").as_string()
             == "jane@example.com");
  BOOST_TEST(counters->create_order == 1);
  BOOST_TEST(counters->fulfil_order == 1);
}

// Expiries that fell due while no process ran fire after the restart.
BOOST_AUTO_TEST_CASE(expiries_due_during_downtime_fire_after_restart) {
  test::temp_dir dir;
  auto after = std::make_shared<std::atomic<int>>(0);
  auto workflow = test::single_approval_workflow(
    after, true,
    signoff::model::approval_options{}.expiring_in(model::duration{100ms}));
  std::vector<std::string> runs;
  {
    auto stores = reopen(dir);
    orchestrator orch{test::lmdb_orchestrator_options(stores)};
    orch.register_workflow("single", workflow);
    for (int i = 0; i < 3; ++i)
      runs.push_back(
        orch.execute("single", test::key_input("k" + std::to_string(i)))
          ->run_id);
  }
  std::this_thread::sleep_for(200ms);
  auto stores = reopen(dir);
  orchestrator orch{test::lmdb_orchestrator_options(stores)};
  orch.register_workflow("single", workflow);
  for (const auto& id : runs) {
    BOOST_TEST(test::eventually([&] {
      return to_string(orch.get_workflow_status(id)->status) == "completed";
    }));
    BOOST_TEST(
      orch.get_workflow_status(id)->outcome->value().at("branch").as_string()
      == "APPROVAL_EXPIRED");
  }
  BOOST_TEST(*after == 3);
}

// A decision's answer frees the registry from the wake it owed, so the run
// it woke must hold the decision durably before that answer: here the run
// goes on to await a service that never answers, and the process ends. The
// run is stored as running past its approval, and a new process resumes it
// to its end.
BOOST_AUTO_TEST_CASE(a_woken_run_awaiting_a_reply_survives_a_restart) {
  test::temp_dir dir;
  {
    auto stores = persistence::open_lmdb_stores(
      {.path = dir.str(), .durability = persistence::lmdb_durability::no_sync});
    BOOST_REQUIRE(stores.is_ok());
    orchestrator orch{test::lmdb_orchestrator_options(stores.value())};
    auto silent = orch.system().spawn(charger_behavior, false);
    auto never = std::make_shared<std::promise<int>>();
    orch.register_workflow("charge", charge_after_approval(silent, never));
    auto run = orch.execute("charge", {{"key", "approval:charge"}},
                            {.run_id = "run-charge"});
    BOOST_REQUIRE(run.is_ok());
    BOOST_REQUIRE(run->status == model::run_status::paused);
    auto granted = orch.grant_approval("approval:charge", {{"ok", true}});
    BOOST_REQUIRE(granted.is_ok());
    BOOST_TEST(granted->resumed_workflows
               == std::vector<std::string>{"run-charge"});
    // Another run's pause: a commit after the decision's.
    BOOST_REQUIRE(
      orch
        .execute("charge", {{"key", "approval:other"}}, {.run_id = "run-other"})
        .is_ok());
    auto stored = stores->runs->load("run-charge");
    BOOST_REQUIRE(stored.is_ok() && stored.value());
    BOOST_TEST(to_string(stored.value()->status) == "running");
    BOOST_TEST(stored.value()->checkpoints.contains("approval:charge"));
    caf::anon_send_exit(silent, caf::exit_reason::user_shutdown);
  }
  auto stores = persistence::open_lmdb_stores(
    {.path = dir.str(), .durability = persistence::lmdb_durability::no_sync});
  BOOST_REQUIRE(stores.is_ok());
  orchestrator orch{test::lmdb_orchestrator_options(stores.value())};
  auto answering = orch.system().spawn(charger_behavior, true);
  auto charged = std::make_shared<std::promise<int>>();
  auto heard = charged->get_future();
  // Registering the workflow resumes its runs stored as running.
  orch.register_workflow("charge", charge_after_approval(answering, charged));
  BOOST_REQUIRE(heard.wait_for(60s) == std::future_status::ready);
  BOOST_TEST(heard.get() == 42);
  caf::anon_send_exit(answering, caf::exit_reason::user_shutdown);
}

// With at most 100 resident runs, 10,000 paused runs still all resume
// correctly on their decisions: passivated ones come back from the store.
BOOST_AUTO_TEST_CASE(passivated_runs_resume_on_their_decisions) {
  constexpr int n = 10'000;
  test::temp_dir dir;
  auto stores = persistence::open_lmdb_stores(
    {.path = dir.str(), .durability = persistence::lmdb_durability::no_sync});
  BOOST_REQUIRE(stores.is_ok());
  auto options = test::lmdb_orchestrator_options(stores.value());
  options.max_resident_runs = 100;
  auto counters = std::make_shared<test::order_counters>();
  orchestrator orch{std::move(options)};
  orch.register_workflow("order-approval", test::order_workflow(counters));
  auto resident = [&] {
    caf::scoped_actor self{orch.system()};
    std::size_t count = 0;
    self->request(orch.handle(), caf::infinite, actors::resident_atom_v)
      .receive([&](std::size_t n) { count = n; }, [](caf::error&) {});
    return count;
  };
  auto in_parallel = [](const std::function<void(int)>& body) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&body, t] {
        for (int i = t; i < n; i += 4)
          body(i);
      });
    for (auto& th : threads)
      th.join();
  };
  std::atomic<int> paused{0};
  in_parallel([&](int i) {
    auto r = orch.execute("order-approval",
                          test::order_input("o" + std::to_string(i)));
    paused += r.is_ok() && r->status == model::run_status::paused ? 1 : 0;
  });
  BOOST_REQUIRE_EQUAL(paused.load(), n);
  // Runs asked to passivate leave once their actor has read the request:
  // the limit holds as soon as the last of them is gone.
  BOOST_TEST(test::eventually([&] { return resident() <= 100U; }));
  std::atomic<int> completed{0};
  in_parallel([&](int i) {
    auto r = orch.grant_approval("approval:manager:o" + std::to_string(i),
                                 {{"approvedBy", "jane"}});
    completed += r.is_ok() && r->resumed_workflows.size() == 1 ? 1 : 0;
  });
  BOOST_TEST(completed == n);
  BOOST_TEST(counters->create_order == n);
  BOOST_TEST(counters->fulfil_order == n);
  BOOST_TEST(orch.list_pending_workflows()->empty());
  BOOST_TEST(test::eventually([&] { return resident() <= 100U; }));
}

// 64 threads granting at once: every decision is durable, and they share
// commits: far fewer LMDB commits than decisions.
namespace {

/// The stores' journal whose first commit once armed is held until
/// `hold_until` approval changes are encoded, so that the deciders' first
/// decisions queue behind it whatever the machine's speed: the writer must
/// then commit them together. Counts the largest commit.
class gated_journal final : public test::forwarding_journal {
public:
  gated_journal(std::shared_ptr<persistence::journal> inner, int hold_until)
      : forwarding_journal(std::move(inner)), hold_until_(hold_until) {}

  using forwarding_journal::encode;
  void encode(const persistence::approval_change& change,
              persistence::write_batch& out) const override {
    forwarding_journal::encode(change, out);
    if (++encoded_ == hold_until_)
      opened_.set_value();
  }

  std::vector<model::result<void>>
  commit(std::span<const persistence::write_batch> batches) override {
    // One thread commits at a time, so the first commit is ours to hold. A
    // bound keeps a broken engine from hanging the suite: the check on the
    // largest commit then fails instead.
    if (armed_ && !held_) {
      held_ = true;
      (void)opened_future_.wait_for(std::chrono::seconds{60});
    }
    largest_ = std::max(largest_.load(), batches.size());
    return forwarding_journal::commit(batches);
  }

  /// From now on, the next commit is held.
  void arm() noexcept {
    armed_ = true;
  }
  [[nodiscard]] std::size_t largest_commit() const noexcept {
    return largest_;
  }

private:
  const int hold_until_;
  mutable std::atomic<int> encoded_{0};
  mutable std::promise<void> opened_;
  std::future<void> opened_future_ = opened_.get_future();
  std::atomic<bool> armed_{false};
  bool held_ = false;
  std::atomic<std::size_t> largest_{0};
};

} // namespace

BOOST_AUTO_TEST_CASE(concurrent_decisions_share_commits) {
  constexpr int deciders = 64;
  constexpr int per_thread = 8;
  constexpr int decisions = deciders * per_thread;
  test::temp_dir dir;
  {
    auto stores = persistence::open_lmdb_stores({.path = dir.str()});
    BOOST_REQUIRE(stores.is_ok());
    auto options = test::lmdb_orchestrator_options(stores.value());
    auto journal = std::make_shared<gated_journal>(stores->journal, deciders);
    options.journal = journal;
    orchestrator orch{std::move(options)};
    const auto commits_before = stores->journal->commit_count();
    journal->arm();
    std::barrier start{deciders};
    std::atomic<int> granted{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < deciders; ++t)
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        for (int i = 0; i < per_thread; ++i) {
          auto key = "k" + std::to_string(t) + "-" + std::to_string(i);
          auto r = orch.grant_approval(key, t, {.approved_by = "a"});
          granted += r.is_ok() && r->applied ? 1 : 0;
        }
      });
    for (auto& th : threads)
      th.join();
    BOOST_REQUIRE_EQUAL(granted.load(), decisions);
    const auto commits = stores->journal->commit_count() - commits_before;
    BOOST_TEST_MESSAGE(decisions << " decisions in " << commits
                                 << " commits, the largest of "
                                 << journal->largest_commit());
    // The decisions queued behind the held commit went into one.
    BOOST_TEST(journal->largest_commit() > 1U);
    BOOST_TEST(commits < std::uint64_t{decisions});
  }
  auto stores = persistence::open_lmdb_stores({.path = dir.str()});
  BOOST_REQUIRE(stores.is_ok());
  for (int t = 0; t < deciders; ++t)
    for (int i = 0; i < per_thread; ++i) {
      auto key = "k" + std::to_string(t) + "-" + std::to_string(i);
      auto record = stores->approvals->find_approval(key);
      BOOST_REQUIRE(record.is_ok() && record.value());
      BOOST_TEST(to_string(record.value()->status.state) == "approved", key);
      BOOST_TEST(record.value()->status.value.as_int64() == t);
    }
}

BOOST_AUTO_TEST_SUITE_END()
