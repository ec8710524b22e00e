// Time, on a clock the tests move: approvals expire exactly once however
// many ask, expired runs take their timeout branch, a decision at or after
// the deadline is refused and changes nothing while one just before it
// wins, staggered deadlines expire in order, and a restart in the middle of
// a backlog of expiries misses none. SIGNOFF_TIME_ROUNDS sets the rounds
// and SIGNOFF_EXPIRY_BACKLOG the approvals of the restart cases (the long
// runs).

#include "signoff/orchestrator.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <set>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "agreement.hpp"
#include "child_process.hpp"
#include "support/runs.hpp"

using namespace signoff;
using namespace std::chrono_literals;
using test::store_kind;
using test::watched_orchestrator;

// Named, not anonymous: Boost.Test's data test cases are templates, and a
// template in a named namespace must not hold anonymous-namespace types.
namespace timing {

const auto both_stores
  = boost::unit_test::data::make({store_kind::memory, store_kind::lmdb});

int rounds(int fallback) {
  return test::count_from_env("SIGNOFF_TIME_ROUNDS", fallback);
}

constexpr model::duration time_to_decide = 1h;

/// Approvals past due at a restart.
int expiry_backlog() {
  return test::count_from_env("SIGNOFF_EXPIRY_BACKLOG", 2000);
}

/// Every kind of decision a person can make on `key`.
std::vector<model::decision> every_decision(const std::string& key) {
  return {model::decision::grant(key, {{"by", "ann"}}, "ann"),
          model::decision::edit(key, {{"by", "bob"}}, "bob"),
          model::decision::reject(key, "too late", "cy"),
          model::decision::cancel(key, "void", "dee")};
}

/// The deadline `key`'s approval was created with.
model::time_point deadline_of(watched_orchestrator& w, const std::string& key) {
  auto record = w.approval(key);
  BOOST_REQUIRE(record.spec.expires_at.has_value());
  return *record.spec.expires_at;
}

/// The approval expired at its deadline, decided by the system.
void check_expired_at(watched_orchestrator& w, const std::string& key,
                      model::time_point deadline) {
  const auto status = w.approval(key).status;
  BOOST_TEST(status.state == model::approval_state::expired, key);
  BOOST_TEST(status.decided_by == "system");
  BOOST_TEST(model::to_millis(status.decided_at.value())
             == model::to_millis(deadline));
}

/// Counts resolution notifications across the orchestrators of a restart
/// test, and can hold the approval registry inside the hook once the
/// count reaches a target: the test then stops the orchestrator with the
/// registry caught between committing a batch of expiries and waking their
/// runs.
class expiry_tally {
public:
  /// The hook body.
  void resolved(const std::string& key) {
    std::unique_lock lock{mutex_};
    ++hooked_[key];
    if (++total_ != target_)
      return;
    reached_ = true;
    changed_.notify_all();
    changed_.wait(lock, [this] { return released_; });
  }

  /// Holds the next hook call that brings the total to `target`.
  void hold_at(int target) {
    std::lock_guard guard{mutex_};
    target_ = std::max(target, total_ + 1);
    reached_ = released_ = false;
  }

  /// Waits (bounded) until the registry is held.
  bool wait_until_held() {
    std::unique_lock lock{mutex_};
    return changed_.wait_for(lock, std::chrono::minutes{3},
                             [this] { return reached_; });
  }

  void release() {
    std::lock_guard guard{mutex_};
    target_ = -1;
    released_ = true;
    changed_.notify_all();
  }

