// The reference's Quick Start in C++: an order workflow pauses for a
// manager's approval, the manager approves, and the run finishes where it
// paused. Prints each stage; exits non-zero if anything went otherwise.
// The README's Quick Start is the two regions marked below.

#include <atomic>
#include <iostream>
#include <string>

#include <boost/json.hpp>

// [readme:quick-start]
#include <signoff/signoff.hpp>

using boost::json::value;
using signoff::model::result;

value create_order(const value& input);
value fulfil_order(const std::string& order_id);

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
    auto order
      = co_await step.run("create-order", [&] { return create_order(input); });
    std::string id{order.at("orderId").as_string()};
    auto approval
      = co_await step.run("approval:manager:" + id, require_manager(id));
    co_await step.run("fulfil-order", [&] { return fulfil_order(id); });
    co_return value{{"orderId", id}, {"approvedBy", approval.at("approvedBy")}};
  };
}
// [readme:end]

namespace {

std::atomic<int> orders_created{0};
std::atomic<int> orders_fulfilled{0};

void show(const char* what, const value& v) {
  std::cout << what << ' ' << boost::json::serialize(v) << '\n';
}

bool check(bool ok, const char* what) {
  if (!ok)
    std::cerr << "quick_start: " << what << '\n';
  return ok;
}

} // namespace

// The order service: a step function may block, it runs on the step
// executor.
value create_order(const value& input) {
  ++orders_created;
  return value{
    {"orderId", "ord_123"}, {"total", 15000}, {"items", input.at("items")}};
}

value fulfil_order(const std::string& order_id) {
  ++orders_fulfilled;
  return value{{"orderId", order_id}, {"shipped", true}};
}

int main() {
  const value items = {{{"sku", "WIDGET"}, {"qty", 1000}}};
  // [readme:quick-start-run]
  signoff::orchestrator orchestrator; // in-memory stores by default
  orchestrator.register_workflow("order-approval", order_workflow());

  auto r = orchestrator.execute("order-approval", value{{"items", items}});
  // r->status == paused, r->pending_approvals == {"approval:manager:ord_123"}

  auto g = orchestrator.grant_approval("approval:manager:ord_123",
                                       {{"approvedBy", "jane@example.com"}},
                                       {.approved_by = "jane@example.com"});
  // g->resumed_workflows == {r->run_id}: the run completed where it paused,
  // and create_order ran once.
  // [readme:end]

  if (!check(r.is_ok(), "execute failed") || !check(g.is_ok(), "grant failed"))
    return 1;
  show("execute ->", boost::json::value_from(r.value()));
  show("grant   -> resumed", boost::json::value_from(g->resumed_workflows));
  auto status = orchestrator.get_workflow_status(r->run_id);
  if (!check(status.is_ok() && status->outcome && status->outcome->is_ok(),
             "the run did not complete"))
    return 1;
  show("status  ->", boost::json::value_from(*status->outcome));
  show("audit   ->",
       boost::json::value_from(
         orchestrator.audit_trail("approval:manager:ord_123").value_or({})));
  std::cout << "create_order ran " << orders_created << " time(s)\n";

  bool ok = check(to_string(r->status) == "paused", "the run did not pause");
  ok &= check(r->pending_approvals
                == std::vector<std::string>{"approval:manager:ord_123"},
              "the run waits on another approval");
  ok &= check(g->resumed_workflows == std::vector<std::string>{r->run_id},
              "the grant did not resume the run");
  ok &= check(
    status->outcome->value()
      == value{{"orderId", "ord_123"}, {"approvedBy", "jane@example.com"}},
    "the run returned something else");
  ok &= check(orders_created == 1 && orders_fulfilled == 1,
              "a step ran more than once");
  return ok ? 0 : 1;
}
