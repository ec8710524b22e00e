// Races on one approval key and one run, many rounds, on both stores: the
// contenders of a round are released together by a barrier and go through
// the blocking facade and through typed messages to the orchestrator actor.
// Each round checks that exactly one outcome won and that the approval, its
// audit trail, the notifications, the runs and their side effects agree.
// SIGNOFF_RACE_ROUNDS sets the rounds of every case (the long runs).

#include "signoff/orchestrator.hpp"

#include <array>
#include <map>
#include <random>
#include <set>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "agreement.hpp"

using namespace signoff;
using namespace std::chrono_literals;
using test::store_kind;
using test::watched_orchestrator;

// Named, not anonymous: Boost.Test's data test cases are templates, and a
// template in a named namespace must not hold anonymous-namespace types.
namespace race {

const auto both_stores
  = boost::unit_test::data::make({store_kind::memory, store_kind::lmdb});

int rounds(int fallback) {
  return test::count_from_env("SIGNOFF_RACE_ROUNDS", fallback);
}

/// Each round's approval lasts this long on the test's clock; an expiry
/// contender moves the clock past it.
constexpr model::duration time_to_decide = 1h;

/// What one contender does.
enum class move { grant, edit, reject, cancel, cancel_run, expire };

constexpr std::array all_moves{move::grant,  move::edit,       move::reject,
                               move::cancel, move::cancel_run, move::expire};

bool is_decision(move m) {
  return m == move::grant || m == move::edit || m == move::reject
         || m == move::cancel;
}

/// The state a decision of kind `m` leaves when it wins.
model::approval_state state_after(move m) {
  switch (m) {
    case move::grant:
      return model::approval_state::approved;
    case move::edit:
      return model::approval_state::edited;
    case move::reject:
      return model::approval_state::rejected;
    case move::cancel:
    case move::cancel_run:
      return model::approval_state::cancelled;
    case move::expire:
      break;
  }
  return model::approval_state::expired;
}

/// What a contender did and what it got back.
struct attempt {
  move what = move::grant;
  /// The decision's actor ("" for the run and expiry moves).
  std::string actor{};
  /// Through typed messages to the orchestrator actor, not the facade.
  bool typed = false;
  std::optional<model::result<decision_report>> decided{};
  std::optional<model::result<model::execution_result>> run{};
  std::optional<model::result<std::vector<std::string>>> expired{};
};

/// The decision `actor` makes with `m` on `key`.
model::decision decision_of(move m, const std::string& key,
                            const std::string& actor) {
  switch (m) {
    case move::edit:
      return model::decision::edit(key, {{"by", actor}, {"edited", true}},
                                   actor);
    case move::reject:
      return model::decision::reject(key, "no from " + actor, actor);
    case move::cancel:
      return model::decision::cancel(key, "void from " + actor, actor);
    default:
      return model::decision::grant(key, {{"by", actor}}, actor);
  }
}

/// Every branch step that ran is the winner's, once per finished run.
void check_effects(const test::branch_counters& n, int runs, int finished,
                   model::approval_state won) {
  BOOST_TEST(n.prepared == runs);
  BOOST_TEST(n.branches() == finished);
  const auto& winners = won == model::approval_state::rejected    ? n.rejected
                        : won == model::approval_state::expired   ? n.expired
                        : won == model::approval_state::cancelled ? n.cancelled
                                                                  : n.approved;
  BOOST_TEST(winners == finished);
}

/// Each round: a fresh key with two runs waiting on it, and eight
/// contenders granting, editing, rejecting, cancelling the key, cancelling
/// the first run and forcing expiry (moving the clock past the deadline,
/// then expiring) at once. Exactly one decision wins the approval, the
/// losers are told who won, and everything else follows the winner.
void contend(watched_orchestrator& env, store_kind kind) {
  constexpr int contenders = 8;
  std::mt19937 rng{20261126};
  std::uniform_int_distribution<std::size_t> pick{0, all_moves.size() - 1};
  std::map<std::string, int> winners;
  const int n = rounds(60);
  for (int round = 0; round < n; ++round) {
    BOOST_TEST_CONTEXT("round " << round) {
      const auto tag = std::to_string(round);
      const auto key = "race:" + tag;
      const auto run_a = "a-" + tag;
      const auto run_b = "b-" + tag;
      auto counters = env.fresh_workflow(
        "race-" + tag,
        signoff::model::approval_options{}.expiring_in(time_to_decide));
      env.start_paused("race-" + tag, key, run_a);
      env.start_paused("race-" + tag, key, run_b);

      std::vector<attempt> attempts(contenders);
      for (int i = 0; i < contenders; ++i) {
        auto& a = attempts[static_cast<std::size_t>(i)];
        a.what = all_moves[pick(rng)];
        a.typed = (i + round) % 2 == 0;
        if (is_decision(a.what))
          a.actor = "contender-" + std::to_string(i);
      }
      test::all_at_once(contenders, [&](int i) {
        auto& a = attempts[static_cast<std::size_t>(i)];
        if (is_decision(a.what)) {
          a.decided = env.decide(decision_of(a.what, key, a.actor), a.typed);
        } else if (a.what == move::cancel_run) {
          a.run = env.cancel_run(run_a, a.typed);
        } else {
          // One round trip first, as every decision makes one, so the clock
          // moves about when decisions commit rather than before any left.
          (void)env.orch->get_approval(key);
          env.clock.advance(2 * time_to_decide);
          a.expired = env.expire_due(a.typed);
        }
      });

      const auto won = env.approval(key).status;
      BOOST_REQUIRE(!won.is_pending());
      ++winners[won.decided_by.starts_with("run:")
                  ? "cancel_run"
                  : std::string{to_string(won.state)}];
      test::check_decided_once(env, key);

      int decisions_won = 0;
      int expiries_won = 0;
      int runs_cancelled = 0;
      for (const auto& a : attempts) {
        if (a.decided) {
          const auto& r = *a.decided;
          if (r.is_err()) {
            test::check_conflict(r.error(), won);
            continue;
          }
          ++decisions_won;
          BOOST_TEST(r->applied);
          BOOST_TEST(r->approval.status == won);
          BOOST_TEST(won.decided_by == a.actor);
          BOOST_TEST(won.state == state_after(a.what));
        } else if (a.run) {
          const auto& r = *a.run;
          if (r.is_err()) {
            BOOST_TEST(r.error().type == model::error_type::invalid_run_state,
                       test::describe(r.error()));
            continue;
          }
          ++runs_cancelled;
          BOOST_TEST(r->status == model::run_status::cancelled);
          BOOST_TEST(r->pending_approvals == std::vector<std::string>{key},
                     boost::test_tools::per_element());
        } else {
          const auto& expired = test::must(*a.expired);
          BOOST_TEST(expired.size() <= 1U);
          if (!expired.empty()) {
            ++expiries_won;
            BOOST_TEST(expired.front() == key);
          }
        }
      }
      const bool by_cancel_run = won.decided_by == "run:" + run_a;
      BOOST_TEST(decisions_won + expiries_won + (by_cancel_run ? 1 : 0) == 1);
      BOOST_TEST(expiries_won
                 == (won.state == model::approval_state::expired ? 1 : 0));
      BOOST_TEST(runs_cancelled <= 1);
      if (by_cancel_run)
        BOOST_TEST(runs_cancelled == 1);

      // The winning decision resumed the runs that took its branch.
      for (const auto& a : attempts)
        if (a.decided && a.decided->is_ok()) {
          std::set<std::string> resumed{(*a.decided)->resumed_workflows.begin(),
                                        (*a.decided)->resumed_workflows.end()};
          std::set<std::string> expected{run_b};
          if (runs_cancelled == 0)
            expected.insert(run_a);
          BOOST_TEST(resumed == expected, boost::test_tools::per_element());
        }
      test::check_run(env, run_a, won, runs_cancelled == 1);
      test::check_run(env, run_b, won, false);
      check_effects(*counters, 2, runs_cancelled == 1 ? 1 : 2, won.state);
    }
  }
  for (const auto& [winner, count] : winners)
    BOOST_TEST_MESSAGE(kind << ": " << winner << " won " << count << " of " << n
                            << " rounds");
}

} // namespace race