  int hooked(const std::string& key) {
    std::lock_guard guard{mutex_};
    return hooked_[key];
  }

private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, int> hooked_;
  int total_ = 0;
  int target_ = -1;
  bool reached_ = false;
  bool released_ = false;
};

/// Stops the orchestrator while a registry shard is held in `tally`'s
/// hook: the orchestrator has sent every actor of it an exit before the
/// shard is let go, so the shard finds its runs going or gone. The
/// orchestrator goes down once all its actors have.
void stop_while_held(std::unique_ptr<orchestrator>& orch, expiry_tally& tally) {
  {
    caf::scoped_actor self{orch->system()};
    self->monitor(orch->handle());
    self->send_exit(orch->handle(), caf::exit_reason::user_shutdown);
    // Answered after the exit, which came first from this sender: the
    // orchestrator is stopping now.
    self->request(orch->handle(), caf::infinite, actors::resident_atom_v)
      .receive([](std::size_t) {}, [](const caf::error&) {});
    tally.release();
    self->receive([](const caf::down_msg&) {});
  }
  orch.reset();
}

/// "approval.resolved" events in the outbox, per key.
std::map<std::string, std::vector<boost::json::value>>
resolved_events(persistence::outbox& outbox, model::time_point now) {
  std::map<std::string, std::vector<boost::json::value>> events;
  for (auto& entry :
       test::must(outbox.due(now + std::chrono::hours{24 * 3650},
                             std::numeric_limits<std::size_t>::max())))
    if (entry.event.at("type").as_string() == "approval.resolved")
      events[std::string{entry.event.at("key").as_string()}].push_back(
        std::move(entry.event));
  return events;
}

// The suite opens a namespace of its name, and `::time` is the C library's
// function: inside `timing` the two do not clash.
BOOST_AUTO_TEST_SUITE(time)

// Each round: six runs wait on their own keys; the clock passes their
// deadline and eight callers expire what is due at once, through the facade
// and through typed messages. Each approval expires once: one caller
// reports it, its trail has one expiry, the hook and the outbox tell of it
// once, and its run takes the timeout branch once.
BOOST_DATA_TEST_CASE(expiry_fires_once_however_many_ask, both_stores, kind) {
  constexpr int keys = 6;
  constexpr int callers = 8;
  watched_orchestrator w{kind};
  auto counters = w.fresh_workflow(
    "expiring", signoff::model::approval_options{}.expiring_in(time_to_decide));
  const int n = rounds(40);
  for (int round = 0; round < n; ++round) {
    BOOST_TEST_CONTEXT("round " << round) {
      std::set<std::string> waiting;
      for (int i = 0; i < keys; ++i) {
        const auto tag = std::to_string(round) + "-" + std::to_string(i);
        w.start_paused("expiring", "expiring:" + tag, "e-" + tag);
        waiting.insert("expiring:" + tag);
      }
      w.clock.advance(time_to_decide);
      std::vector<model::result<std::vector<std::string>>> replies(callers);
      test::all_at_once(callers, [&](int i) {
        replies[static_cast<std::size_t>(i)]
          = w.expire_due((i + round) % 2 == 0);
      });
      std::multiset<std::string> reported;
      for (const auto& r : replies)
        for (const auto& key : test::must(r))
          reported.insert(key);
      BOOST_TEST(
        (std::set<std::string>{reported.begin(), reported.end()} == waiting));
      BOOST_TEST(reported.size() == waiting.size());
      for (int i = 0; i < keys; ++i) {
        const auto tag = std::to_string(round) + "-" + std::to_string(i);
        const auto expired = w.approval("expiring:" + tag).status;
        BOOST_TEST(expired.state == model::approval_state::expired);
        test::check_decided_once(w, "expiring:" + tag);
        test::check_run(w, "e-" + tag, expired);
        BOOST_TEST(counters->branches_of("e-" + tag) == 1);
      }
      BOOST_TEST(test::must(w.orch->expire_due()).empty());
    }
  }
  BOOST_TEST(counters->prepared == n * keys);
  BOOST_TEST(counters->expired == n * keys);
  BOOST_TEST(counters->branches() == n * keys);
}

// From the deadline on, every decision is refused with APPROVAL_CONFLICT
// naming the expiry, even before the expiry is recorded, and changes
// nothing: not the record, not the trail, not the run, no notification.
// Once the expiry is recorded the same decisions are refused the same way.
BOOST_DATA_TEST_CASE(a_late_decision_is_refused_and_changes_nothing,
                     both_stores, kind) {
  watched_orchestrator w{kind};
  auto counters = w.fresh_workflow(
    "late", signoff::model::approval_options{}.expiring_in(time_to_decide));
  w.start_paused("late", "late", "run");
  const auto deadline = deadline_of(w, "late");
  const auto before = w.approval("late");
  w.clock.advance(time_to_decide);
  BOOST_REQUIRE(w.clock.now() == deadline);

  const auto expiry = before.status_at(deadline);
  auto refuse_all = [&] {
    for (bool typed : {false, true})
      for (auto& d : every_decision("late")) {
        BOOST_TEST_CONTEXT(to_string(d.kind) << (typed ? " typed" : "")) {
          auto r = w.decide(d, typed);
          BOOST_REQUIRE(r.is_err());
          test::check_conflict(r.error(), expiry);
        }
      }
  };
  refuse_all();
  BOOST_TEST(w.approval("late") == before);
  BOOST_TEST(test::must(w.orch->audit_trail("late")).size() == 1U);
  BOOST_TEST(w.hooked("late") == 0);
  BOOST_TEST(w.kept("late").empty());
  BOOST_TEST(w.status("run").status == model::run_status::paused);
  BOOST_TEST(test::must(w.orch->list_runs_waiting_on("late"))
               == std::vector<std::string>{"run"},
             boost::test_tools::per_element());
  BOOST_TEST(counters->branches() == 0);

  BOOST_TEST(test::must(w.orch->expire_due())
               == std::vector<std::string>{"late"},
             boost::test_tools::per_element());
  check_expired_at(w, "late", deadline);
  BOOST_TEST(w.approval("late").status == expiry);
  w.clock.advance(time_to_decide);
  refuse_all();
  test::check_decided_once(w, "late");
  test::check_run(w, "run", expiry);
  BOOST_TEST(counters->expired == 1);
  BOOST_TEST(counters->branches() == 1);
}

// A decision a millisecond before the deadline wins, whatever its kind, and
// a later expiry finds nothing to expire.
BOOST_DATA_TEST_CASE(a_decision_just_before_the_deadline_wins, both_stores,
                     kind) {
  watched_orchestrator w{kind};
  auto counters = w.fresh_workflow(
    "close", signoff::model::approval_options{}.expiring_in(time_to_decide));
  std::vector<model::decision> decisions;
  for (const auto& d : every_decision("close")) {
    const auto key = "close:" + std::string{to_string(d.kind)};
    w.start_paused("close", key, "run-" + key);
    decisions.push_back(d);
    decisions.back().key = key;
  }
  const auto deadline = deadline_of(w, decisions.front().key);
  w.clock.advance(time_to_decide - 1ms);
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    auto report = test::must(w.decide(decisions[i], i % 2 == 1));
    BOOST_TEST(report.applied);
    BOOST_TEST(model::to_millis(report.decided_at)
               == model::to_millis(deadline - 1ms));
  }
  w.clock.advance(time_to_decide);
  BOOST_TEST(test::must(w.orch->expire_due()).empty());
  for (const auto& d : decisions) {
    BOOST_TEST_CONTEXT(d.key) {
      const auto won = w.approval(d.key).status;
      BOOST_TEST(won.decided_by == d.actor);
      test::check_decided_once(w, d.key);
      test::check_run(w, "run-" + d.key, won);
    }
  }
  BOOST_TEST(counters->expired == 0);
  BOOST_TEST(counters->branches() == 4);
}

