// A process the durability tests start, stop and kill. It runs the order
// workflow on an LMDB directory and appends every side effect and every
// acknowledgement it received to DIR/effects.log, in the order they
// happened, so the parent can check what ran after what.
//
//   durability_child pause DIR N   start N orders; each pauses; exit
//   durability_child grant DIR N   grant the N orders; each completes
//   durability_child work  DIR N   drive the N orders to completion from
//                                  whatever state the directory is in
//   durability_child pause-expiring DIR N CLOCK
//                                  start N orders that wait on approvals
//                                  expiring an hour after CLOCK; exit
//   durability_child expire DIR N CLOCK
//                                  expire what is due at CLOCK and wait
//                                  until no order waits or runs any more
//
// CLOCK is the orchestrator's time, in milliseconds since the epoch; it
// stands still.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "signoff/persistence/lmdb_store.hpp"
#include "signoff/signoff.hpp"
#include "support/effects_log.hpp"

namespace {

using boost::json::value;
using signoff::model::result;

constexpr int threads = 4;

using signoff::test::effects_log;

std::string order_id(int i) {
  return "o" + std::to_string(i);
}

std::string run_id(int i) {
  return "run-" + order_id(i);
}

std::string key(int i) {
  return "approval:" + order_id(i);
}

signoff::workflow order_workflow(effects_log& log) {
  return [&log](signoff::step& step,
                const value& in) -> signoff::task<result<value>> {
    const std::string id{in.at("orderId").as_string()};
    co_await step.run("create", [&] {
      log.line("create", id);
      return value{{"orderId", id}};
    });
    auto approval = co_await step.approval("approval:" + id);
    co_await step.run("fulfil", [&] {
      log.line("fulfil", id);
      return true;
    });
    co_return value{{"orderId", id}, {"approvedBy", approval.at("by")}};
  };
}

/// Prepares the order, waits for its approval and runs the step of the
/// branch the approval takes: expiry logs "expired".
signoff::workflow expiring_workflow(effects_log& log) {
  return [&log](signoff::step& step,
                const value& in) -> signoff::task<result<value>> {
    const std::string id{in.at("orderId").as_string()};
    co_await step.run("prepare", [&] { log.line("prepare", id); });
    auto decided = co_await step.try_approval(
      "approval:" + id,
      signoff::model::approval_options{}.expiring_in(std::chrono::hours{1}));
    const std::string branch
      = decided.is_ok() ? "approved" : decided.error().type;
    co_await step.run("on-" + branch, [&] {
      log.line(branch == signoff::model::error_type::approval_expired
                 ? "expired"
                 : "other",
               id);
    });
    co_return value{{"orderId", id}, {"branch", branch}};
  };
}

/// The runs of `workflow` still paused or running; nullopt if the store
/// cannot say.
std::optional<std::vector<std::string>>
unfinished(const signoff::persistence::workflow_state_store& runs,
           const std::string& workflow) {
  using signoff::model::run_status;
  std::vector<std::string> left;
  for (auto status : {run_status::paused, run_status::running}) {
    signoff::persistence::run_filter filter;
    filter.workflow_name = workflow;
    filter.status = status;
    auto ids = runs.list(filter);
    if (ids.is_err())
      return std::nullopt;
    left.insert(left.end(), ids->begin(), ids->end());
  }
  return left;
}

/// The engine's last log lines, kept for a child that fails to say.
class recent_lines {
public:
  void add(std::string_view line) {
    std::lock_guard lock{mutex_};
    if (lines_.size() == kept)
      lines_.erase(lines_.begin());
    lines_.emplace_back(line);
    ++total_;
  }
  void print() const {
    std::lock_guard lock{mutex_};
    std::fprintf(stderr, "engine log: %zu lines, the last %zu:\n", total_,
                 lines_.size());
    for (const auto& line : lines_)
      std::fprintf(stderr, "  %s\n", line.c_str());
  }

private:
  static constexpr std::size_t kept = 40;
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
  std::size_t total_ = 0;
};

/// True once no run of `workflow` is paused or running, checked every 20
/// ms for at most two minutes; on giving up, says on stderr which runs are
/// left, what their approvals say and how many wakes are owed, for the
/// test's log.
bool all_finished(const signoff::persistence::lmdb_stores& stores,
                  const std::string& workflow) {
  const auto deadline
    = std::chrono::steady_clock::now() + std::chrono::minutes{2};
  for (;;) {
    auto left = unfinished(*stores.runs, workflow);
    if (left && left->empty())
      return true;
    if (std::chrono::steady_clock::now() >= deadline) {
      for (const auto& id : left.value_or(std::vector<std::string>{})) {
        auto run = stores.runs->load(id);
        auto approval = stores.approvals->find_approval(
          "approval:" + id.substr(std::string_view{"run-"}.size()));
        std::fprintf(
          stderr, "left waiting: %s run %s, approval %s\n", id.c_str(),
          run.is_ok() && *run ? std::string{to_string((*run)->status)}.c_str()
                              : "unreadable",
          approval.is_ok() && *approval
            ? std::string{to_string((*approval)->status.state)}.c_str()
            : "missing");
      }
      auto owed = stores.approvals->owed_wakes(100'000, {});
      std::fprintf(stderr, "wakes owed: %s\n",
                   owed.is_ok() ? std::to_string(owed->size()).c_str()
                                : owed.error().message.c_str());
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
}

template <class Body>
bool for_all_orders(int n, Body body) {
  std::atomic<bool> ok{true};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (int i = t; i < n; i += threads)
        if (!body(i))
          ok = false;
    });
  for (auto& w : workers)
    w.join();
  return ok;
}

bool is(const result<signoff::model::saved_workflow_state>& s,
        signoff::model::run_status status) {
  return s.is_ok() && s->status == status;
}

/// Drives order `i` one step further from its stored state; false on an
/// unexpected answer.
bool drive(signoff::orchestrator& orch, effects_log& log, int i) {
  using signoff::model::run_status;
  for (;;) {
    auto status = orch.get_workflow_status(run_id(i));
    if (status.is_err()) {
      auto run = orch.execute("order", value{{"orderId", order_id(i)}},
                              {.run_id = run_id(i)});
      if (run.is_err())
        return false;
      if (run->status == run_status::paused)
        log.line("ack-paused", order_id(i));
      continue;
    }
    switch (status->status) {
      case run_status::completed:
        log.line("ack-completed", order_id(i));
        return status->outcome->value().at("approvedBy").as_string() == "boss";
      case run_status::paused: {
        auto granted = orch.grant_approval(key(i), value{{"by", "boss"}},
                                           {.approved_by = "boss"});
        if (granted.is_err())
          return false;
        log.line("ack-granted", order_id(i));
        break;
      }
      case run_status::running:
        // Recovery after a crash: resuming waits for it.
        if (orch.resume(run_id(i)).is_err())
          return false;
        break;
      default:
        return false;
    }
  }
}

} // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const bool expiring = mode == "pause-expiring" || mode == "expire";
  if (argc != (expiring ? 5 : 4)) {
    std::fprintf(stderr,
                 "usage: %s pause|grant|work DIR N\n"
                 "       %s pause-expiring|expire DIR N CLOCK\n",
                 argv[0], argv[0]);
    return 2;
  }
  const std::string dir = argv[2];
  const int n = std::atoi(argv[3]);
  effects_log log{dir + "/effects.log"};
  auto stores = signoff::persistence::open_lmdb_stores({.path = dir + "/db"});
  if (stores.is_err()) {
    std::fprintf(stderr, "%s\n", stores.error().message.c_str());
    return 2;
  }
  signoff::orchestrator_options options;
  // The expiry modes keep their notifications, which the test counts.
  options.use_lmdb_stores(*stores, expiring);
  recent_lines engine_log;
  if (expiring) {
    options.logger = [&engine_log](std::string_view line) {
      engine_log.add(line);
    };
    const auto now = signoff::model::from_millis(std::atoll(argv[4]));
    options.clock = [now] {
      return now;
    };
  }
  signoff::orchestrator orch{std::move(options)};
  orch.register_workflow("order", order_workflow(log));
  orch.register_workflow("expiring", expiring_workflow(log));