using namespace race;

BOOST_AUTO_TEST_SUITE(races)

// Contenders race on one key and its two waiting runs (see `contend`).
BOOST_DATA_TEST_CASE(one_contender_wins_each_round, both_stores, kind) {
  watched_orchestrator env{kind};
  contend(env, kind);
}

// The same with one resident run at most: parking the second run of a
// round passivates the first, so decisions and cancellations must
// re-activate it from the store, racing each other.
BOOST_DATA_TEST_CASE(one_contender_wins_with_runs_passivated, both_stores,
                     kind) {
  watched_orchestrator env{kind, [](orchestrator_options& options) {
                             options.max_resident_runs = 1;
                           }};
  contend(env, kind);
}

// A decision sent right behind the `execute` that reaches its approval
// lands while the run is pausing: before the approval exists, between its
// creation and the run's park, or after. However it falls, the run takes
// the decision's branch exactly once and never stays paused.
BOOST_DATA_TEST_CASE(decision_lands_while_the_run_pauses, both_stores, kind) {
  watched_orchestrator env{kind};
  auto counters = env.fresh_workflow(
    "pausing", signoff::model::approval_options{}.expiring_in(time_to_decide));
  constexpr std::array kinds{move::grant, move::reject, move::edit,
                             move::cancel};
  const int n = rounds(100);
  int paused_first = 0;
  for (int round = 0; round < n; ++round) {
    BOOST_TEST_CONTEXT("round " << round) {
      const auto tag = std::to_string(round);
      const auto key = "pausing:" + tag;
      const auto run_id = "p-" + tag;
      const auto what = kinds[static_cast<std::size_t>(round) % kinds.size()];
      auto d = decision_of(what, key, "decider");
      model::result<model::execution_result> executed;
      model::result<decision_report> decided;
      if (round % 2 == 0) {
        // Both requests queued back to back in the orchestrator's mailbox.
        caf::scoped_actor self{env.orch->system()};
        auto on_error = [&](caf::error& e) {
          BOOST_FAIL(env.orch->system().render(e));
        };
        auto execute = self->request(
          env.orch->handle(), caf::infinite, actors::execute_atom_v,
          actors::execute_request{"pausing", test::key_input(key), run_id});
        auto decide
          = self->request(env.orch->handle(), caf::infinite,
                          actors::decide_atom_v, actors::decision_request{d});
        execute.receive(
          [&](model::result<model::execution_result>& r) { executed = r; },
          on_error);
        decide.receive([&](model::result<decision_report>& r) { decided = r; },
                       on_error);
      } else {
        test::all_at_once(2, [&](int i) {
          if (i == round / 2 % 2)
            executed
              = env.orch->execute("pausing", test::key_input(key), {run_id});
          else
            decided = env.decide(d, false);
        });
      }
      const auto run = test::must(executed);
      const auto report = test::must(decided);
      BOOST_TEST(report.applied);
      const auto won = report.approval.status;
      BOOST_TEST(won.state == state_after(what));
      paused_first += run.status == model::run_status::paused ? 1 : 0;
      // Resumed by the decision if the run parked first; else it found the
      // decision on its way and went on.
      if (run.status == model::run_status::paused)
        BOOST_TEST(report.resumed_workflows == std::vector<std::string>{run_id},
                   boost::test_tools::per_element());
      else
        BOOST_TEST(run.status == model::run_status::completed);
      test::check_decided_once(env, key);
      test::check_run(env, run_id, won, false);
      BOOST_TEST(test::must(env.orch->list_runs_waiting_on(key)).empty());
    }
  }
  BOOST_TEST(counters->prepared == n);
  BOOST_TEST(counters->branches() == n);
  BOOST_TEST(counters->approved == (n + 1) / 4 + (n + 3) / 4);
  BOOST_TEST(counters->rejected == (n + 2) / 4);
  BOOST_TEST(counters->cancelled == n / 4);
  BOOST_TEST_MESSAGE(kind << ": the run had paused before the decision in "
                          << paused_first << " of " << n << " rounds");
}