// Forty approvals with deadlines a minute apart, created in shuffled order,
// expire in deadline order: one at a time as the clock passes each, then
// the rest in one call that works through several batches.
BOOST_DATA_TEST_CASE(staggered_deadlines_expire_in_order, both_stores, kind) {
  constexpr int approvals = 40;
  watched_orchestrator w{kind, [](orchestrator_options& options) {
                           options.expiry_batch = 8;
                         }};
  auto counters = std::make_shared<test::branch_counters>();
  std::vector<int> minutes(approvals);
  std::iota(minutes.begin(), minutes.end(), 1);
  std::shuffle(minutes.begin(), minutes.end(), std::mt19937{7});
  // Key names sort in another order again, so only deadlines give the order.
  auto key_of = [](int minute) {
    return "staggered:" + std::to_string((minute * 17) % 41);
  };
  for (int minute : minutes) {
    const auto name = "staggered-" + std::to_string(minute);
    w.orch->register_workflow(
      name, test::branching_workflow(
              counters, signoff::model::approval_options{}.expiring_in(
                          model::duration{1min} * minute)));
    w.start_paused(name, key_of(minute), "run-" + std::to_string(minute));
  }
  const auto start = w.clock.now();
  constexpr int one_by_one = approvals / 2;
  for (int minute = 1; minute <= one_by_one; ++minute) {
    w.clock.advance(1min);
    BOOST_TEST(test::must(w.orch->expire_due())
                 == std::vector<std::string>{key_of(minute)},
               boost::test_tools::per_element());
    BOOST_TEST(counters->expired == minute);
  }
  w.clock.advance(1h);
  std::vector<std::string> rest;
  for (int minute = one_by_one + 1; minute <= approvals; ++minute)
    rest.push_back(key_of(minute));
  BOOST_TEST(test::must(w.orch->expire_due()) == rest,
             boost::test_tools::per_element());
  for (int minute = 1; minute <= approvals; ++minute) {
    BOOST_TEST_CONTEXT("minute " << minute) {
      check_expired_at(w, key_of(minute), start + 1min * minute);
      test::check_decided_once(w, key_of(minute));
      test::check_run(w, "run-" + std::to_string(minute),
                      w.approval(key_of(minute)).status);
    }
  }
  BOOST_TEST(counters->expired == approvals);
  BOOST_TEST(counters->branches() == approvals);
}

