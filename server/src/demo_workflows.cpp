#include "demo_workflows.hpp"

#include <chrono>
#include <string>

#include <boost/json.hpp>

namespace signoff::demo {

namespace {

using boost::json::value;
using model::result;

task<result<value>> order(step& step, const value& input) {
  const std::string id{input.at("orderId").as_string()};
  auto total = co_await step.run("price-order", [&] {
    return input.at("quantity").to_number<double>()
           * input.at("unitPrice").to_number<double>();
  });
  // Built before the co_await: g++ 12 cannot compile a braced JSON object
  // inside a co_await expression ("array used as initializer").
  boost::json::value metadata{
    {"orderId", id}, {"customer", input.at("customer")}, {"total", total}};
  // Any manager decides; orders of 15,000 and more come first in the
  // inbox.
  auto options = model::approval_options{}
                   .with_reason("Orders above 10,000 need a manager")
                   .expiring_in(std::chrono::hours{48})
                   .with_metadata(std::move(metadata))
                   .for_groups({"managers"})
                   .with_priority(total >= 15'000 ? 2 : 0);
  auto approval
    = co_await step.try_approval("approval:order:" + id, std::move(options));
  if (approval.is_err())
    co_return value{{"orderId", id},
                    {"outcome", approval.error().type},
                    {"reason", approval.error().message}};
  co_await step.run("ship-order", [&] { return value{{"shipped", true}}; });
  co_return value{{"orderId", id}, {"outcome", "shipped"}, {"total", total}};
}

task<result<value>> expense(step& step, const value& input) {
  const std::string id{input.at("expenseId").as_string()};
  boost::json::value metadata{{"expenseId", id},
                              {"employee", input.at("employee")},
                              {"amount", input.at("amount")},
                              {"purpose", input.at("purpose")}};
  auto options = model::approval_options{}
                   .with_reason("Expenses need 2 of the 3 finance approvers")
                   .with_quorum(2)
                   .expiring_in(std::chrono::hours{24 * 7})
                   .with_metadata(std::move(metadata))
                   .for_groups({"finance"})
                   .with_priority(1);
  auto approval
    = co_await step.approval("approval:expense:" + id, std::move(options));
  co_await step.run("reimburse", [&] { return value{{"paid", true}}; });
  co_return value{
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
