#include "signoff/model/decision_rules.hpp"

#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "support/printing.hpp"

#include "signoff/model/approval.hpp"
#include "signoff/model/approval_event.hpp"
#include "signoff/model/error.hpp"
#include "signoff/model/limits.hpp"
#include "signoff/model/time.hpp"

namespace bj = boost::json;
using namespace signoff::model;

namespace {

const time_point t0 = from_millis(1'700'000'000'000);
const duration one_hour{3'600'000};
const std::string key = "approval:invoice:inv_7";

/// A pending approval assigned to alice and bob, and to the finance group.
approval_record assigned() {
  approval_spec spec;
  spec.assignees = {"alice", "bob"};
  spec.candidate_groups = {"finance"};
  spec.expires_at = t0 + one_hour;
  auto r = create_approval(key, spec, "run:1", t0);
  BOOST_REQUIRE(r.is_ok());
  return std::move(r->record);
}

/// A grant by `actor` with the rights of a member of `groups`.
decision grant_as(const std::string& actor,
                  std::vector<std::string> groups = {}) {
  auto d = decision::grant(key, {{"ok", true}}, actor);
  d.rights = actor_rights::member_of(std::move(groups));
  return d;
}

assignment_change reassign_as(const std::string& actor,
                              std::vector<std::string> assignees,
                              std::vector<std::string> groups,
                              actor_rights rights) {
  auto c = assignment_change::reassign(key, std::move(assignees),
                                       std::move(groups), actor);
  c.reason = "alice is away";
  c.rights = std::move(rights);
  return c;
}

assignment_change delegate_as(const std::string& actor, const std::string& to) {
  auto c = assignment_change::delegate(key, to, actor);
  c.rights = actor_rights::member_of();
  return c;
}

} // namespace

BOOST_AUTO_TEST_SUITE(assignment_rules)

// --- who may decide ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(an_assignee_may_decide) {
  auto t = apply_decision(assigned(), grant_as("alice"), t0);
  BOOST_REQUIRE(t.is_ok());
  BOOST_TEST(t->record.status.state == approval_state::approved);
  BOOST_TEST(t->record.status.decided_by == "alice");
}

BOOST_AUTO_TEST_CASE(a_member_of_a_candidate_group_may_decide) {
  auto t
    = apply_decision(assigned(), grant_as("carol", {"ops", "finance"}), t0);
  BOOST_REQUIRE(t.is_ok());
  BOOST_TEST(t->record.status.decided_by == "carol");
}

