#pragma once

// Workflows and helpers shared by the actor tests: the reference's Quick
// Start order workflow, with counters that prove which steps ran.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

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
    .key =
      [](std::string_view order_id) {
        return "approval:manager:" + std::string{order_id};
      },
    .options = {.pending_reason = "Waiting for manager approval"},
  });
  return [n, require_manager](
           model::step& step,
           const boost::json::value& in) -> model::result<boost::json::value> {
    auto order = step.run("create-order", [&] {
      ++n->create_order;
      const auto& order_id = in.at("orderId").as_string();
      return boost::json::value{{"orderId", order_id}, {"total", 15000}};
    });
    const std::string order_id{order.at("orderId").as_string()};
    auto approval
      = step.run("approval:manager:" + order_id, require_manager(order_id));
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

namespace signoff::test {

/// A clock tests move by hand, so expiry is tested without sleeping.
class manual_clock {
public:
  manual_clock()
      : ms_(std::make_shared<std::atomic<std::int64_t>>(
        model::to_millis(model::system_now()))) {}

  [[nodiscard]] model::clock fn() const {
    return [ms = ms_] {
      return model::from_millis(ms->load());
    };
  }

  [[nodiscard]] model::time_point now() const {
    return model::from_millis(ms_->load());
  }

  void advance(model::duration d) {
    *ms_ += d.count();
  }

private:
  std::shared_ptr<std::atomic<std::int64_t>> ms_;
};

/// Waits (bounded) until `done()` holds; false if it never did.
template <class Predicate>
bool eventually(Predicate done,
                std::chrono::milliseconds limit = std::chrono::seconds{10}) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  return done();
}

/// A workflow that waits for one approval and reports how it ended:
/// the granted value, or the error's type when the workflow branches.
inline model::workflow
single_approval_workflow(std::shared_ptr<std::atomic<int>> after_approval,
                         bool branch, model::approval_options options = {}) {
  return [after_approval, branch, options](
           model::step& step,
           const boost::json::value& in) -> model::result<boost::json::value> {
    const std::string key{in.at("key").as_string()};
    if (!branch) {
      auto value = step.approval(key, options);
      step.run("after", [&] { ++*after_approval; });
      return value;
    }
    auto decided = step.try_approval(key, options);
    step.run("after", [&] { ++*after_approval; });
    if (decided.is_err())
      return boost::json::value{{"branch", decided.error().type},
                                {"message", decided.error().message}};
    return boost::json::value{{"branch", "approved"},
                              {"value", decided.value()}};
  };
}

inline boost::json::value key_input(const std::string& key) {
  return {{"key", key}};
}

} // namespace signoff::test
