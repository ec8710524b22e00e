// The reference's Quick Start in C++: an order workflow pauses for a
// manager's approval, the manager approves, and the run finishes where it
// paused. Prints each stage.

#include <iostream>
#include <string>

#include <boost/json.hpp>

#include "signoff/signoff.hpp"

namespace {

using boost::json::value;
using signoff::model::result;

int orders_created = 0;

signoff::workflow order_workflow() {
  auto require_manager = signoff::model::approval_step({
    .key =
      [](std::string_view order_id) {
        return "approval:manager:" + std::string{order_id};
      },
    .options = signoff::model::approval_options{}.with_reason(
      "Waiting for manager approval"),
  });
  return [require_manager](signoff::step& step,
                           const value& input) -> signoff::task<result<value>> {
    auto order = co_await step.run("create-order", [&] {
      ++orders_created;
      return value{
        {"orderId", "ord_123"}, {"total", 15000}, {"items", input.at("items")}};
    });
    const std::string order_id{order.at("orderId").as_string()};
    auto approval = co_await step.run("approval:manager:" + order_id,
                                      require_manager(order_id));
    co_await step.run("fulfil-order", [] { return value{{"shipped", true}}; });
    co_return value{{"orderId", order_id},
                    {"approvedBy", approval.at("approvedBy")}};
  };
}

void show(const char* what, const value& v) {
  std::cout << what << ' ' << boost::json::serialize(v) << '\n';
}

} // namespace

int main() {
  signoff::orchestrator_options options;
  options.logger = [](std::string_view line) {
    std::cout << "[signoff] " << line << '\n';
  };
  options.hooks.on_approval_needed
    = [](const signoff::actors::approval_event& e) {
        std::cout << "notify approvers: '" << e.key << "' (" << e.pending_reason
                  << ")\n";
      };
  signoff::orchestrator orchestrator{std::move(options)};
  orchestrator.register_workflow("order-approval", order_workflow());

  auto started = orchestrator.execute(
    "order-approval", value{{"items", {{{"sku", "WIDGET"}, {"qty", 1000}}}}});
  if (started.is_err()) {
    std::cerr << "execute failed: " << started.error().message << '\n';
    return 1;
  }
  show("execute ->", boost::json::value_from(started.value()));

  auto granted = orchestrator.grant_approval(
    "approval:manager:ord_123", {{"approvedBy", "jane@example.com"}},
    {.approved_by = "jane@example.com"});
  if (granted.is_err()) {
    std::cerr << "grant failed: " << granted.error().message << '\n';
    return 1;
  }
  show("grant   -> resumed",
       boost::json::value_from(granted->resumed_workflows));

  auto status = orchestrator.get_workflow_status(started->run_id);
  if (status.is_err() || !status->outcome || status->outcome->is_err()) {
    std::cerr << "the run did not complete\n";
    return 1;
  }
  show("status  ->", boost::json::value_from(*status->outcome));
  show("audit   ->",
       boost::json::value_from(
         orchestrator.audit_trail("approval:manager:ord_123").value_or({})));
  std::cout << "createOrder ran " << orders_created << " time(s)\n";
  return orders_created == 1 ? 0 : 1;
}
