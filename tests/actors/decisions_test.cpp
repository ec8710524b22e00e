#include "signoff/orchestrator.hpp"

#include <algorithm>
#include <future>
#include <mutex>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"
#include "signoff/model/limits.hpp"
#include "signoff/persistence/memory_store.hpp"

using namespace signoff;
using namespace std::chrono_literals;

namespace {

struct single_approval {
  std::shared_ptr<std::atomic<int>> after
    = std::make_shared<std::atomic<int>>(0);
  test::manual_clock clock;
  std::unique_ptr<orchestrator> orch;

  explicit single_approval(bool branch, model::approval_options options = {},
                           orchestrator_options config = {}) {
    config.clock = clock.fn();
    orch = std::make_unique<orchestrator>(std::move(config));
    orch->register_workflow(
      "single", test::single_approval_workflow(after, branch, options));
  }

  model::execution_result start(const std::string& key) {
    auto r = orch->execute("single", test::key_input(key));
    BOOST_REQUIRE(r.is_ok());
    return r.value();
  }

  model::saved_workflow_state status(const std::string& run_id) {
    auto s = orch->get_workflow_status(run_id);
    BOOST_REQUIRE(s.is_ok());
    return s.value();
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(decisions)

BOOST_AUTO_TEST_CASE(rejection_can_be_branched_on) {
  single_approval f{true};
  auto run = f.start("k");
  BOOST_TEST(to_string(run.status) == "paused");
  auto rejected
    = f.orch->reject_approval("k", "over budget", {.rejected_by = "john"});
  BOOST_REQUIRE(rejected.is_ok());
  BOOST_TEST(to_string(rejected->approval.status.state) == "rejected");
  BOOST_TEST(rejected->approval.status.reason == "over budget");
  auto s = f.status(run.run_id);
  BOOST_TEST(to_string(s.status) == "completed");
  BOOST_TEST(s.outcome->value().at("branch").as_string()
             == "APPROVAL_REJECTED");
  BOOST_TEST(s.outcome->value().at("message").as_string() == "over budget");
  BOOST_TEST(*f.after == 1);
}

BOOST_AUTO_TEST_CASE(unhandled_rejection_fails_the_run) {
  single_approval f{false};
  auto run = f.start("k");
  BOOST_REQUIRE(f.orch->reject_approval("k", "no").is_ok());
  auto s = f.status(run.run_id);
  BOOST_TEST(to_string(s.status) == "failed");
  BOOST_REQUIRE(s.outcome && s.outcome->is_err());
  BOOST_TEST(s.outcome->error().type == "APPROVAL_REJECTED");
  BOOST_TEST(*f.after == 0);
  auto resumed = f.orch->resume(run.run_id);
  BOOST_REQUIRE(resumed.is_ok());
  BOOST_TEST(to_string(resumed->status) == "failed");
}

BOOST_AUTO_TEST_CASE(cancellation_reaches_the_workflow) {
  single_approval f{true};
  auto run = f.start("k");
  BOOST_REQUIRE(
    f.orch->cancel_approval("k", {.cancelled_by = "ops", .reason = "dup"})
      .is_ok());
  auto s = f.status(run.run_id);
  BOOST_TEST(s.outcome->value().at("branch").as_string()
             == "APPROVAL_CANCELLED");
  single_approval g{false};
  auto other = g.start("k");
  BOOST_REQUIRE(g.orch->cancel_approval("k").is_ok());
  auto t = g.status(other.run_id);
  BOOST_TEST(to_string(t.status) == "failed");
  BOOST_TEST(t.outcome->error().type == "APPROVAL_CANCELLED");
}

BOOST_AUTO_TEST_CASE(expiry_reaches_the_workflow_and_blocks_decisions) {
  single_approval f{
    true, signoff::model::approval_options{}.expiring_in(model::duration{1h})};
  auto run = f.start("k");
  auto record = f.orch->get_approval("k");
  BOOST_REQUIRE(record.is_ok());
  BOOST_REQUIRE(record->spec.expires_at.has_value());
  BOOST_TEST(model::to_millis(*record->spec.expires_at)
             == model::to_millis(f.clock.now() + 1h));
  f.clock.advance(2h);
  // Past the deadline it reads expired everywhere, even before the registry
  // recorded it.
  BOOST_TEST(f.orch->list_pending_approvals().value().empty());
  auto late = f.orch->grant_approval("k", true, {.approved_by = "jane"});
  BOOST_REQUIRE(late.is_err());
  BOOST_TEST(late.error().type == "APPROVAL_CONFLICT");
  BOOST_TEST(late.error().details.at("status").as_string() == "expired");

  auto expired = f.orch->expire_due();
  BOOST_REQUIRE(expired.is_ok());
  BOOST_REQUIRE_EQUAL(expired->size(), 1U);
  BOOST_TEST(expired->at(0) == "k");
  auto s = f.status(run.run_id);
  BOOST_TEST(to_string(s.status) == "completed");
  BOOST_TEST(s.outcome->value().at("branch").as_string() == "APPROVAL_EXPIRED");
  BOOST_TEST(to_string(f.orch->get_approval("k")->status.state) == "expired");
  // An expiry fires once.
  BOOST_TEST(f.orch->expire_due()->empty());
  auto trail = f.orch->audit_trail("k").value();
  BOOST_TEST(trail.back().action == "expired");
  BOOST_TEST(trail.back().actor == "system");
}

BOOST_AUTO_TEST_CASE(expiry_fires_without_any_call) {
  auto after = std::make_shared<std::atomic<int>>(0);
  orchestrator orch;
  orch.register_workflow(
    "single",
    test::single_approval_workflow(
      after, true,
      signoff::model::approval_options{}.expiring_in(model::duration{50ms})));
  auto run = orch.execute("single", test::key_input("soon"));
  BOOST_REQUIRE(run.is_ok());
  BOOST_TEST(to_string(run->status) == "paused");
  BOOST_TEST(test::eventually([&] {
    return to_string(orch.get_workflow_status(run->run_id)->status)
           == "completed";
  }));
  auto s = orch.get_workflow_status(run->run_id).value();
  BOOST_TEST(s.outcome->value().at("branch").as_string() == "APPROVAL_EXPIRED");
}

BOOST_AUTO_TEST_CASE(decision_before_the_step_is_consumed_without_pause) {
  single_approval f{false};
  auto early
    = f.orch->grant_approval("early", {{"ok", 1}}, {.approved_by = "jane"});
  BOOST_REQUIRE(early.is_ok());
  BOOST_TEST(early->resumed_workflows.empty());
  auto run = f.start("early");
  BOOST_TEST(to_string(run.status) == "completed");
  BOOST_TEST(run.outcome->value().at("ok").as_int64() == 1);
  BOOST_TEST(*f.after == 1);
}

BOOST_AUTO_TEST_CASE(edit_grants_a_changed_value) {
  single_approval f{false};
  auto run = f.start("k");
  auto edited
    = f.orch->edit_approval("k", {{"amount", 900}}, {.approved_by = "jane"});
  BOOST_REQUIRE(edited.is_ok());
  BOOST_TEST(to_string(edited->approval.status.state) == "edited");
  auto s = f.status(run.run_id);
  BOOST_TEST(s.outcome->value().at("amount").as_int64() == 900);
}

BOOST_AUTO_TEST_CASE(quorum_of_two_distinct_approvers) {
  single_approval f{false, signoff::model::approval_options{}.with_quorum(2)};
  auto run = f.start("q");
  auto first = f.orch->grant_approval("q", "yes", {.approved_by = "alice"});
  BOOST_REQUIRE(first.is_ok());
  BOOST_TEST(first->applied);
  BOOST_TEST(first->approval.status.is_pending());
  BOOST_REQUIRE_EQUAL(first->approval.grants.size(), 1U);
  BOOST_TEST(first->approval.grants[0].approver == "alice");
  BOOST_TEST(to_string(f.status(run.run_id).status) == "paused");

  auto again = f.orch->grant_approval("q", "yes", {.approved_by = "alice"});
  BOOST_REQUIRE(again.is_ok());
  BOOST_TEST(!again->applied);
  BOOST_TEST(again->approval.grants.size() == 1U);
  BOOST_TEST(to_string(f.status(run.run_id).status) == "paused");

  auto second = f.orch->grant_approval("q", "yes", {.approved_by = "bob"});
  BOOST_REQUIRE(second.is_ok());
  BOOST_TEST(to_string(second->approval.status.state) == "approved");
  BOOST_TEST(second->resumed_workflows.size() == 1U);
  BOOST_TEST(to_string(f.status(run.run_id).status) == "completed");
}

BOOST_AUTO_TEST_CASE(conflicts_name_the_winner_and_repeats_are_no_ops) {
  single_approval f{false};
  f.start("k");
  BOOST_REQUIRE(
    f.orch->grant_approval("k", 1, {.approved_by = "jane"}).is_ok());
  auto repeat = f.orch->grant_approval("k", 1, {.approved_by = "jane"});
  BOOST_REQUIRE(repeat.is_ok());
  BOOST_TEST(!repeat->applied);
  auto loser = f.orch->reject_approval("k", "no", {.rejected_by = "john"});
  BOOST_REQUIRE(loser.is_err());
  BOOST_TEST(loser.error().type == "APPROVAL_CONFLICT");
  BOOST_TEST(loser.error().details.at("status").as_string() == "approved");
  BOOST_TEST(loser.error().details.at("decidedBy").as_string() == "jane");
  BOOST_TEST(f.orch->audit_trail("k")->size() == 2U);
  auto bad = f.orch->reject_approval("k2", "");
  BOOST_REQUIRE(bad.is_err());
  BOOST_TEST(bad.error().type == "INVALID_ARGUMENT");
  BOOST_TEST(f.orch->get_approval("k2").error().type == "NOT_FOUND");
}

BOOST_AUTO_TEST_CASE(auto_resume_resumes_every_waiting_run) {
  single_approval f{false};
  std::set<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.insert(f.start("shared").run_id);
  auto granted = f.orch->grant_approval("shared", "go");
  BOOST_REQUIRE(granted.is_ok());
  std::set<std::string> resumed(granted->resumed_workflows.begin(),
                                granted->resumed_workflows.end());
  BOOST_TEST(resumed == ids);
  for (const auto& id : ids)
    BOOST_TEST(to_string(f.status(id).status) == "completed");
  BOOST_TEST(*f.after == 3);
}

BOOST_AUTO_TEST_CASE(without_auto_resume_runs_wait_for_resume) {
  single_approval f{false};
  auto run = f.start("k");
  auto granted = f.orch->grant_approval("k", "go", {.auto_resume = false});
  BOOST_REQUIRE(granted.is_ok());
  BOOST_TEST(granted->resumed_workflows.empty());
  BOOST_TEST(to_string(f.status(run.run_id).status) == "paused");
  auto resumed = f.orch->resume(run.run_id);
  BOOST_REQUIRE(resumed.is_ok());
  BOOST_TEST(to_string(resumed->status) == "completed");
  BOOST_TEST(resumed->run_id == run.run_id);
}

BOOST_AUTO_TEST_CASE(resume_of_a_still_pending_run_stays_paused) {
  single_approval f{false};
  auto run = f.start("k");
  auto resumed = f.orch->resume(run.run_id);
  BOOST_REQUIRE(resumed.is_ok());
  BOOST_TEST(to_string(resumed->status) == "paused");
  BOOST_TEST(resumed->pending_approvals == run.pending_approvals);
  BOOST_TEST(*f.after == 0);
}

BOOST_AUTO_TEST_CASE(notification_hooks_see_every_pause_and_decision) {
  std::mutex m;
  std::vector<std::string> seen;
  auto record = [&](std::string what) {
    std::lock_guard guard{m};
    seen.push_back(std::move(what));
  };
  orchestrator_options config;
  config.hooks.on_approval_needed = [&](const actors::approval_event& e) {
    record("needed:" + e.key + ":" + e.pending_reason);
    throw std::runtime_error("mail server down");
  };
  config.hooks.on_approval_resolved = [&](const actors::approval_event& e) {
    record("resolved:" + e.key + ":" + std::string{to_string(e.status.state)});
    throw std::runtime_error("mail server down");
  };
  std::vector<std::string> log;
  config.logger = [&](std::string_view line) {
    std::lock_guard guard{m};
    log.emplace_back(line);
  };
  single_approval f{false,
                    signoff::model::approval_options{}.with_reason("sign"),
                    std::move(config)};
  f.start("a");
  f.start("b");
  f.start("c");
  BOOST_REQUIRE(f.orch->grant_approval("a", 1).is_ok());
  BOOST_REQUIRE(f.orch->reject_approval("b", "no").is_ok());
  BOOST_REQUIRE(f.orch->cancel_approval("c").is_ok());
  std::lock_guard guard{m};
  const std::vector<std::string> expected{
    "needed:a:sign",       "needed:b:sign",       "needed:c:sign",
    "resolved:a:approved", "resolved:b:rejected", "resolved:c:cancelled"};
  BOOST_TEST(seen == expected, boost::test_tools::per_element());
  // The hooks threw; every decision stands and the failure was logged.
  BOOST_TEST(to_string(f.orch->get_approval("a")->status.state) == "approved");
  BOOST_TEST(log.size() >= 6U);
}

BOOST_AUTO_TEST_CASE(expiry_is_notified) {
  std::mutex m;
  std::vector<std::string> seen;
  orchestrator_options config;
  config.hooks.on_approval_resolved = [&](const actors::approval_event& e) {
    std::lock_guard guard{m};
    seen.push_back(e.key + ":" + std::string{to_string(e.status.state)});
  };
  single_approval f{
    true, signoff::model::approval_options{}.expiring_in(model::duration{1min}),
    std::move(config)};
  f.start("x");
  f.clock.advance(2min);
  BOOST_REQUIRE(f.orch->expire_due().is_ok());
  std::lock_guard guard{m};
  BOOST_TEST(seen == std::vector<std::string>{"x:expired"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(poll_approval_stops_at_a_decision_or_a_limit) {
  single_approval f{false};
  f.start("p");
  int starts = 0;
  int completes = 0;
  auto pending
    = f.orch->poll_approval("p", {.interval = model::duration{1ms},
                                  .max_polls = 3,
                                  .on_poll_start = [&] { ++starts; },
                                  .on_poll_complete =
                                    [&](const model::approval_status&) {
                                      ++completes;
                                    }});
  BOOST_REQUIRE(pending.is_ok());
  BOOST_TEST(pending->is_pending());
  BOOST_TEST(starts == 3);
  BOOST_TEST(completes == 3);

  std::thread approver{[&] {
    std::this_thread::sleep_for(20ms);
    (void)f.orch->grant_approval("p", {{"approvedBy", "jane"}});
  }};
  auto decided = f.orch->poll_approval("p", {.interval = model::duration{2ms}});
  approver.join();
  BOOST_REQUIRE(decided.is_ok());
  BOOST_TEST(to_string(decided->state) == "approved");
  BOOST_TEST(decided->value.at("approvedBy").as_string() == "jane");
}

BOOST_AUTO_TEST_CASE(poll_approval_respects_its_timeout) {
  orchestrator orch;
  int polls = 0;
  auto status = orch.poll_approval("never", {.interval = model::duration{5ms},
                                             .timeout = model::duration{30ms},
                                             .on_poll_start = [&] {
                                               ++polls;
                                             }});
  BOOST_REQUIRE(status.is_ok());
  BOOST_TEST(status->is_pending());
  BOOST_TEST(polls >= 1);
  BOOST_TEST(polls <= 7);
}

// Bulk decisions: one call, each key decided atomically and audited on its
// own, each outcome reported in the caller's order.
BOOST_AUTO_TEST_CASE(a_bulk_decision_decides_each_key_on_its_own) {
  single_approval f{false};
  auto a = f.start("team:a");
  auto b = f.start("team:b");
  BOOST_REQUIRE(
    f.orch->reject_approval("team:b", "too late", {.rejected_by = "sam"})
      .is_ok());
  auto d = model::decision::grant({}, {{"ok", true}}, "lead");
  d.require_existing = true;
  auto bulk = f.orch->decide_each({"team:a", "team:b", "team:nobody"}, d);
  BOOST_REQUIRE(bulk.is_ok());
  const auto& outcomes = bulk.value();
  BOOST_REQUIRE(outcomes.size() == 3U);
  BOOST_TEST(outcomes[0].key == "team:a");
  BOOST_REQUIRE(outcomes[0].report.is_ok());
  BOOST_TEST(to_string(outcomes[0].report->approval.status.state)
             == "approved");
  BOOST_TEST(outcomes[0].report->resumed_workflows
             == std::vector<std::string>{a.run_id});
  BOOST_TEST(outcomes[1].key == "team:b");
  BOOST_TEST(outcomes[1].report.error().type
             == model::error_type::approval_conflict);
  BOOST_TEST(outcomes[2].key == "team:nobody");
  BOOST_TEST(outcomes[2].report.error().type == model::error_type::not_found);
  // Each key's own audit entry, by the bulk's actor; nothing else changed.
  auto trail = f.orch->audit_trail("team:a");
  BOOST_REQUIRE(trail.is_ok());
  BOOST_TEST(trail->back().action == "approved");
  BOOST_TEST(trail->back().actor == "lead");
  BOOST_TEST(to_string(f.status(a.run_id).status) == "completed");
  BOOST_TEST(to_string(f.status(b.run_id).status) == "failed");
  BOOST_TEST(f.orch->get_approval("team:nobody").is_err());
  BOOST_TEST(*f.after == 1);
}

BOOST_AUTO_TEST_CASE(a_bad_key_list_is_refused_whole) {
  single_approval f{false};
  auto a = f.start("team:a");
  const auto grant = model::decision::grant({}, nullptr, "lead");
  std::vector<std::string> too_many;
  for (std::size_t i = 0; i <= model::max_bulk_keys; ++i)
    too_many.push_back("team:" + std::to_string(i));
  too_many.front() = "team:a";
  for (const auto& keys : std::vector<std::vector<std::string>>{
         {}, {"team:a", ""}, {"team:a", "team:a"}, too_many}) {
    auto bulk = f.orch->decide_each(keys, grant);
    BOOST_REQUIRE(bulk.is_err());
    BOOST_TEST(bulk.error().type == model::error_type::invalid_argument);
  }
  BOOST_TEST(f.orch->list_pending_approvals().value()
             == std::vector<std::string>{"team:a"});
  BOOST_TEST(to_string(f.status(a.run_id).status) == "paused");
}

BOOST_AUTO_TEST_CASE(a_bulk_decision_takes_what_is_pending_under_a_prefix) {
  auto approvals = persistence::make_memory_approval_store();
  orchestrator_options config;
  config.approval_store = approvals;
  single_approval f{true, {}, std::move(config)};
  auto a = f.start("team:a");
  auto b = f.start("team:b");
  auto other = f.start("other:c");
  const auto reject = model::decision::reject({}, "budget frozen", "cfo");
  auto bulk = f.orch->decide_pending("team:", reject);
  BOOST_REQUIRE(bulk.is_ok());
  BOOST_REQUIRE(bulk->size() == 2U);
  for (const auto& outcome : bulk.value()) {
    BOOST_REQUIRE(outcome.report.is_ok());
    BOOST_TEST(outcome.report->approval.status.reason == "budget frozen");
  }
  BOOST_TEST(f.status(a.run_id).outcome->value().at("branch").as_string()
             == "APPROVAL_REJECTED");
  BOOST_TEST(to_string(f.status(b.run_id).status) == "completed");
  BOOST_TEST(to_string(f.status(other.run_id).status) == "paused");
  BOOST_TEST(f.orch->list_pending_approvals().value()
             == std::vector<std::string>{"other:c"});
  // Nothing pending there: nothing to do, no error.
  auto none = f.orch->decide_pending("team:", reject);
  BOOST_REQUIRE(none.is_ok());
  BOOST_TEST(none->empty());
  // More pending than one call takes: refused, nothing decided.
  for (std::size_t i = 0; i < model::max_bulk_keys; ++i)
    BOOST_REQUIRE(approvals
                    ->create_approval("other:" + std::to_string(i), {}, "test",
                                      f.clock.now())
                    .is_ok());
  auto refused = f.orch->decide_pending("other:", reject);
  BOOST_REQUIRE(refused.is_err());
  BOOST_TEST(refused.error().type == model::error_type::invalid_argument);
  BOOST_TEST(f.orch->list_pending_approvals("other:").value().size()
             == model::max_bulk_keys + 1);
  BOOST_TEST(to_string(f.status(other.run_id).status) == "paused");
}

BOOST_AUTO_TEST_CASE(an_async_bulk_decision_answers_once_with_every_outcome) {
  single_approval f{false};
  f.start("team:a");
  f.start("team:b");
  std::promise<model::result<std::vector<bulk_outcome>>> answered;
  std::atomic<int> calls{0};
  f.orch->async_decide_each({"team:b", "team:a"},
                            model::decision::grant({}, 1, "lead"), true,
                            [&](model::result<std::vector<bulk_outcome>> r) {
                              if (++calls == 1)
                                answered.set_value(std::move(r));
                            });
  auto r = answered.get_future().get();
  BOOST_REQUIRE(r.is_ok());
  BOOST_REQUIRE(r->size() == 2U);
  BOOST_TEST(r->at(0).key == "team:b");
  BOOST_TEST(r->at(1).key == "team:a");
  BOOST_TEST(r->at(0).report.is_ok());
  BOOST_TEST(r->at(1).report.is_ok());
  BOOST_TEST(*f.after == 2);
  // A refused list answers at once, on this thread.
  bool refused = false;
  f.orch->async_decide_each(
    {}, model::decision::grant({}, 1, "lead"), true,
    [&](model::result<std::vector<bulk_outcome>> r) { refused = r.is_err(); });
  BOOST_TEST(refused);
  BOOST_TEST(calls == 1);
}

// Named, not anonymous: Boost.Test's data test cases are templates.
namespace comments {

const auto both_stores = boost::unit_test::data::make(
  {test::store_kind::memory, test::store_kind::lmdb});

/// An orchestrator over fresh stores of one kind, with one run paused on
/// the approval `key`.
struct commented_run {
  test::test_stores stores;
  std::shared_ptr<std::atomic<int>> after
    = std::make_shared<std::atomic<int>>(0);
  std::unique_ptr<orchestrator> orch;
  std::string run_id;

  explicit commented_run(test::store_kind kind) : stores{kind} {
    orch = std::make_unique<orchestrator>(stores.options());
    orch->register_workflow("single",
                            test::single_approval_workflow(after, false));
    auto run = orch->execute("single", test::key_input("k"));
    BOOST_REQUIRE(run.is_ok());
    BOOST_REQUIRE(to_string(run->status) == "paused");
    run_id = run->run_id;
  }

  std::vector<model::audit_entry> trail() {
    auto t = orch->audit_trail("k");
    BOOST_REQUIRE(t.is_ok());
    return t.value();
  }

  /// The types of the events kept in the outbox so far.
  std::vector<std::string> events() {
    auto due = stores.options().outbox->due(model::system_now() + 24h, 1000);
    BOOST_REQUIRE(due.is_ok());
    std::vector<std::string> types;
    for (const auto& e : due.value())
      types.emplace_back(e.event.at("type").as_string());
    return types;
  }
};

std::vector<std::string> actions_of(const std::vector<model::audit_entry>& t) {
  std::vector<std::string> out;
  for (const auto& e : t)
    out.push_back(e.action);
  return out;
}

void check_sequences(const std::vector<model::audit_entry>& trail) {
  for (std::size_t i = 0; i < trail.size(); ++i)
    BOOST_TEST(trail[i].sequence == i + 1);
}

} // namespace comments

BOOST_DATA_TEST_CASE(comments_are_audited_and_decide_nothing,
                     comments::both_stores, kind) {
  comments::commented_run f{kind};
  auto entry = f.orch->comment("k", "why this supplier?", "alice");
  BOOST_REQUIRE(entry.is_ok());
  BOOST_TEST(entry->action == "commented");
  BOOST_TEST(entry->actor == "alice");
  BOOST_TEST(entry->reason == "why this supplier?");
  BOOST_TEST(entry->sequence == 2U);
  BOOST_TEST(entry->value.is_null());
  // Through a typed message and through the asynchronous call alike.
  auto typed = test::ask_actor<model::audit_entry>(
    *f.orch, actors::comment_atom_v,
    actors::comment_request{"k", "the usual one", "bob"});
  BOOST_REQUIRE(typed.is_ok());
  BOOST_TEST(typed->sequence == 3U);
  std::promise<model::result<model::audit_entry>> answered;
  f.orch->async_comment("k", "fine then", "alice",
                        [&](model::result<model::audit_entry> r) {
                          answered.set_value(std::move(r));
                        });
  auto async = answered.get_future().get();
  BOOST_REQUIRE(async.is_ok());
  BOOST_TEST(async->sequence == 4U);

  auto approval = f.orch->get_approval("k");
  BOOST_REQUIRE(approval.is_ok());
  BOOST_TEST(approval->status.is_pending());
  BOOST_TEST(approval->revision == 4U);
  BOOST_TEST(to_string(f.orch->get_workflow_status(f.run_id)->status)
             == "paused");
  BOOST_TEST(*f.after == 0);

  // Discussion goes on after the decision, which still wakes the run once.
  BOOST_REQUIRE(f.orch->grant_approval("k", 1, {.approved_by = "bob"}).is_ok());
  BOOST_TEST(to_string(f.orch->get_workflow_status(f.run_id)->status)
             == "completed");
  BOOST_REQUIRE(f.orch->comment("k", "shipped", "carol").is_ok());
  BOOST_TEST(to_string(f.orch->get_approval("k")->status.state) == "approved");
  BOOST_TEST(*f.after == 1);
  const auto trail = f.trail();
  BOOST_TEST(
    comments::actions_of(trail)
      == (std::vector<std::string>{"created", "commented", "commented",
                                   "commented", "approved", "commented"}),
    boost::test_tools::per_element());
  comments::check_sequences(trail);
  BOOST_TEST(
    f.events()
      == (std::vector<std::string>{"approval.needed", "approval.resolved"}),
    boost::test_tools::per_element());
}

BOOST_DATA_TEST_CASE(bad_comments_change_nothing, comments::both_stores, kind) {
  comments::commented_run f{kind};
  const auto before = f.trail();
  const auto record = f.orch->get_approval("k");
  BOOST_REQUIRE(record.is_ok());
  const std::string too_long(model::max_comment_bytes + 1, 'x');
  BOOST_TEST(f.orch->comment("k", "", "alice")
               .error()
               .is(model::error_type::invalid_argument));
  BOOST_TEST(f.orch->comment("k", too_long, "alice")
               .error()
               .is(model::error_type::invalid_argument));
  BOOST_TEST(f.orch->comment("k", "hello", "")
               .error()
               .is(model::error_type::invalid_argument));
  BOOST_TEST(f.orch->comment("ghost", "hello", "alice")
               .error()
               .is(model::error_type::not_found));
  BOOST_TEST(f.orch->get_approval("ghost").is_err());
  BOOST_TEST((f.trail() == before));
  BOOST_TEST((f.orch->get_approval("k").value() == record.value()));
}

BOOST_DATA_TEST_CASE(concurrent_comments_and_a_decision_keep_the_trail,
                     comments::both_stores, kind) {
  constexpr int commenters = 4;
  constexpr int per_thread = 10;
  comments::commented_run f{kind};
  std::vector<int> failures(commenters + 1, 0);
  test::all_at_once(commenters + 1, [&](int i) {
    if (i == commenters) {
      if (f.orch->grant_approval("k", 1, {.approved_by = "boss"}).is_err())
        ++failures[static_cast<std::size_t>(i)];
      return;
    }
    for (int n = 0; n < per_thread; ++n)
      if (f.orch
            ->comment("k", "note " + std::to_string(n),
                      "actor-" + std::to_string(i))
            .is_err())
        ++failures[static_cast<std::size_t>(i)];
  });
  // The shard owning the key is its only writer: nothing is refused.
  BOOST_TEST(failures == std::vector<int>(commenters + 1, 0),
             boost::test_tools::per_element());
  const auto trail = f.trail();
  BOOST_TEST(trail.size() == std::size_t{commenters * per_thread + 2});
  comments::check_sequences(trail);
  const auto actions = comments::actions_of(trail);
  BOOST_TEST(std::count(actions.begin(), actions.end(), "approved") == 1);
  BOOST_TEST(f.orch->get_approval("k")->revision == trail.size());
}

BOOST_AUTO_TEST_SUITE_END()
