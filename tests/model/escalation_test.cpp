// Escalation and reminders as the shared rules compute them: what the
// registry's timer does at each moment (one thing per firing), how a
// person's decision catches up with levels the registry has not applied
// yet, what an approval reads as meanwhile, and which specs are refused.

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
using namespace std::chrono_literals;

namespace {

const time_point t0 = from_millis(1'700'000'000'000);
const std::string key = "approval:po:17";

/// Due 10 h after t0 for "ann", then "lead" (+4 h), then group "directors"
/// (+2 h): final deadline t0 + 16 h. Reminders 3 h and 1 h before each.
approval_spec escalating_spec() {
  approval_spec spec;
  spec.expires_at = t0 + 10h;
  spec.assignees = {"ann"};
  spec.escalations = {{{"lead"}, {}, 4h}, {{}, {"directors"}, 2h}};
  spec.reminders = {1h, 3h};
  return spec;
}

approval_record created(const approval_spec& spec = escalating_spec()) {
  auto t = create_approval(key, spec, "run:1", t0);
  BOOST_REQUIRE_MESSAGE(t.is_ok(), (t.is_err() ? t.error().message : ""));
  return std::move(t->record);
}

/// What the registry's timer does at `now`.
result<approval_transition> fire(const approval_record& r, time_point now) {
  return apply_decision(&r, {key, decision_kind::expire, {}, {}, "system"},
                        now);
}

/// The timer at `now`, required to change something; returns the record.
approval_record fire_ok(const approval_record& r, time_point now,
                        const std::string& action) {
  auto t = fire(r, now);
  BOOST_REQUIRE_MESSAGE(t.is_ok(), (t.is_err() ? t.error().message : ""));
  BOOST_TEST(t->applied);
  BOOST_REQUIRE_EQUAL(t->audit.size(), 1U);
  BOOST_TEST(t->audit[0].action == action);
  BOOST_TEST(t->audit[0].actor == "system");
  BOOST_TEST(t->audit[0].sequence == r.revision + 1);
  BOOST_TEST(t->record.revision == r.revision + 1);
  return std::move(t->record);
}

error create_err(const approval_spec& spec) {
  auto t = create_approval(key, spec, "run:1", t0);
  BOOST_REQUIRE(t.is_err());
  BOOST_TEST(t.error().is(error_type::invalid_argument));
  return t.error();
}

} // namespace

BOOST_AUTO_TEST_SUITE(escalation)

BOOST_AUTO_TEST_CASE(
  the_next_due_time_is_the_first_reminder_then_the_deadline) {
  auto r = created();
  BOOST_TEST((r.reminder_times() == std::vector<time_point>{t0 + 7h, t0 + 9h}));
  BOOST_TEST((r.next_reminder() == std::optional{t0 + 7h}));
  BOOST_TEST((r.next_due() == std::optional{t0 + 7h}));
  BOOST_TEST((r.final_deadline() == std::optional{t0 + 16h}));
  r.reminders_sent = 2;
  BOOST_TEST(!r.next_reminder().has_value());
  BOOST_TEST((r.next_due() == std::optional{t0 + 10h}));
  r.status.state = approval_state::approved;
  BOOST_TEST(!r.next_due().has_value());
}

BOOST_AUTO_TEST_CASE(nothing_fires_before_it_is_due) {
  const auto r = created();
  auto early = fire(r, t0 + 7h - 1ms);
  BOOST_REQUIRE(early.is_err());
  BOOST_TEST(early.error().is(error_type::invalid_argument));
}

BOOST_AUTO_TEST_CASE(a_due_reminder_is_sent_once_and_notified) {
  const auto r = created();
  auto t = fire(r, t0 + 7h);
  BOOST_REQUIRE(t.is_ok());
  BOOST_TEST(t->record.reminders_sent == 1U);
  BOOST_TEST(t->record.status.is_pending());
  BOOST_TEST(t->record.spec.assignees == std::vector<std::string>{"ann"});
  BOOST_REQUIRE_EQUAL(t->audit.size(), 1U);
  BOOST_TEST(t->audit[0].action == "reminded");
  BOOST_TEST(t->audit[0].actor == "system");
  BOOST_TEST(t->audit[0].value.at("expiresAt").as_int64()
             == to_millis(t0 + 10h));
  BOOST_REQUIRE_EQUAL(t->notices.size(), 1U);
  BOOST_TEST(t->notices[0].type == approval_reminder);
  BOOST_TEST((t->notices[0].event.expires_at == std::optional{t0 + 10h}));
  BOOST_TEST((t->record.next_due() == std::optional{t0 + 9h}));
  // Fired again at once (two timers, a repeat): nothing more is due.
  BOOST_TEST(fire(t->record, t0 + 7h + 1s).is_err());
}