// The registry's own timer (on the system clock) races callers expiring
// and deciding right at the deadline: whichever commits first wins, the
// approval is decided once, and its run takes that branch once.
BOOST_DATA_TEST_CASE(the_registry_timer_races_callers_at_the_deadline,
                     both_stores, kind) {
  constexpr int callers = 4;
  watched_orchestrator w{kind, [](orchestrator_options& options) {
                           options.clock = model::system_now;
                         }};
  constexpr auto short_deadline = 20ms;
  auto counters
    = w.fresh_workflow("timer", signoff::model::approval_options{}.expiring_in(
                                  model::duration{short_deadline}));
  const int n = rounds(20);
  int expired = 0;
  for (int round = 0; round < n; ++round) {
    BOOST_TEST_CONTEXT("round " << round) {
      const auto tag = std::to_string(round);
      w.start_paused("timer", "timer:" + tag, "t-" + tag);
      // Callers reach the deadline about when the registry's timer fires.
      std::this_thread::sleep_for(short_deadline - 2ms);
      std::vector<model::result<decision_report>> decided(callers);
      test::all_at_once(callers, [&](int i) {
        const auto u = static_cast<std::size_t>(i);
        if (i % 2 == 0)
          (void)w.expire_due(i % 4 == 0);
        else
          decided[u] = w.decide(
            model::decision::grant("timer:" + tag, i, std::to_string(i)),
            i % 4 == 1);
      });
      // The registry's expiry may still be on its way to the run.
      BOOST_TEST(test::eventually(
        [&] { return model::is_finished(w.status("t-" + tag).status); }));
      const auto won = w.approval("timer:" + tag).status;
      expired += won.state == model::approval_state::expired ? 1 : 0;
      int applied = 0;
      for (int i = 1; i < callers; i += 2) {
        const auto& r = decided[static_cast<std::size_t>(i)];
        if (r.is_ok())
          ++applied;
        else
          test::check_conflict(r.error(), won);
      }
      BOOST_TEST(applied
                 == (won.state == model::approval_state::expired ? 0 : 1));
      test::check_decided_once(w, "timer:" + tag);
      test::check_run(w, "t-" + tag, won);
      BOOST_TEST(counters->branches_of("t-" + tag) == 1);
    }
  }
  BOOST_TEST(counters->branches() == n);
  BOOST_TEST_MESSAGE(kind << ": the expiry won " << expired << " of " << n
                          << " rounds");
}

