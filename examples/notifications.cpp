// Notifications and webhooks: hooks tell approvers that a run waits and
// that an approval was decided, and a webhook body decides it. A malformed
// body is refused and changes nothing. Exits non-zero if anything went
// otherwise.

#include <chrono>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include <signoff/signoff.hpp>

using boost::json::value;
using signoff::model::result;

namespace {

/// The chat messages "sent", in order.
std::mutex sent_mutex;
std::vector<std::string> sent;

void post_to_slack(std::string_view channel, const std::string& text) {
  std::lock_guard guard{sent_mutex};
  sent.push_back(std::string{channel} + " " + text);
}

/// The HTTP answers "sent".
std::vector<std::string> replies;

void reply(int status, const std::string& body) {
  replies.push_back(std::to_string(status) + " " + body);
}

signoff::workflow expense_workflow() {
  return [](signoff::step& step,
            const value& input) -> signoff::task<result<value>> {
    std::string key{input.at("key").as_string()};
    auto approval = co_await step.approval(key, "Expense report");
    co_return approval;
  };
}

bool check(bool ok, const char* what) {
  if (!ok)
    std::cerr << "notifications: " << what << '\n';
  return ok;
}

} // namespace

int main() {
  // [readme:notifications]
  signoff::orchestrator_options options;
  options.hooks.on_approval_needed
    = [](const signoff::actors::approval_event& e) {
        post_to_slack("#approvals", "Approval needed: " + e.key);
      };
  options.hooks.on_approval_resolved
    = [](const signoff::actors::approval_event& e) {
        // e.status: how it ended; e.run_ids: the runs that waited on it.
        post_to_slack("#approvals", "Decided: " + e.key);
      };
  options.logger = [](std::string_view line) {
    std::clog << line << '\n';
  };
  options.default_expiration = std::chrono::hours{24};
  signoff::orchestrator orchestrator{std::move(options)};
  // [readme:end]
  orchestrator.register_workflow("expense", expense_workflow());
  auto run = orchestrator.execute("expense", {{"key", "approval:expense:7"}});
  bool ok = check(run.is_ok() && to_string(run->status) == "paused",
                  "the run did not pause");

  for (const std::string request_body :
       {R"({"key": "approval:expense:7", "action": "reject"})",
        R"({"key": "approval:expense:7", "action": "approve",
            "value": {"ok": true}, "actorId": "jane@example.com"})"}) {
    // [readme:webhook]
    signoff::approval_webhook_handler handle{orchestrator};
    auto response = handle.handle_text(request_body); // or handle(parsed_json)
    reply(response.success ? 200 : 400,
          boost::json::serialize(response.to_json()));
    // [readme:end]
  }

  for (const auto& line : replies)
    std::cout << "webhook: " << line << '\n';
  for (const auto& line : sent)
    std::cout << "slack:   " << line << '\n';
  ok &= check(replies.size() == 2 && replies[0].starts_with("400 ")
                && replies[1].starts_with("200 "),
              "the webhook answered otherwise");
  if (run.is_ok()) {
    auto status = orchestrator.get_workflow_status(run->run_id);
    ok &= check(status.is_ok() && to_string(status->status) == "completed",
                "the webhook's grant did not complete the run");
  }
  auto trail = orchestrator.audit_trail("approval:expense:7");
  ok &= check(trail.is_ok() && trail->size() == 2
                && trail->back().actor == "jane@example.com",
              "the audit trail is not created + approved by jane");
  std::lock_guard guard{sent_mutex};
  ok &= check(sent
                == std::vector<
                  std::string>{"#approvals Approval needed: approval:expense:7",
                               "#approvals Decided: approval:expense:7"},
              "the hooks were not called once each");
  return ok ? 0 : 1;
}
