// Uses the installed signoff: a one-approval workflow on the in-memory
// stores pauses, is granted, and completes. Exits 0 only if it completed.

#include <iostream>
#include <string>

#include <boost/json.hpp>

#include "signoff/signoff.hpp"

namespace {

using boost::json::value;
using signoff::model::result;

constexpr const char* approval_key = "approval:install-test";

signoff::task<result<value>> one_approval(signoff::step& step,
                                          const value& input) {
  auto approval = co_await step.approval(approval_key, "test");
  co_return value{{"input", input}, {"approval", approval}};
}

} // namespace

int main() {
  signoff::orchestrator orchestrator;
  orchestrator.register_workflow("one-approval", one_approval);
  auto started = orchestrator.execute("one-approval", value{{"n", 1}});
  if (started.is_err()
      || started->status != signoff::model::run_status::paused) {
    std::cerr << "the run did not pause on its approval\n";
    return 1;
  }
  auto granted = orchestrator.grant_approval(approval_key, value{{"ok", true}},
                                             {.approved_by = "consumer"});
  if (granted.is_err()) {
    std::cerr << "grant failed: " << granted.error().message << '\n';
    return 1;
  }
  auto status = orchestrator.get_workflow_status(started->run_id);
  if (status.is_err() || status->status != signoff::model::run_status::completed
      || !status->outcome || status->outcome->is_err()) {
    std::cerr << "the run did not complete\n";
    return 1;
  }
  std::cout << "completed: " << boost::json::serialize(status->outcome->value())
            << '\n';
  return 0;
}
