#pragma once

// An orchestrator whose every resolution notification is counted, and the
// checks the races and time suites share: once an approval is decided, its
// record, its audit trail, its notifications and the runs that waited on it
// must all tell the same story.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"
#include "support/must.hpp"
#include "support/printing.hpp"

namespace signoff::test {

/// An orchestrator on fresh stores of one kind with a clock the test moves.
/// It counts resolution notifications per key both ways they leave: the
/// in-process hook and the durable outbox. Calls go through the blocking
/// facade or, with `typed`, as typed messages to the orchestrator actor.
class watched_orchestrator {
public:
  /// `configure` may adjust the options before the orchestrator starts.
  explicit watched_orchestrator(
    store_kind kind,
    const std::function<void(orchestrator_options&)>& configure = {})
      : stores_(kind) {
    auto options = stores_.options();
    options.clock = clock.fn();
    options.hooks.on_approval_resolved
      = [this](const actors::approval_event& e) {
          std::lock_guard guard{mutex_};
          ++hooked_[e.key];
        };
    if (configure)
      configure(options);
    orch = std::make_unique<orchestrator>(std::move(options));
  }

  manual_clock clock;
  std::unique_ptr<orchestrator> orch;

  /// Registers a fresh branching workflow under `name` (a case registers
  /// one per round to count that round's side effects) and returns its
  /// counters.
  std::shared_ptr<branch_counters>
  fresh_workflow(const std::string& name, model::approval_options options) {
    auto counters = std::make_shared<branch_counters>();
    orch->register_workflow(name, branching_workflow(counters, options));
    return counters;
  }

  /// Starts a run of `workflow` under `run_id`; it must pause on `key`.
  void start_paused(const std::string& workflow, const std::string& key,
                    const std::string& run_id) {
    auto run = must(orch->execute(workflow, key_input(key), {run_id}));
    BOOST_REQUIRE(run.status == model::run_status::paused);
    BOOST_REQUIRE(run.pending_approvals == std::vector<std::string>{key});
  }

  /// Decides with the facade call for the decision's kind, or typed.
  model::result<decision_report> decide(model::decision d, bool typed) {
    if (typed)
      return ask_actor<decision_report>(*orch, actors::decide_atom_v,
                                        actors::decision_request{std::move(d)});
    switch (d.kind) {
      case model::decision_kind::grant:
        return orch->grant_approval(d.key, d.value, {.approved_by = d.actor});
      case model::decision_kind::edit:
        return orch->edit_approval(d.key, d.value, {.approved_by = d.actor});
      case model::decision_kind::reject:
        return orch->reject_approval(d.key, d.reason, {.rejected_by = d.actor});
      case model::decision_kind::cancel:
        return orch->cancel_approval(
          d.key, {.cancelled_by = d.actor, .reason = d.reason});
      case model::decision_kind::expire:
        break;
    }
    return orch->decide(std::move(d));
  }

  model::result<model::execution_result> cancel_run(const std::string& run_id,
                                                    bool typed) {
    if (typed)
      return ask_actor<model::execution_result>(
        *orch, actors::cancel_run_atom_v,
        actors::cancel_run_request{run_id, "withdrawn", {}});
    return orch->cancel_run(run_id, "withdrawn");
  }

  model::result<model::execution_result> resume(const std::string& run_id,
                                                bool typed) {
    if (typed)
      return ask_actor<model::execution_result>(*orch, actors::resume_atom_v,
                                                run_id);
    return orch->resume(run_id);
  }

  model::result<std::vector<std::string>> expire_due(bool typed) {
    if (typed)
      return ask_actor<std::vector<std::string>>(*orch, actors::expire_atom_v);
    return orch->expire_due();
  }

  model::saved_workflow_state status(const std::string& run_id) {
    return must(orch->get_workflow_status(run_id));
  }

  model::approval_record approval(const std::string& key) {
    return must(orch->get_approval(key));
  }

  /// Times the resolution hook was called for `key`.
  int hooked(const std::string& key) {
    std::lock_guard guard{mutex_};
    return hooked_[key];
  }

  /// The "approval.resolved" events the outbox held for `key`. Reading
  /// takes every event out of the outbox, as a deliverer would, so each
  /// call reads only what is new.
  std::vector<boost::json::value> kept(const std::string& key) {
    auto& outbox = *stores_.options().outbox;
    const auto far_ahead = clock.now() + std::chrono::hours{24 * 3650};
    for (auto due = must(outbox.due(far_ahead, 1024)); !due.empty();
         due = must(outbox.due(far_ahead, 1024)))
      for (auto& entry : due) {
        if (entry.event.at("type").as_string() == "approval.resolved")
          kept_[std::string{entry.event.at("key").as_string()}].push_back(
            std::move(entry.event));
        must(outbox.remove(entry.id));
      }
    return kept_[key];
  }

private:
  test_stores stores_;
  std::mutex mutex_;
  std::map<std::string, int> hooked_;
  std::map<std::string, std::vector<boost::json::value>> kept_;
};

/// An audit action that ends an approval.
inline bool is_decisive(const std::string& action) {
  return action == "approved" || action == "edited" || action == "rejected"
         || action == "cancelled" || action == "expired";
}

/// The decided approval `key` agrees with its trail and notifications: the
/// trail holds its creation, `grants` quorum grants and one decisive entry
/// matching the status; the hook and the outbox told of it exactly once,
/// with that status.
inline void check_decided_once(watched_orchestrator& w, const std::string& key,
                               std::size_t grants = 0) {
  const auto won = w.approval(key).status;
  BOOST_REQUIRE(!won.is_pending());
  auto trail = must(w.orch->audit_trail(key));
  BOOST_REQUIRE_EQUAL(trail.size(), grants + 2);
  BOOST_TEST(trail.front().action == "created");
  for (std::size_t i = 1; i <= grants; ++i)
    BOOST_TEST(trail[i].action == "granted");
  const auto& decisive = trail.back();
  BOOST_TEST(decisive.action == to_string(won.state));
  BOOST_TEST(is_decisive(decisive.action));
  BOOST_TEST(decisive.actor == won.decided_by);
  BOOST_TEST(w.hooked(key) == 1, "hook calls for " << key);
  auto kept = w.kept(key);
  BOOST_REQUIRE_EQUAL(kept.size(), 1U);
  BOOST_TEST(kept.front().at("status") == boost::json::value_from(won));
}

/// A refused decision names the winner: the approval's status as it stands.
inline void check_conflict(const model::error& e,
                           const model::approval_status& won) {
  BOOST_TEST(e.type == model::error_type::approval_conflict, describe(e));
  BOOST_TEST(e.details == boost::json::value_from(won));
}

/// The run finished on the branch of `won`, or was cancelled itself.
inline void check_run(watched_orchestrator& w, const std::string& run_id,
                      const model::approval_status& won,
                      bool cancelled_itself = false) {
  auto s = w.status(run_id);
  BOOST_REQUIRE(s.outcome.has_value());
  if (cancelled_itself) {
    BOOST_TEST(s.status == model::run_status::cancelled, run_id);
    BOOST_TEST(s.outcome->error().type
               == model::error_type::approval_cancelled);
    return;
  }
  BOOST_TEST(s.status == model::run_status::completed, run_id);
  BOOST_REQUIRE(s.outcome->is_ok());
  const auto& out = s.outcome->value();
  BOOST_TEST(out.at("branch").as_string() == expected_branch(won.state));
  if (won.is_granted())
    BOOST_TEST(out.at("value") == won.value);
}

} // namespace signoff::test
