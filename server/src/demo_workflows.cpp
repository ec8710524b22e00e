#include "demo_workflows.hpp"

#include <chrono>
#include <string>

#include <boost/json.hpp>

namespace signoff::demo {

namespace {

using boost::json::value;
using model::result;

result<value> order(model::step& step, const value& input) {
  const std::string id{input.at("orderId").as_string()};
  auto total = step.run("price-order", [&] {
    return input.at("quantity").to_number<double>()
           * input.at("unitPrice").to_number<double>();
  });
  auto approval = step.try_approval(
    "approval:order:" + id,
    {.pending_reason = "Orders above 10,000 need a manager",
     .expires_in = std::chrono::hours{48},
     .metadata = {
       {"orderId", id}, {"customer", input.at("customer")}, {"total", total}}});
  if (approval.is_err())
    return value{{"orderId", id},
                 {"outcome", approval.error().type},
                 {"reason", approval.error().message}};
  step.run("ship-order", [&] { return value{{"shipped", true}}; });
  return value{{"orderId", id}, {"outcome", "shipped"}, {"total", total}};
}

result<value> expense(model::step& step, const value& input) {
  const std::string id{input.at("expenseId").as_string()};
  auto approval = step.approval(
    "approval:expense:" + id,
    {.pending_reason = "Expenses need 2 of the 3 finance approvers",
     .quorum = 2,
     .expires_in = std::chrono::hours{24 * 7},
     .metadata = {{"expenseId", id},
                  {"employee", input.at("employee")},
                  {"amount", input.at("amount")},
                  {"purpose", input.at("purpose")}}});
  step.run("reimburse", [&] { return value{{"paid", true}}; });
  return value{
    {"expenseId", id}, {"outcome", "reimbursed"}, {"approval", approval}};
}

} // namespace

void register_demo_workflows(orchestrator& orch) {
  orch.register_workflow("order", order);
  orch.register_workflow("expense", expense);
}

void seed_waiting_runs(orchestrator& orch) {
  (void)orch.execute("order", value{{"orderId", "ord_123"},
                                    {"customer", "ACME Corp"},
                                    {"quantity", 1000},
                                    {"unitPrice", 15}});
  (void)orch.execute("order", value{{"orderId", "ord_124"},
                                    {"customer", "Globex"},
                                    {"quantity", 40},
                                    {"unitPrice", 320}});
  (void)orch.execute("expense", value{{"expenseId", "exp_7"},
                                      {"employee", "sam@example.com"},
                                      {"amount", 1840},
                                      {"purpose", "Conference travel"}});
}

} // namespace signoff::demo