  bool ok = false;
  if (mode == "pause") {
    ok = for_all_orders(n, [&](int i) {
      auto run = orch.execute("order", value{{"orderId", order_id(i)}},
                              {.run_id = run_id(i)});
      if (run.is_err() || run->status != signoff::model::run_status::paused)
        return false;
      log.line("ack-paused", order_id(i));
      return true;
    });
  } else if (mode == "grant") {
    ok = for_all_orders(n, [&](int i) {
      auto granted = orch.grant_approval(key(i), value{{"by", "boss"}},
                                         {.approved_by = "boss"});
      if (granted.is_err() || granted->resumed_workflows.size() != 1)
        return false;
      log.line("ack-granted", order_id(i));
      return is(orch.get_workflow_status(run_id(i)),
                signoff::model::run_status::completed);
    });
  } else if (mode == "work") {
    ok = for_all_orders(n, [&](int i) { return drive(orch, log, i); });
  } else if (mode == "pause-expiring") {
    ok = for_all_orders(n, [&](int i) {
      auto run = orch.execute("expiring", value{{"orderId", order_id(i)}},
                              {.run_id = run_id(i)});
      return run.is_ok() && run->status == signoff::model::run_status::paused;
    });
  } else if (mode == "expire") {
    ok = all_finished(*stores, "expiring");
    if (!ok)
      engine_log.print();
  }
  std::printf("%s\n", ok ? "done" : "failed");
  return ok ? 0 : 1;
}