// Thousands of runs wait on LMDB; the clock passes all their deadlines and
// an orchestrator starts expiring the backlog, a batch per timer tick. It is
// stopped in the middle (its registry held just after committing a batch,
// before waking its runs), again and again, and each time a new
// orchestrator opens the same directory with the same clock. In the end
// every approval expired exactly once, was notified once, and every run
// took its timeout branch; a branch step ran again only for a run whose
// completion was not yet stored when its orchestrator stopped.
BOOST_AUTO_TEST_CASE(a_restart_in_the_middle_of_expiries_misses_none) {
  const int backlog = expiry_backlog();
  constexpr std::size_t batch = 64;
  const int stops
    = std::clamp(backlog / 600, 1, backlog / static_cast<int>(batch) - 1);
  test::temp_dir dir;
  test::manual_clock clock;
  auto counters = std::make_shared<test::branch_counters>();
  expiry_tally tally;
  auto run_id = [](int i) {
    return "exp-" + std::to_string(i);
  };
  auto key = [](int i) {
    return "expiry:" + std::to_string(i);
  };
  auto open = [&] {
    auto stores = persistence::open_lmdb_stores(
      {.path = dir.str(), .durability = persistence::lmdb_durability::no_sync});
    BOOST_REQUIRE(stores.is_ok());
    return std::move(stores.value());
  };
  auto start = [&](const persistence::lmdb_stores& stores) {
    auto options = test::lmdb_orchestrator_options(stores);
    options.outbox = stores.notifications;
    options.clock = clock.fn();
    options.expiry_batch = batch;
    options.wake_poll_interval = 20ms;
    options.hooks.on_approval_resolved
      = [&tally](const actors::approval_event& e) {
          tally.resolved(e.key);
        };
    auto orch = std::make_unique<orchestrator>(std::move(options));
    orch->register_workflow(
      "expiring", test::branching_workflow(
                    counters, signoff::model::approval_options{}.expiring_in(
                                time_to_decide)));
    return orch;
  };

  {
    auto stores = open();
    auto orch = start(stores);
    std::atomic<int> paused{0};
    test::all_at_once(4, [&](int t) {
      for (int i = t; i < backlog; i += 4)
        paused
          += orch->execute("expiring", test::key_input(key(i)), {run_id(i)})
               ->status
             == model::run_status::paused;
    });
    BOOST_REQUIRE_EQUAL(paused.load(), backlog);
  }
  clock.advance(2 * time_to_decide);

  // What each stop left: a run's branch steps so far, and whether its
  // completion was stored.
  struct at_stop {
    int branches = 0;
    bool completed = false;
  };
  std::vector<std::vector<at_stop>> stopped;
  for (int stop = 1; stop <= stops; ++stop) {
    BOOST_TEST_CONTEXT("stop " << stop) {
      auto stores = open();
      tally.hold_at(stop * backlog / (stops + 1));
      auto orch = start(stores);
      BOOST_REQUIRE(tally.wait_until_held());
      stop_while_held(orch, tally);
      BOOST_REQUIRE_MESSAGE(
        !test::must(stores.approvals->due_for_expiry(clock.now(), 1)).empty(),
        "the stop came after the last expiry");
      auto& snapshot = stopped.emplace_back(backlog);
      for (int i = 0; i < backlog; ++i) {
        auto s = test::must(stores.runs->load(run_id(i)));
        BOOST_REQUIRE(s.has_value());
        snapshot[i] = {counters->branches_of(run_id(i)),
                       s->status == model::run_status::completed};
      }
    }
  }

  auto stores = open();
  {
    auto orch = start(stores);
    BOOST_REQUIRE(test::eventually(
      [&] {
        return test::must(orch->list_pending_workflows()).empty()
               && test::must(stores.approvals->due_for_expiry(clock.now(), 1))
                    .empty();
      },
      std::chrono::minutes{3}));
  }
  auto events = resolved_events(*stores.notifications, clock.now());
  int reran = 0;
  for (int i = 0; i < backlog; ++i) {
    BOOST_TEST_CONTEXT(key(i)) {
      auto record = test::must(stores.approvals->find_approval(key(i)));
      BOOST_REQUIRE(record.has_value());
      BOOST_TEST(record->status.state == model::approval_state::expired);
      auto trail = test::must(stores.approvals->audit_trail(key(i)));
      BOOST_REQUIRE_EQUAL(trail.size(), 2U);
      BOOST_TEST(trail.back().action == "expired");
      BOOST_TEST(tally.hooked(key(i)) <= 1);
      BOOST_REQUIRE_EQUAL(events[key(i)].size(), 1U);
      BOOST_TEST(events[key(i)].front().at("status")
                 == boost::json::value_from(record->status));

      auto run = test::must(stores.runs->load(run_id(i)));
      BOOST_REQUIRE(run.has_value());
      BOOST_TEST(run->status == model::run_status::completed);
      BOOST_TEST(run->outcome->value().at("branch").as_string()
                 == model::error_type::approval_expired);
      const int branches = counters->branches_of(run_id(i));
      int in_flight = 0;
      for (const auto& snapshot : stopped) {
        const auto& s = snapshot[static_cast<std::size_t>(i)];
        if (s.completed)
          BOOST_TEST(branches == s.branches, "ran again after completing");
        else if (s.branches > 0)
          ++in_flight;
      }
      BOOST_TEST(branches >= 1);
      BOOST_TEST(branches <= 1 + in_flight);
      reran += branches - 1;
    }
  }
  BOOST_TEST(counters->prepared == backlog);
  BOOST_TEST_MESSAGE(backlog << " expiries across " << stops << " stops; "
                             << reran
                             << " branch steps ran again after a stop");
}

