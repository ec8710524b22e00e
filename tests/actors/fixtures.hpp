#pragma once

// Workflows and helpers shared by the actor tests: the reference's Quick
// Start order workflow, with counters that prove which steps ran.

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <caf/scoped_actor.hpp>

#include "signoff/persistence/lmdb_store.hpp"
#include "signoff/persistence/outbox.hpp"
#include "signoff/signoff.hpp"
#include "support/env.hpp"
#include "support/temp_dir.hpp"

namespace signoff::test {

/// How often each step of the order workflow ran.
struct order_counters {
  std::atomic<int> create_order{0};
  std::atomic<int> fulfil_order{0};
};

/// The Quick Start: create an order, wait for the manager, fulfil it.
inline workflow order_workflow(std::shared_ptr<order_counters> n) {
  auto require_manager = model::approval_step({
    .key =
      [](std::string_view order_id) {
        return "approval:manager:" + std::string{order_id};
      },
    .options
    = model::approval_options{}.with_reason("Waiting for manager approval"),
  });
  return [n, require_manager](step& step, const boost::json::value& in)
           -> task<model::result<boost::json::value>> {
    auto order = co_await step.run("create-order", [&] {
      ++n->create_order;
      const auto& order_id = in.at("orderId").as_string();
      return boost::json::value{{"orderId", order_id}, {"total", 15000}};
    });
    const std::string order_id{order.at("orderId").as_string()};
    auto approval = co_await step.run("approval:manager:" + order_id,
                                      require_manager(order_id));
    co_await step.run("fulfil-order", [&] {
      ++n->fulfil_order;
      return boost::json::value{{"shipped", true}};
    });
    co_return boost::json::value{{"orderId", order_id},
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
inline workflow
single_approval_workflow(std::shared_ptr<std::atomic<int>> after_approval,
                         bool branch, model::approval_options options = {}) {
  return
    [after_approval, branch, options](
      step& step,
      const boost::json::value& in) -> task<model::result<boost::json::value>> {
      const std::string key{in.at("key").as_string()};
      if (!branch) {
        auto value = co_await step.approval(key, options);
        co_await step.run("after", [&] { ++*after_approval; });
        co_return value;
      }
      auto decided = co_await step.try_approval(key, options);
      co_await step.run("after", [&] { ++*after_approval; });
      if (decided.is_err())
        co_return boost::json::value{{"branch", decided.error().type},
                                     {"message", decided.error().message}};
      co_return boost::json::value{{"branch", "approved"},
                                   {"value", decided.value()}};
    };
}

inline boost::json::value key_input(const std::string& key) {
  return {{"key", key}};
}

} // namespace signoff::test

namespace signoff::test {

/// How often each step of `branching_workflow` ran: the step before the
/// approval, and one counter per way the approval can end.
struct branch_counters {
  std::atomic<int> prepared{0};
  std::atomic<int> approved{0};
  std::atomic<int> rejected{0};
  std::atomic<int> expired{0};
  std::atomic<int> cancelled{0};

  /// Branch steps run, whichever branch.
  [[nodiscard]] int branches() const {
    return approved + rejected + expired + cancelled;
  }

  /// Branch steps `run_id` ran, whichever branch.
  [[nodiscard]] int branches_of(const std::string& run_id) {
    std::lock_guard guard{mutex_};
    return by_run_[run_id];
  }

  void count_branch(std::atomic<int>& branch, const std::string& run_id) {
    ++branch;
    std::lock_guard guard{mutex_};
    ++by_run_[run_id];
  }

private:
  std::mutex mutex_;
  std::map<std::string, int> by_run_;
};

/// Prepares, waits for the approval `in.key`, then runs the one step of the
/// branch its decision takes. Each step is checkpointed and counted, so a
/// step that ran twice, or the wrong branch, shows in `n`. Returns
/// `{"branch": "approved", "value": v}` or `{"branch": error type,
/// "message": reason}`.
inline workflow branching_workflow(std::shared_ptr<branch_counters> n,
                                   model::approval_options options = {}) {
  return [n, options](step& step, const boost::json::value& in)
           -> task<model::result<boost::json::value>> {
    const std::string key{in.at("key").as_string()};
    co_await step.run("prepare", [&] { ++n->prepared; });
    auto decided = co_await step.try_approval(key, options);
    if (decided.is_ok()) {
      co_await step.run("on-approved",
                        [&] { n->count_branch(n->approved, step.run_id()); });
      co_return boost::json::value{{"branch", "approved"},
                                   {"value", decided.value()}};
    }
    const auto& e = decided.error();
    std::atomic<int>* branch = nullptr;
    if (e.is(model::error_type::approval_rejected))
      branch = &n->rejected;
    else if (e.is(model::error_type::approval_expired))
      branch = &n->expired;
    else if (e.is(model::error_type::approval_cancelled))
      branch = &n->cancelled;
    else
      co_return e;
    co_await step.run("on-" + e.type,
                      [&] { n->count_branch(*branch, step.run_id()); });
    co_return boost::json::value{{"branch", e.type}, {"message", e.message}};
  };
}

/// The branch `branching_workflow` takes on an approval that ended in
/// `state`: "approved" or the error type the step returned.
inline std::string_view expected_branch(model::approval_state state) {
  switch (state) {
    case model::approval_state::approved:
    case model::approval_state::edited:
      return "approved";
    case model::approval_state::rejected:
      return model::error_type::approval_rejected;
    case model::approval_state::expired:
      return model::error_type::approval_expired;
    case model::approval_state::cancelled:
      return model::error_type::approval_cancelled;
    case model::approval_state::pending:
      break;
  }
  return "none";
}

/// Orchestrator options over the LMDB stores, with their commit group.
inline orchestrator_options
lmdb_orchestrator_options(const persistence::lmdb_stores& stores) {
  orchestrator_options options;
  options.use_lmdb_stores(stores);
  return options;
}

/// Where a test's orchestrator keeps its state.
enum class store_kind { memory, lmdb };

inline std::ostream& operator<<(std::ostream& os, store_kind kind) {
  return os << (kind == store_kind::memory ? "memory" : "lmdb");
}

/// Fresh stores and outbox of one kind for one test case: in memory, or
/// LMDB in a new temporary directory. LMDB runs without fsync, which
/// survives a process crash: these cases are about orderings, not power
/// cuts.
class test_stores {
public:
  explicit test_stores(store_kind kind) {
    if (kind == store_kind::memory) {
      options_.approval_store = persistence::make_memory_approval_store();
      options_.workflow_state_store
        = persistence::make_memory_workflow_state_store();
      options_.outbox = persistence::make_memory_outbox();
      return;
    }
    auto opened = persistence::open_lmdb_stores(
      {.path = dir_.emplace().str(),
       .durability = persistence::lmdb_durability::no_sync});
    if (opened.is_err())
      throw std::runtime_error(opened.error().message);
    options_.use_lmdb_stores(opened.value(), true);
  }

  /// Options for an orchestrator over these stores.
  [[nodiscard]] const orchestrator_options& options() const noexcept {
    return options_;
  }

private:
  std::optional<temp_dir> dir_;
  orchestrator_options options_;
};

/// Runs `body(i)` on `n` threads released together. The last thread to
/// arrive tends to go first, so callers rotate roles over the threads.
template <class Body>
void all_at_once(int n, Body body) {
  std::barrier start{n};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      body(i);
    });
  for (auto& t : threads)
    t.join();
}

/// Sends one typed request to `orch`'s actor from a scoped actor and waits
/// for the reply, as a server that is an actor itself would talk to it.
template <class Reply, class... Ts>
model::result<Reply> ask_actor(orchestrator& orch, Ts&&... xs) {
  caf::scoped_actor self{orch.system()};
  model::result<Reply> out;
  self->request(orch.handle(), caf::infinite, std::forward<Ts>(xs)...)
    .receive([&out](model::result<Reply>& reply) { out = std::move(reply); },
             [&out, &orch](caf::error& e) {
               out = model::make_error(model::error_type::unexpected_error,
                                       orch.system().render(e));
             });
  return out;
}

} // namespace signoff::test
