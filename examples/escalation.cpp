// Escalation and reminders: a purchase order waits for ann for a day, is
// reminded two hours before, then escalates to the team lead for eight
// hours and to the directors for four before it expires. Here the lead
// approves it after the first escalation. The program moves its own clock
// and asks for what is due (`expire_due`), which the registry also does by
// itself. Exits non-zero if anything went otherwise.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include <signoff/signoff.hpp>

using boost::json::value;
using signoff::model::result;

namespace {

/// The messages "sent" to approvers, in order.
std::mutex sent_mutex;
std::vector<std::string> sent;

void notify(const std::string& text) {
  std::lock_guard guard{sent_mutex};
  sent.push_back(text);
}

std::string names(const signoff::actors::approval_event& e) {
  std::string out;
  for (const auto& who : e.assignees)
    out += (out.empty() ? "" : ",") + who;
  for (const auto& group : e.candidate_groups)
    out += (out.empty() ? "group " : ",group ") + group;
  return out;
}

// [readme:escalation]
/// Ann has a day; then the team lead 8 hours more, then any director 4.
signoff::model::approval_options purchase_approval() {
  using namespace std::chrono_literals;
  return signoff::model::approval_options{}
    .with_reason("Purchase order")
    .expiring_in(24h)
    .assigned_to({"ann@example.com"})
    // When a deadline passes undecided: who decides next, for how long.
    .escalating_to({{"lead@example.com"}, {}, 8h})
    .escalating_to({{}, {"directors"}, 4h})
    .reminding_before(2h); // before each deadline
}
// [readme:end]

// The options are built outside the coroutine: g++ 12 miscompiles braced
// lists of strings inside one ("array used as initializer").
signoff::workflow purchase_workflow() {
  return [](signoff::step& step,
            const value& input) -> signoff::task<result<value>> {
    std::string id{input.at("id").as_string()};
    auto options = purchase_approval();
    co_return co_await step.approval("approval:po:" + id, options);
  };
}

bool check(bool ok, const char* what) {
  if (!ok)
    std::cerr << "escalation: " << what << '\n';
  return ok;
}

} // namespace

int main() {
  auto now_ms = std::make_shared<std::atomic<std::int64_t>>(
    signoff::model::to_millis(signoff::model::system_now()));
  auto pass = [now_ms](std::chrono::hours h) {
    *now_ms += std::chrono::milliseconds{h}.count();
  };
  // [readme:escalation-hooks]
  signoff::orchestrator_options options;
  options.hooks.on_approval_reminder
    = [](const signoff::actors::approval_event& e) {
        notify("Reminder: " + e.key + " for " + names(e));
      };
  options.hooks.on_approval_escalated
    = [](const signoff::actors::approval_event& e) {
        notify("Escalated (level " + std::to_string(e.escalation_level)
               + "): " + e.key + " for " + names(e));
      };
  // [readme:end]
  options.clock = [now_ms] {
    return signoff::model::from_millis(*now_ms);
  };
  signoff::orchestrator orchestrator{std::move(options)};
  orchestrator.register_workflow("purchase", purchase_workflow());

  auto run = orchestrator.execute("purchase", value{{"id", "17"}});
  bool ok = check(run.is_ok() && to_string(run->status) == "paused",
                  "the run did not pause");
  pass(std::chrono::hours{22});
  auto due = orchestrator.expire_due();
  ok &= check(due.is_ok() && due->empty(), "something expired at 22 h");
  pass(std::chrono::hours{2});
  due = orchestrator.expire_due();
  ok &= check(due.is_ok() && due->empty(), "something expired at 24 h");
  auto approval = orchestrator.get_approval("approval:po:17");
  ok &= check(approval.is_ok() && approval->status.is_pending()
                && approval->escalation_level == 1
                && approval->spec.assignees
                     == std::vector<std::string>{"lead@example.com"},
              "the approval did not escalate to the lead");

  auto lead = orchestrator.grant_approval("approval:po:17", {{"ok", true}},
                                          {.approved_by = "lead@example.com"});
  ok &= check(lead.is_ok() && run.is_ok()
                && lead->resumed_workflows
                     == std::vector<std::string>{run->run_id},
              "the lead's grant did not resume the run");
  if (run.is_ok()) {
    auto status = orchestrator.get_workflow_status(run->run_id);
    ok &= check(status.is_ok() && to_string(status->status) == "completed",
                "the run did not complete");
  }
  auto trail = orchestrator.audit_trail("approval:po:17");
  std::vector<std::string> actions;
  if (trail.is_ok())
    for (const auto& entry : *trail)
      actions.push_back(entry.action);
  ok &= check(actions
                == std::vector<std::string>{"created", "reminded", "escalated",
                                            "approved"},
              "the audit trail is not created, reminded, escalated, approved");

  std::lock_guard guard{sent_mutex};
  for (const auto& line : sent)
    std::cout << line << '\n';
  const std::vector<std::string> expected{
    "Reminder: approval:po:17 for ann@example.com",
    "Escalated (level 1): approval:po:17 for lead@example.com"};
  ok &= check(sent == expected, "the hooks were not called once each");
  return ok ? 0 : 1;
}
