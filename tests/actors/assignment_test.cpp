#include "signoff/orchestrator.hpp"

#include <future>
#include <string>
#include <vector>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

using namespace signoff;
using namespace std::chrono_literals;

// Named, not anonymous: Boost.Test's data test cases are templates.
namespace assignment {

const auto both_stores = boost::unit_test::data::make(
  {test::store_kind::memory, test::store_kind::lmdb});

/// Runs paused on approvals assigned to alice and bob and to the finance
/// group, over fresh stores of one kind.
struct assigned_runs {
  test::test_stores stores;
  std::shared_ptr<std::atomic<int>> after
    = std::make_shared<std::atomic<int>>(0);
  std::unique_ptr<orchestrator> orch;

  explicit assigned_runs(test::store_kind kind) : stores{kind} {
    orch = std::make_unique<orchestrator>(stores.options());
    orch->register_workflow("assigned", test::single_approval_workflow(
                                          after, false,
                                          model::approval_options{}
                                            .assigned_to({"alice", "bob"})
                                            .for_groups({"finance"})));
    orch->register_workflow(
      "for-ops",
      test::single_approval_workflow(
        after, false, model::approval_options{}.for_groups({"ops"})));
  }

  /// Starts a run of `workflow` waiting on `key`; returns its id.
  std::string start(const std::string& key,
                    const std::string& workflow = "assigned") {
    auto run = orch->execute(workflow, test::key_input(key));
    BOOST_REQUIRE(run.is_ok());
    BOOST_REQUIRE(to_string(run->status) == "paused");
    return run->run_id;
  }

  std::string run_status(const std::string& run_id) {
    return std::string{to_string(orch->get_workflow_status(run_id)->status)};
  }

