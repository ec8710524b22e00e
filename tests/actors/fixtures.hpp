#pragma once

// Workflows and helpers shared by the actor tests: the reference's Quick
// Start order workflow, with counters that prove which steps ran.

#include <atomic>
#include <memory>
#include <string>

#include <boost/json.hpp>

#include "signoff/signoff.hpp"

namespace signoff::test {

/// How often each step of the order workflow ran.
struct order_counters {
  std::atomic<int> create_order{0};
  std::atomic<int> fulfil_order{0};
};

/// The Quick Start: create an order, wait for the manager, fulfil it.
inline model::workflow order_workflow(std::shared_ptr<order_counters> n) {
  auto require_manager = model::approval_step({
    .key = [](std::string_view order_id) {
      return "approval:manager:" + std::string{order_id};
    },
    .options = {.pending_reason = "Waiting for manager approval"},
  });
  return [n, require_manager](model::step& step, const boost::json::value& in)
           -> model::result<boost::json::value> {
    auto order = step.run("create-order", [&] {
      ++n->create_order;
      const auto& order_id = in.at("orderId").as_string();
      return boost::json::value{{"orderId", order_id}, {"total", 15000}};
    });
    const std::string order_id{order.at("orderId").as_string()};
    auto approval = step.run("approval:manager:" + order_id,
                             require_manager(order_id));
    step.run("fulfil-order", [&] {
      ++n->fulfil_order;
      return boost::json::value{{"shipped", true}};
    });
    return boost::json::value{{"orderId", order_id},
                              {"approvedBy", approval.at("approvedBy")}};
  };
}

inline boost::json::value order_input(const std::string& order_id) {
  return {{"orderId", order_id},
          {"items", boost::json::array{{{"sku", "WIDGET"}, {"qty", 1000}}}}};
}

} // namespace signoff::test