// A granted run (without auto-resume) is resumed and cancelled at once by
// eight callers: it either completes on the grant or is cancelled, never
// both, and every caller sees that one outcome.
BOOST_DATA_TEST_CASE(resume_races_cancel_run, both_stores, kind) {
  constexpr int callers = 8;
  watched_orchestrator env{kind};
  auto counters = env.fresh_workflow(
    "resume-or-cancel",
    signoff::model::approval_options{}.expiring_in(time_to_decide));
  const int n = rounds(60);
  int completed = 0;
  for (int round = 0; round < n; ++round) {
    BOOST_TEST_CONTEXT("round " << round) {
      const auto tag = std::to_string(round);
      const auto key = "resume-or-cancel:" + tag;
      const auto run_id = "rc-" + tag;
      env.start_paused("resume-or-cancel", key, run_id);
      auto granted = test::must(env.orch->grant_approval(
        key, "go", {.approved_by = "jane", .auto_resume = false}));
      BOOST_TEST(granted.resumed_workflows.empty());

      std::vector<model::result<model::execution_result>> replies(callers);
      auto resumes = [&](int i) {
        return (i + round) % 2 == 0;
      };
      test::all_at_once(callers, [&](int i) {
        const bool typed = (i / 2 + round) % 2 == 0;
        replies[static_cast<std::size_t>(i)]
          = resumes(i) ? env.resume(run_id, typed)
                       : env.cancel_run(run_id, typed);
      });

      const auto final_state = env.status(run_id);
      const bool was_cancelled
        = final_state.status == model::run_status::cancelled;
      completed += was_cancelled ? 0 : 1;
      int cancels = 0;
      for (int i = 0; i < callers; ++i) {
        const auto& r = replies[static_cast<std::size_t>(i)];
        if (resumes(i)) {
          BOOST_TEST(test::must(r).status == final_state.status);
        } else if (r.is_ok()) {
          ++cancels;
          BOOST_TEST(r->status == model::run_status::cancelled);
        } else {
          BOOST_TEST(r.error().type == model::error_type::invalid_run_state);
        }
      }
      BOOST_TEST(cancels == (was_cancelled ? 1 : 0));
      // The grant stands either way; the cancel that came after it lost.
      const auto approval = env.approval(key).status;
      BOOST_TEST(approval.state == model::approval_state::approved);
      test::check_decided_once(env, key);
      test::check_run(env, run_id, approval, was_cancelled);
    }
  }
  BOOST_TEST(counters->prepared == n);
  BOOST_TEST(counters->approved == completed);
  BOOST_TEST(counters->branches() == completed);
  BOOST_TEST_MESSAGE(kind << ": resume won " << completed << " of " << n
                          << " rounds");
}