// A child process on LMDB expires a backlog and is killed with SIGKILL at
// random points, again and again; then one runs to the end on the same
// directory and clock. Every approval expired exactly once and was
// notified once, every run took its timeout branch, and no run prepared
// twice (its pause was stored before the first kill).
BOOST_AUTO_TEST_CASE(expiries_cut_by_kills_fire_once_after_restart) {
  // Half the backlog: the child commits with fsync.
  const int backlog = expiry_backlog() / 2;
  constexpr int most_kills = 10;
  test::temp_dir dir;
  const auto paused_at = model::to_millis(test::t0);
  const auto due_at = model::to_millis(test::t0 + 2 * time_to_decide);
  auto child = [&](const char* mode, std::int64_t clock) {
    return std::vector<std::string>{SIGNOFF_DURABILITY_CHILD, mode, dir.str(),
                                    std::to_string(backlog),
                                    std::to_string(clock)};
  };
  BOOST_REQUIRE_EQUAL(test::run_to_exit(child("pause-expiring", paused_at)), 0);
  const auto log = dir.path() / "effects.log";
  auto timed_out = [&] {
    std::set<std::string> orders;
    for (const auto& [what, order] : test::read_effects(log))
      if (what == "expired")
        orders.insert(order);
    return orders.size();
  };
  // Each child is killed a little after its first expiries show in the log,
  // so every kill lands in the middle of the work, never before it starts.
  std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> delay_ms{0, 20};
  int kills = 0;
  for (; kills < most_kills && timed_out() < std::size_t(backlog); ++kills) {
    const auto before = timed_out();
    test::child_process expiring{child("expire", due_at)};
    BOOST_REQUIRE(expiring.started());
    BOOST_REQUIRE(test::eventually([&] { return timed_out() > before; },
                                   std::chrono::minutes{1}));
    std::this_thread::sleep_for(std::chrono::milliseconds{delay_ms(rng)});
    expiring.kill();
  }
  BOOST_TEST_MESSAGE(kills << " kills; " << timed_out() << " of " << backlog
                           << " runs took the timeout branch under them");
  BOOST_REQUIRE_EQUAL(test::run_to_exit(child("expire", due_at)), 0);

  std::map<std::string, std::map<std::string, int>> effects;
  for (const auto& [what, order] : test::read_effects(log))
    ++effects[order][what];
  auto stores = persistence::open_lmdb_stores({.path = dir.str() + "/db"});
  BOOST_REQUIRE(stores.is_ok());
  auto events = resolved_events(*stores->notifications, test::t0);
  for (int i = 0; i < backlog; ++i) {
    const auto order = "o" + std::to_string(i);
    const auto key = "approval:" + order;
    BOOST_TEST_CONTEXT(key) {
      auto record = test::must(stores->approvals->find_approval(key));
      BOOST_REQUIRE(record.has_value());
      BOOST_TEST(record->status.state == model::approval_state::expired);
      auto trail = test::must(stores->approvals->audit_trail(key));
      BOOST_REQUIRE_EQUAL(trail.size(), 2U);
      BOOST_TEST(trail.back().action == "expired");
      BOOST_REQUIRE_EQUAL(events[key].size(), 1U);
      auto run = test::must(stores->runs->load("run-" + order));
      BOOST_REQUIRE(run.has_value());
      BOOST_TEST(run->status == model::run_status::completed);
      BOOST_TEST(run->outcome->value().at("branch").as_string()
                 == model::error_type::approval_expired);
      BOOST_TEST(effects[order]["prepare"] == 1);
      BOOST_TEST(effects[order]["other"] == 0);
      // The branch step in flight at a kill may run again (at least once).
      BOOST_TEST(effects[order]["expired"] >= 1);
      BOOST_TEST(effects[order]["expired"] <= 1 + kills);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace timing