BOOST_AUTO_TEST_CASE(the_deadline_escalates_to_the_next_level) {
  auto r = created();
  r = fire_ok(r, t0 + 7h, "reminded");
  r = fire_ok(r, t0 + 9h, "reminded");
  auto t = fire(r, t0 + 10h);
  BOOST_REQUIRE(t.is_ok());
  const auto& next = t->record;
  BOOST_TEST(next.status.is_pending());
  BOOST_TEST(next.escalation_level == 1U);
  BOOST_TEST(next.reminders_sent == 0U);
  BOOST_TEST(next.spec.assignees == std::vector<std::string>{"lead"});
  BOOST_TEST(next.spec.candidate_groups.empty());
  BOOST_TEST((next.spec.expires_at == std::optional{t0 + 14h}));
  BOOST_REQUIRE_EQUAL(t->audit.size(), 1U);
  const auto& entry = t->audit[0];
  BOOST_TEST(entry.action == "escalated");
  BOOST_TEST(entry.actor == "system");
  BOOST_TEST(entry.value
             == bj::parse(R"({"level":1,"assignees":["lead"],)"
                          R"("candidateGroups":[],"expiresAt":)"
                          + std::to_string(to_millis(t0 + 14h)) + "}"));
  BOOST_REQUIRE_EQUAL(t->notices.size(), 1U);
  BOOST_TEST(t->notices[0].type == approval_escalated);
  BOOST_TEST(t->notices[0].event.assignees == std::vector<std::string>{"lead"});
  BOOST_TEST(t->notices[0].event.escalation_level == 1U);
  // The new deadline's reminders are due again.
  BOOST_TEST((next.next_due() == std::optional{t0 + 11h}));
}

BOOST_AUTO_TEST_CASE(a_chain_of_levels_then_expires_at_the_last_deadline) {
  auto r = created();
  std::vector<std::string> actions;
  for (const auto at : {t0 + 7h, t0 + 9h, t0 + 10h, t0 + 11h, t0 + 13h,
                        t0 + 14h, t0 + 13h + 2h, t0 + 16h}) {
    auto t = fire(r, at);
    BOOST_REQUIRE_MESSAGE(t.is_ok(), (t.is_err() ? t.error().message : ""));
    actions.push_back(t->audit.back().action);
    r = std::move(t->record);
  }
  BOOST_TEST(actions
             == (std::vector<std::string>{"reminded", "reminded", "escalated",
                                          "reminded", "reminded", "escalated",
                                          "reminded", "expired"}));
  BOOST_TEST(r.status.state == approval_state::expired);
  BOOST_TEST(r.status.decided_by == "system");
  BOOST_TEST((r.status.decided_at == std::optional{t0 + 16h}));
  BOOST_TEST(r.spec.candidate_groups == std::vector<std::string>{"directors"});
  BOOST_TEST(r.revision == 9U);
  BOOST_TEST(!r.next_due().has_value());
}

// After downtime: each firing does the next thing due, once, in order;
// reminders of deadlines that passed are skipped; the last level's
// deadline expires it. Nothing is left due after the expiry.
BOOST_AUTO_TEST_CASE(catching_up_after_downtime_fires_each_level_once) {
  auto r = created();
  const auto late = t0 + 15h; // both levels' first deadlines passed
  r = fire_ok(r, late, "escalated");
  BOOST_TEST(r.escalation_level == 1U);
  BOOST_TEST((r.next_due() <= std::optional{late}));
  r = fire_ok(r, late, "escalated");
  BOOST_TEST(r.escalation_level == 2U);
  BOOST_TEST(r.spec.candidate_groups == std::vector<std::string>{"directors"});
  BOOST_TEST(r.status.is_pending());
  // The last deadline (16 h) is ahead; its 1 h reminder is due at 15 h.
  r = fire_ok(r, late, "reminded");
  BOOST_TEST(r.reminders_sent == 2U); // the 3 h one fell before 14 h
  BOOST_TEST(fire(r, late).is_err());
  r = fire_ok(r, t0 + 20h, "expired");
  BOOST_TEST((r.status.decided_at == std::optional{t0 + 16h}));
  BOOST_TEST(fire(r, t0 + 20h)->applied == false);
}

BOOST_AUTO_TEST_CASE(reminders_before_the_deadline_was_set_are_never_sent) {
  auto spec = escalating_spec();
  spec.expires_at = t0 + 2h; // the 3 h reminder falls before the creation
  auto r = created(spec);
  BOOST_TEST((r.next_reminder() == std::optional{t0 + 1h}));
  r = fire_ok(r, t0 + 1h, "reminded");
  BOOST_TEST(r.reminders_sent == 2U);
  // The second level lasts 2 h: its 3 h reminder is skipped too.
  r = fire_ok(r, t0 + 6h, "escalated");
  r = fire_ok(r, t0 + 6h, "escalated");
  BOOST_TEST((r.next_reminder() == std::optional{t0 + 7h}));
}