// A quorum of three: seven approvers grant at once, one of them twice with
// the same value, and in every other round someone rejects among them. The
// approval resolves on the third distinct grant (or the rejection), the
// repeat is a no-op, and the run resumes once.
BOOST_DATA_TEST_CASE(quorum_grants_race, both_stores, kind) {
  constexpr std::uint32_t quorum = 3;
  watched_orchestrator env{kind};
  auto counters = env.fresh_workflow(
    "quorum",
    signoff::model::approval_options{}.with_quorum(quorum).expiring_in(
      time_to_decide));
  const int n = rounds(60);
  int rejected = 0;
  for (int round = 0; round < n; ++round) {
    BOOST_TEST_CONTEXT("round " << round) {
      const auto tag = std::to_string(round);
      const auto key = "quorum:" + tag;
      const auto run_id = "q-" + tag;
      env.start_paused("quorum", key, run_id);
      // Ann twice; in odd rounds one of the others rejects instead.
      const std::vector<std::string> approvers{"ann", "ann", "bob", "cy",
                                               "dee", "eve", "fay", "gus"};
      const bool with_rejection = round % 2 == 1;
      const auto rejecter = 2 + static_cast<std::size_t>(round / 2) % 6;
      std::vector<model::result<decision_report>> replies(approvers.size());
      test::all_at_once(static_cast<int>(approvers.size()), [&](int i) {
        const auto u = static_cast<std::size_t>(i);
        const bool rejects = with_rejection && u == rejecter;
        auto d = rejects ? decision_of(move::reject, key, approvers[u])
                         : decision_of(move::grant, key, approvers[u]);
        replies[u] = env.decide(std::move(d), (i + round) % 2 == 0);
      });

      const auto record = env.approval(key);
      const auto& won = record.status;
      std::set<std::string> granted_by;
      for (const auto& g : record.grants)
        granted_by.insert(g.approver);
      BOOST_TEST(granted_by.size() == record.grants.size());
      if (won.state == model::approval_state::approved) {
        BOOST_REQUIRE_EQUAL(record.grants.size(), quorum);
        BOOST_TEST(won.decided_by == record.grants.back().approver);
        BOOST_TEST(won.value == record.grants.back().value);
        test::check_decided_once(env, key, quorum - 1);
      } else {
        BOOST_REQUIRE(with_rejection);
        ++rejected;
        BOOST_TEST(won.state == model::approval_state::rejected);
        BOOST_TEST(record.grants.size() < quorum);
        test::check_decided_once(env, key, record.grants.size());
      }
      std::set<std::string> applied;
      int repeats = 0;
      for (std::size_t i = 0; i < approvers.size(); ++i) {
        const auto& r = replies[i];
        if (r.is_err()) {
          test::check_conflict(r.error(), won);
          BOOST_TEST(
            (!granted_by.contains(approvers[i]) || approvers[i] == "ann"));
          continue;
        }
        if (!r->applied) {
          ++repeats;
          BOOST_TEST(approvers[i] == "ann");
          continue;
        }
        BOOST_TEST(applied.insert(approvers[i]).second, approvers[i]);
      }
      BOOST_TEST(repeats <= 1);
      // Applied grants are the recorded ones (plus the rejection, if it
      // won).
      auto expected = granted_by;
      if (won.state == model::approval_state::rejected)
        expected.insert(won.decided_by);
      BOOST_TEST(applied == expected, boost::test_tools::per_element());
      test::check_run(env, run_id, won, false);
    }
  }
  BOOST_TEST(counters->prepared == n);
  BOOST_TEST(counters->branches() == n);
  BOOST_TEST(counters->rejected == rejected);
  BOOST_TEST_MESSAGE(kind << ": the rejection won " << rejected << " of "
                          << n / 2 << " rounds with one");
}

BOOST_AUTO_TEST_SUITE_END()
