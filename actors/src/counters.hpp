#pragma once

// What an orchestrator counts for its metrics: relaxed atomics its actors
// bump as things happen, and that `engine::metrics` reads from any thread
// without crossing a mailbox. Counts need no order among themselves: a
// reader may see one figure a moment ahead of another.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "signoff/metrics.hpp"
#include "signoff/model/workflow_state.hpp"

namespace signoff::actors::detail {

/// Observations counted in fixed buckets. Each bucket counts only its own
/// range; `read` makes them cumulative, and its count is their total, so a
/// reader always sees the +Inf bucket equal to the count.
class histogram {
public:
  /// `bounds`: upper bounds, ascending.
  explicit histogram(std::vector<double> bounds);

  void observe(double value) noexcept;

  [[nodiscard]] histogram_counts read() const;

private:
  std::vector<double> bounds_;
  /// One per bound, then the +Inf bucket.
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
};

/// Decisions by kind and outcome. The outcomes are few but not fixed (a
/// store may refuse with an error type of its own), so each combination
/// gets its counter the first time it occurs: appended under a mutex to a
/// list that counting and reading walk without it.
class decision_counters {
public:
  decision_counters() = default;
  decision_counters(const decision_counters&) = delete;
  decision_counters& operator=(const decision_counters&) = delete;
  ~decision_counters();

  /// Counts one decision of `kind`: refused with the error type
  /// `refused_with`, or (when empty) taken, changing the approval or not.
  void count(model::decision_kind kind, bool applied,
             std::string_view refused_with);

  /// Every combination counted so far, in no particular order.
  [[nodiscard]] std::vector<decision_count> read() const;

private:
  struct node {
    decision_count key;
    /// Bumped through the const walk: only the key is fixed.
    mutable std::atomic<std::uint64_t> count{0};
    const node* next = nullptr;
  };

  [[nodiscard]] static const node* find(const node* from,
                                        model::decision_kind kind, bool applied,
                                        std::string_view refused_with) noexcept;

  std::atomic<node*> head_{nullptr};
  std::mutex adding_;
};

/// Everything an orchestrator counts. Shared by its engine and its store
/// writer (which may quit after the engine is gone).
struct orchestrator_counters {
  explicit orchestrator_counters(model::time_point started);

  /// Counts a run that ended (completed, failed or cancelled).
  void run_ended(model::run_status status) noexcept;

  const model::time_point started_at;

  /// Gauges the orchestrator's directory sets as its runs come and go:
  /// run actors in memory, and those of them parked (paused, waiting for
  /// a wake) or on their way out to passivation.
  std::atomic<std::uint64_t> resident_runs{0};
  std::atomic<std::uint64_t> parked_runs{0};

  std::atomic<std::uint64_t> runs_completed{0};
  std::atomic<std::uint64_t> runs_failed{0};
  std::atomic<std::uint64_t> runs_cancelled{0};

  decision_counters decisions;

  std::atomic<std::uint64_t> wakes_resumed{0};
  std::atomic<std::uint64_t> wakes_stale{0};
  std::atomic<std::uint64_t> wakes_failed{0};

  /// The store writer's group commits: seconds each took, batches each
  /// held.
  histogram commit_seconds;
  histogram commit_batches;
};

/// Adds one to `counter`; nothing else is ordered by it.
inline void bump(std::atomic<std::uint64_t>& counter) noexcept {
  counter.fetch_add(1, std::memory_order_relaxed);
}

} // namespace signoff::actors::detail