BOOST_AUTO_TEST_CASE(
  an_escalating_approval_reads_pending_until_its_last_deadline) {
  const auto r = created();
  BOOST_TEST(r.status_at(t0 + 12h).is_pending());
  BOOST_TEST(r.status_at(t0 + 16h - 1ms).is_pending());
  const auto expired = r.status_at(t0 + 16h);
  BOOST_TEST(expired.state == approval_state::expired);
  BOOST_TEST((expired.decided_at == std::optional{t0 + 16h}));
}

// The registry is behind: a grant after the first deadline is made on the
// level reached, and records the escalation it skipped over first.
BOOST_AUTO_TEST_CASE(a_decision_after_a_deadline_applies_the_levels_due_first) {
  const auto r = created();
  auto t = apply_decision(&r, decision::grant(key, {{"ok", true}}, "lead"),
                          t0 + 12h);
  BOOST_REQUIRE(t.is_ok());
  BOOST_TEST(t->record.status.state == approval_state::approved);
  BOOST_TEST(t->record.escalation_level == 1U);
  BOOST_TEST(t->record.spec.assignees == std::vector<std::string>{"lead"});
  BOOST_REQUIRE_EQUAL(t->audit.size(), 2U);
  BOOST_TEST(t->audit[0].action == "escalated");
  BOOST_TEST(t->audit[0].sequence == 2U);
  BOOST_TEST(t->audit[1].action == "approved");
  BOOST_TEST(t->audit[1].sequence == 3U);
  BOOST_TEST(t->record.revision == 3U);
  BOOST_REQUIRE_EQUAL(t->notices.size(), 1U);
  BOOST_TEST(t->notices[0].type == approval_escalated);
  // Past the last deadline it is a conflict reading expired.
  auto late = apply_decision(&r, decision::grant(key, {}, "x"), t0 + 16h);
  BOOST_REQUIRE(late.is_err());
  BOOST_TEST(late.error().is(error_type::approval_conflict));
  BOOST_TEST(late.error().details.at("status").as_string() == "expired");
}

BOOST_AUTO_TEST_CASE(a_repeated_grant_after_a_deadline_writes_nothing) {
  auto spec = escalating_spec();
  spec.quorum = 2;
  auto r = created(spec);
  auto first = apply_decision(&r, decision::grant(key, 1, "ann"), t0 + 1h);
  BOOST_REQUIRE(first.is_ok());
  r = std::move(first->record);
  auto again = apply_decision(&r, decision::grant(key, 1, "ann"), t0 + 11h);
  BOOST_REQUIRE(again.is_ok());
  BOOST_TEST(!again->applied);
  BOOST_TEST(again->record == r);
}

BOOST_AUTO_TEST_CASE(bad_escalations_and_reminders_are_refused) {
  auto no_deadline = escalating_spec();
  no_deadline.expires_at.reset();
  BOOST_TEST(create_err(no_deadline).message.find("need a deadline")
             != std::string::npos);
  auto zero = escalating_spec();
  zero.escalations[1].deadline_in = 0ms;
  BOOST_TEST(create_err(zero).message.find("escalation level 2")
             != std::string::npos);
  auto huge = escalating_spec();
  huge.escalations[0].deadline_in = std::chrono::hours{24 * 366 * 11};
  create_err(huge);
  auto twice = escalating_spec();
  twice.reminders = {1h, 2h, 1h};
  BOOST_TEST(create_err(twice).message.find("given twice")
             != std::string::npos);
  auto negative = escalating_spec();
  negative.reminders = {-1h};
  create_err(negative);
  auto empty_name = escalating_spec();
  empty_name.escalations[0].candidate_groups = {""};
  create_err(empty_name);
  auto many = escalating_spec();
  many.reminders.clear();
  for (std::size_t i = 0; i <= max_reminders; ++i)
    many.reminders.emplace_back(std::chrono::minutes{i + 1});
  create_err(many);
  auto levels = escalating_spec();
  levels.escalations.assign(max_escalation_levels + 1, {{"x"}, {}, 1h});
  create_err(levels);
}

BOOST_AUTO_TEST_CASE(events_carry_who_may_decide_and_the_level) {
  auto r = created();
  r = fire_ok(r, t0 + 10h, "escalated");
  const auto json
    = event_json(approval_event::of(r), approval_escalated, t0 + 10h);
  BOOST_TEST(json.at("type").as_string() == "approval.escalated");
  BOOST_TEST(json.at("assignees") == bj::parse(R"(["lead"])"));
  BOOST_TEST(json.at("candidateGroups").as_array().empty());
  BOOST_TEST(json.at("escalationLevel").to_number<int>() == 1);
  BOOST_TEST(json.at("expiresAt").as_int64() == to_millis(t0 + 14h));
}

BOOST_AUTO_TEST_SUITE_END()