  std::vector<std::string> actions(const std::string& key) {
    std::vector<std::string> out;
    // Named: a range-for over a temporary's value() reads a destroyed
    // result (C++20 does not extend its life).
    const auto trail = orch->audit_trail(key);
    for (const auto& e : trail.value())
      out.push_back(e.action);
    return out;
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

model::actor_rights member_of(std::vector<std::string> groups = {}) {
  return model::actor_rights::member_of(std::move(groups));
}

} // namespace assignment

BOOST_AUTO_TEST_SUITE(assignment)

BOOST_DATA_TEST_CASE(only_who_is_assigned_decides_and_resumes,
                     assignment::both_stores, kind) {
  assignment::assigned_runs f{kind};
  const auto run_id = f.start("k");
  const auto record = f.orch->get_approval("k").value();
  BOOST_TEST(
    (record.spec.assignees == std::vector<std::string>{"alice", "bob"}));

  auto refused = f.orch->grant_approval(
    "k", 1,
    {.approved_by = "mallory", .rights = assignment::member_of({"ops"})});
  BOOST_REQUIRE(refused.is_err());
  BOOST_TEST(refused.error().type == model::error_type::forbidden);
  BOOST_TEST(refused.error().message.find("'mallory' may not")
             != std::string::npos);
  BOOST_TEST((f.orch->get_approval("k").value() == record));
  BOOST_TEST(f.run_status(run_id) == "paused");
  BOOST_TEST(*f.after == 0);

  auto granted = f.orch->grant_approval(
    "k", 1,
    {.approved_by = "carol", .rights = assignment::member_of({"finance"})});
  BOOST_REQUIRE(granted.is_ok());
  BOOST_TEST(granted->resumed_workflows == std::vector<std::string>{run_id});
  BOOST_TEST(f.run_status(run_id) == "completed");
}

BOOST_DATA_TEST_CASE(code_in_the_process_is_trusted, assignment::both_stores,
                     kind) {
  assignment::assigned_runs f{kind};
  const auto run_id = f.start("k");
  BOOST_REQUIRE(
    f.orch->reject_approval("k", "not now", {.rejected_by = "ops-bot"})
      .is_ok());
  BOOST_TEST(f.run_status(run_id) == "failed");
}

BOOST_DATA_TEST_CASE(reassign_and_delegate_through_every_api,
                     assignment::both_stores, kind) {
  assignment::assigned_runs f{kind};
  const auto run_id = f.start("k");

  // Blocking: alice gives the approval to carol and the ops group.
  auto reassigned = f.orch->reassign_approval(
    "k", {"carol"}, {"ops"},
    {.by = "alice", .reason = "on leave", .rights = assignment::member_of()});
  BOOST_REQUIRE(reassigned.is_ok());
  BOOST_TEST(reassigned->applied);
  BOOST_TEST(
    (reassigned->record.spec.assignees == std::vector<std::string>{"carol"}));
  // A typed message: carol hands her place to dave.
  auto change = model::assignment_change::delegate("k", "dave", "carol");
  change.rights = assignment::member_of();
  auto delegated = test::ask_actor<model::decision_outcome>(
    *f.orch, actors::assign_atom_v, change);
  BOOST_REQUIRE(delegated.is_ok());
  BOOST_TEST(
    (delegated->record.spec.assignees == std::vector<std::string>{"dave"}));
  // Asynchronous: the same delegation again changes nothing.
  std::promise<model::result<model::decision_outcome>> answered;
  f.orch->async_change_assignment(
    change, [&](model::result<model::decision_outcome> r) {
      answered.set_value(std::move(r));
    });
  auto repeat = answered.get_future().get();
  BOOST_REQUIRE(repeat.is_ok());
  BOOST_TEST(!repeat->applied);

  BOOST_TEST(f.run_status(run_id) == "paused");
  BOOST_TEST(f.orch->get_approval("k")->status.is_pending());
  // alice is out; dave, or a member of ops, decides; the run goes on.
  BOOST_TEST(f.orch
               ->grant_approval("k", 1,
                                {.approved_by = "alice",
                                 .rights = assignment::member_of({"finance"})})
               .error()
               .is(model::error_type::forbidden));
  BOOST_REQUIRE(
    f.orch
      ->grant_approval(
        "k", 1, {.approved_by = "dave", .rights = assignment::member_of()})
      .is_ok());
  BOOST_TEST(f.run_status(run_id) == "completed");
  BOOST_TEST(f.actions("k")
               == (std::vector<std::string>{"created", "reassigned",
                                            "delegated", "approved"}),
             boost::test_tools::per_element());
  BOOST_TEST(
    f.events()
      == (std::vector<std::string>{"approval.needed", "approval.reassigned",
                                   "approval.reassigned", "approval.resolved"}),
    boost::test_tools::per_element());
}

BOOST_DATA_TEST_CASE(refused_assignment_changes_change_nothing,
                     assignment::both_stores, kind) {
  assignment::assigned_runs f{kind};
  f.start("k");
  const auto record = f.orch->get_approval("k").value();
  const auto trail = f.orch->audit_trail("k").value();
  auto is = [](const model::result<model::decision_outcome>& r,
               std::string_view type) {
    return r.is_err() && r.error().is(type);
  };
  BOOST_TEST(is(f.orch->reassign_approval(
                  "k", {"mallory"}, {},
                  {.by = "mallory", .rights = assignment::member_of()}),
                model::error_type::forbidden));
  BOOST_TEST(
    is(f.orch->delegate_approval(
         "k", "dave",
         {.by = "carol", .rights = assignment::member_of({"finance"})}),
       model::error_type::forbidden));
  BOOST_TEST(is(f.orch->reassign_approval("k", {"x"}, {}, {}),
                model::error_type::invalid_argument));
  BOOST_TEST(is(f.orch->delegate_approval("k", "alice", {.by = "alice"}),
                model::error_type::invalid_argument));
  BOOST_TEST(is(f.orch->reassign_approval("ghost", {"x"}, {}, {.by = "root"}),
                model::error_type::not_found));
  BOOST_TEST((f.orch->get_approval("k").value() == record));
  BOOST_TEST((f.orch->audit_trail("k").value() == trail));
  BOOST_TEST(f.orch->get_approval("ghost").is_err());

  BOOST_REQUIRE(f.orch->grant_approval("k", 1, {.approved_by = "bob"}).is_ok());
  BOOST_TEST(is(f.orch->reassign_approval("k", {"x"}, {}, {.by = "root"}),
                model::error_type::approval_conflict));
}

BOOST_DATA_TEST_CASE(a_bulk_decision_checks_each_key, assignment::both_stores,
                     kind) {
  assignment::assigned_runs f{kind};
  const auto mine = f.start("k1");
  const auto theirs = f.start("k2", "for-ops");
  auto d = model::decision::grant({}, 1, "alice");
  d.rights = assignment::member_of({"finance"});
  auto outcomes = f.orch->decide_each({"k1", "k2"}, d);
  BOOST_REQUIRE(outcomes.is_ok());
  BOOST_REQUIRE_EQUAL(outcomes->size(), 2U);
  BOOST_TEST((*outcomes)[0].report.is_ok());
  BOOST_REQUIRE((*outcomes)[1].report.is_err());
  BOOST_TEST((*outcomes)[1].report.error().type
             == model::error_type::forbidden);
  BOOST_TEST(f.run_status(mine) == "completed");
  BOOST_TEST(f.run_status(theirs) == "paused");
  BOOST_TEST(f.orch->get_approval("k2")->status.is_pending());
}

BOOST_AUTO_TEST_SUITE_END()