BOOST_AUTO_TEST_CASE(an_outsider_is_forbidden_and_nothing_changes) {
  const auto before = assigned();
  for (auto d :
       {grant_as("mallory", {"ops"}), decision::reject(key, "no", "mallory"),
        decision::cancel(key, "", "mallory"),
        decision::edit(key, {{"x", 1}}, "mallory")}) {
    d.rights = actor_rights::member_of({"ops"});
    auto t = apply_decision(before, d, t0);
    BOOST_REQUIRE(t.is_err());
    BOOST_TEST(t.error().type == error_type::forbidden);
    BOOST_TEST(t.error().message.find("'mallory' may not")
               != std::string::npos);
    BOOST_TEST(t.error().message.find(key) != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(an_admin_decides_whoever_is_assigned) {
  auto d = decision::reject(key, "too expensive", "root");
  d.rights = actor_rights{true, {}};
  auto t = apply_decision(assigned(), d, t0);
  BOOST_REQUIRE(t.is_ok());
  BOOST_TEST(t->record.status.state == approval_state::rejected);
}

BOOST_AUTO_TEST_CASE(trusted_callers_are_admins_by_default) {
  // A decision built without rights comes from code in the process.
  BOOST_TEST(decision::grant(key, {}, "someone").rights.admin);
  BOOST_TEST(apply_decision(assigned(), decision::grant(key, {}, "someone"), t0)
               .is_ok());
}

BOOST_AUTO_TEST_CASE(an_approval_naming_nobody_may_be_decided_by_anyone) {
  auto r = create_approval(key, {}, "run:1", t0);
  BOOST_REQUIRE(r.is_ok());
  BOOST_TEST(apply_decision(r->record, grant_as("anyone"), t0).is_ok());
}

BOOST_AUTO_TEST_CASE(may_decide_checks_names_and_groups) {
  const auto spec = assigned().spec;
  BOOST_TEST(may_decide(spec, "bob", actor_rights::member_of()));
  BOOST_TEST(may_decide(spec, "x", actor_rights::member_of({"finance"})));
  BOOST_TEST(!may_decide(spec, "x", actor_rights::member_of({"fin"})));
  BOOST_TEST(!may_decide(spec, "finance", actor_rights::member_of()));
  BOOST_TEST(may_decide(spec, "x", actor_rights{}));
}

BOOST_AUTO_TEST_CASE(expiry_is_never_refused) {
  decision d{key, decision_kind::expire, {}, {}, "system"};
  d.rights = actor_rights::member_of();
  auto t = apply_decision(assigned(), d, t0 + one_hour);
  BOOST_REQUIRE(t.is_ok());
  BOOST_TEST(t->record.status.state == approval_state::expired);
}

BOOST_AUTO_TEST_CASE(only_an_admin_decides_a_key_nobody_asked_for) {
  auto t = apply_decision(std::nullopt, grant_as("alice"), t0);
  BOOST_REQUIRE(t.is_err());
  BOOST_TEST(t.error().type == error_type::forbidden);
  BOOST_TEST(apply_decision(std::nullopt, decision::grant(key, {}, "alice"), t0)
               .is_ok());
}

BOOST_AUTO_TEST_CASE(a_repeat_is_a_no_op_and_others_on_decided_are_forbidden) {
  auto decided = apply_decision(assigned(), grant_as("alice"), t0);
  BOOST_REQUIRE(decided.is_ok());
  auto again = apply_decision(decided->record, grant_as("alice"), t0);
  BOOST_REQUIRE(again.is_ok());
  BOOST_TEST(!again->applied);
  auto outsider = apply_decision(decided->record, grant_as("mallory"), t0);
  BOOST_REQUIRE(outsider.is_err());
  BOOST_TEST(outsider.error().type == error_type::forbidden);
  auto member = apply_decision(decided->record, grant_as("bob"), t0);
  BOOST_REQUIRE(member.is_err());
  BOOST_TEST(member.error().type == error_type::approval_conflict);
}

BOOST_AUTO_TEST_CASE(create_approval_refuses_bad_assignments) {
  auto refused
    = [](std::vector<std::string> assignees, std::vector<std::string> groups) {
        approval_spec spec;
        spec.assignees = std::move(assignees);
        spec.candidate_groups = std::move(groups);
        auto t = create_approval(key, spec, "run:1", t0);
        return t.is_err() && t.error().type == error_type::invalid_argument;
      };
  BOOST_TEST(refused({""}, {}));
  BOOST_TEST(refused({}, {""}));
  BOOST_TEST(refused({"alice", "alice"}, {}));
  BOOST_TEST(refused({}, {"ops", "ops"}));
  BOOST_TEST(refused({std::string(max_identity_bytes + 1, 'a')}, {}));
  std::vector<std::string> many;
  for (std::size_t i = 0; i <= max_assignees; ++i)
    many.push_back("user" + std::to_string(i));
  BOOST_TEST(refused(many, {}));
  BOOST_TEST(refused({}, many));
  many.pop_back();
  BOOST_TEST(!refused(many, many));
  // The same name as an assignee and as a group is two different things.
  BOOST_TEST(!refused({"ops"}, {"ops"}));
}

// --- reassign ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(an_assignee_reassigns_with_an_audited_entry) {
  const auto before = assigned();
  auto t = apply_assignment(
    before, reassign_as("alice", {"carol"}, {"ops"}, actor_rights::member_of()),
    t0 + duration{5});
  BOOST_REQUIRE(t.is_ok());
  BOOST_TEST(t->applied);
  BOOST_REQUIRE_EQUAL(t->notices.size(), 1U);
  BOOST_TEST(t->notices.front().type == approval_reassigned);
  const auto& r = t->record;
  BOOST_TEST((r.spec.assignees == std::vector<std::string>{"carol"}));
  BOOST_TEST((r.spec.candidate_groups == std::vector<std::string>{"ops"}));
  BOOST_TEST(r.status.is_pending());
  BOOST_TEST(r.revision == before.revision + 1);
  BOOST_REQUIRE_EQUAL(t->audit.size(), 1U);
  const auto& e = t->audit.front();
  BOOST_TEST(e.action == "reassigned");
  BOOST_TEST(e.actor == "alice");
  BOOST_TEST(e.reason == "alice is away");
  BOOST_TEST(e.sequence == r.revision);
  BOOST_TEST((e.at == t0 + duration{5}));
  BOOST_TEST(
    e.value
    == (bj::value{{"assignees", {"carol"}}, {"candidateGroups", {"ops"}}}));
  // Who may decide follows: carol now, alice no more.
  BOOST_TEST(apply_decision(r, grant_as("carol"), t0).is_ok());
  BOOST_TEST(apply_decision(r, grant_as("alice"), t0).error().type
             == error_type::forbidden);
}

BOOST_AUTO_TEST_CASE(a_group_member_and_an_admin_may_reassign) {
  BOOST_TEST(apply_assignment(assigned(),
                              reassign_as("carol", {"dave"}, {},
                                          actor_rights::member_of({"finance"})),
                              t0)
               .is_ok());
  BOOST_TEST(
    apply_assignment(assigned(), reassign_as("root", {"dave"}, {}, {}), t0)
      .is_ok());
}

BOOST_AUTO_TEST_CASE(an_outsider_may_not_reassign) {
  auto t = apply_assignment(
    assigned(),
    reassign_as("mallory", {"mallory"}, {}, actor_rights::member_of()), t0);
  BOOST_REQUIRE(t.is_err());
  BOOST_TEST(t.error().type == error_type::forbidden);
}

BOOST_AUTO_TEST_CASE(reassigning_to_nobody_opens_the_approval) {
  auto t = apply_assignment(
    assigned(), reassign_as("alice", {}, {}, actor_rights::member_of()), t0);
  BOOST_REQUIRE(t.is_ok());
  BOOST_TEST(apply_decision(t->record, grant_as("anyone"), t0).is_ok());
}

BOOST_AUTO_TEST_CASE(reassigning_to_what_holds_changes_nothing) {
  const auto before = assigned();
  auto t = apply_assignment(before,
                            reassign_as("alice", {"alice", "bob"}, {"finance"},
                                        actor_rights::member_of()),
                            t0);
  BOOST_REQUIRE(t.is_ok());
  BOOST_TEST(!t->applied);
  BOOST_TEST(t->audit.empty());
  BOOST_TEST(t->record == before);
}

BOOST_AUTO_TEST_CASE(a_decided_or_expired_approval_cannot_be_reassigned) {
  auto decided = apply_decision(assigned(), grant_as("alice"), t0);
  BOOST_REQUIRE(decided.is_ok());
  auto t
    = apply_assignment(decided->record, reassign_as("root", {"x"}, {}, {}), t0);
  BOOST_REQUIRE(t.is_err());
  BOOST_TEST(t.error().type == error_type::approval_conflict);
  BOOST_TEST(t.error().message.find("only a pending approval can be reassigned")
             != std::string::npos);
  auto late = apply_assignment(assigned(), reassign_as("root", {"x"}, {}, {}),
                               t0 + one_hour);
  BOOST_REQUIRE(late.is_err());
  BOOST_TEST(late.error().type == error_type::approval_conflict);
}

BOOST_AUTO_TEST_CASE(bad_reassignments_are_invalid_arguments) {
  const auto r = assigned();
  auto invalid = [&](assignment_change c) {
    auto t = apply_assignment(r, c, t0);
    return t.is_err() && t.error().type == error_type::invalid_argument;
  };
  BOOST_TEST(invalid(reassign_as("alice", {""}, {}, {})));
  BOOST_TEST(invalid(reassign_as("alice", {"x", "x"}, {}, {})));
  BOOST_TEST(invalid(reassign_as("alice", {}, {"g", "g"}, {})));
  BOOST_TEST(invalid(reassign_as("", {"x"}, {}, {})));
  auto no_key = reassign_as("alice", {"x"}, {}, {});
  no_key.key.clear();
  BOOST_TEST(invalid(no_key));
  auto unknown
    = apply_assignment(std::nullopt, reassign_as("root", {"x"}, {}, {}), t0);
  BOOST_REQUIRE(unknown.is_err());
  BOOST_TEST(unknown.error().type == error_type::not_found);
}

// --- delegate ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(an_assignee_hands_its_place_to_the_delegate) {
  const auto before = assigned();
  auto t = apply_assignment(before, delegate_as("alice", "dave"), t0);
  BOOST_REQUIRE(t.is_ok());
  BOOST_TEST(t->applied);
  BOOST_REQUIRE_EQUAL(t->notices.size(), 1U);
  BOOST_TEST(t->notices.front().type == approval_reassigned);
  const auto& r = t->record;
  BOOST_TEST((r.spec.assignees == std::vector<std::string>{"dave", "bob"}));
  BOOST_TEST((r.spec.candidate_groups == std::vector<std::string>{"finance"}));
  BOOST_REQUIRE_EQUAL(t->audit.size(), 1U);
  BOOST_TEST(t->audit.front().action == "delegated");
  BOOST_TEST(t->audit.front().actor == "alice");
  BOOST_TEST(t->audit.front().value
             == (bj::value{{"assignees", {"dave", "bob"}},
                           {"candidateGroups", {"finance"}}}));
  BOOST_TEST(apply_decision(r, grant_as("dave"), t0).is_ok());
  BOOST_TEST(apply_decision(r, grant_as("alice"), t0).error().type
             == error_type::forbidden);
  // The repeat finds alice gone and dave there: nothing to do.
  auto again = apply_assignment(r, delegate_as("alice", "dave"), t0);
  BOOST_REQUIRE(again.is_ok());
  BOOST_TEST(!again->applied);
}

BOOST_AUTO_TEST_CASE(delegating_to_another_assignee_only_leaves) {
  auto t = apply_assignment(assigned(), delegate_as("alice", "bob"), t0);
  BOOST_REQUIRE(t.is_ok());
  BOOST_TEST((t->record.spec.assignees == std::vector<std::string>{"bob"}));
}

BOOST_AUTO_TEST_CASE(only_a_named_assignee_may_delegate) {
  for (auto c :
       {delegate_as("mallory", "dave"), delegate_as("carol", "dave")}) {
    c.rights = actor_rights::member_of({"finance"});
    auto t = apply_assignment(assigned(), c, t0);
    BOOST_REQUIRE(t.is_err());
    BOOST_TEST(t.error().type == error_type::forbidden);
    BOOST_TEST(t.error().message.find("reassign it instead")
               != std::string::npos);
  }
  auto admin = assignment_change::delegate(key, "dave", "root");
  auto t = apply_assignment(assigned(), admin, t0);
  BOOST_REQUIRE(t.is_err());
  BOOST_TEST(t.error().type == error_type::forbidden);
}

BOOST_AUTO_TEST_CASE(bad_delegations_are_invalid_arguments) {
  const auto r = assigned();
  auto invalid = [&](assignment_change c) {
    auto t = apply_assignment(r, c, t0);
    return t.is_err() && t.error().type == error_type::invalid_argument;
  };
  BOOST_TEST(invalid(delegate_as("alice", "")));
  BOOST_TEST(invalid(delegate_as("alice", "alice")));
  BOOST_TEST(
    invalid(delegate_as("alice", std::string(max_identity_bytes + 1, 'd'))));
  auto with_groups = delegate_as("alice", "dave");
  with_groups.candidate_groups = {"ops"};
  BOOST_TEST(invalid(with_groups));
}

BOOST_AUTO_TEST_CASE(a_decided_approval_cannot_be_delegated) {
  auto decided = apply_decision(assigned(), grant_as("bob"), t0);
  BOOST_REQUIRE(decided.is_ok());
  auto t = apply_assignment(decided->record, delegate_as("alice", "dave"), t0);
  BOOST_REQUIRE(t.is_err());
  BOOST_TEST(t.error().type == error_type::approval_conflict);
  BOOST_TEST(t.error().message.find("only a pending approval can be delegated")
             != std::string::npos);
}

BOOST_AUTO_TEST_CASE(who_may_act_is_judged_at_the_level_reached) {
  // The deadline passed and the registry has not escalated yet: the level
  // due applies first, so alice is out and the lead is in.
  approval_spec spec;
  spec.assignees = {"alice"};
  spec.expires_at = t0 + one_hour;
  spec.escalations = {{{"lead"}, {}, one_hour}};
  auto created = create_approval(key, spec, "run:1", t0);
  BOOST_REQUIRE(created.is_ok());
  const auto& r = created->record;
  const auto late = t0 + one_hour + duration{1};
  BOOST_TEST(apply_decision(r, grant_as("alice"), late).error().type
             == error_type::forbidden);
  BOOST_TEST(
    apply_assignment(r, delegate_as("alice", "dave"), late).error().type
    == error_type::forbidden);
  auto t = apply_assignment(
    r, reassign_as("lead", {"erin"}, {}, actor_rights::member_of()), late);
  BOOST_REQUIRE(t.is_ok());
  BOOST_REQUIRE_EQUAL(t->audit.size(), 2U);
  BOOST_TEST(t->audit[0].action == "escalated");
  BOOST_TEST(t->audit[1].action == "reassigned");
  BOOST_REQUIRE_EQUAL(t->notices.size(), 2U);
  BOOST_TEST(t->notices[0].type == approval_escalated);
  BOOST_TEST(t->notices[1].type == approval_reassigned);
  BOOST_TEST(t->record.escalation_level == 1U);
  BOOST_TEST((t->record.spec.assignees == std::vector<std::string>{"erin"}));
  BOOST_TEST(apply_decision(r, grant_as("lead"), late).is_ok());
}

BOOST_AUTO_TEST_CASE(the_event_of_an_approval_names_who_may_decide) {
  auto r = assigned();
  r.spec.priority = 5;
  auto jv = event_json(approval_event::of(r), approval_reassigned, t0);
  BOOST_TEST(jv.at("type") == "approval.reassigned");
  BOOST_TEST(jv.at("assignees") == (bj::value{"alice", "bob"}));
  BOOST_TEST(jv.at("candidateGroups") == (bj::value{"finance"}));
  BOOST_TEST(jv.at("priority") == 5);
}

BOOST_AUTO_TEST_SUITE_END()
