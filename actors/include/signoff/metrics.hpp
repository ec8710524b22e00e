#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "signoff/model/approval.hpp"
#include "signoff/model/time.hpp"

namespace signoff {

/// A histogram as Prometheus reports one: cumulative counts per upper bound.
struct histogram_counts {
  /// Upper bounds of the buckets, ascending; the last bucket, +Inf, is
  /// implied (its count is `count`).
  std::vector<double> bounds{};
  /// `cumulative[i]` counts the observations at or below `bounds[i]`, so
  /// it never decreases and never exceeds `count`.
  std::vector<std::uint64_t> cumulative{};
  /// Every observation.
  std::uint64_t count = 0;
  /// The sum of the observed values.
  double sum = 0;
};

/// How many decisions of one kind ended one way since the orchestrator
/// started.
struct decision_count {
  model::decision_kind kind = model::decision_kind::grant;
  /// Empty for a decision that was taken; else the error type it was
  /// refused with (APPROVAL_CONFLICT, NOT_FOUND, INVALID_ARGUMENT,
  /// STORAGE_ERROR, ...).
  std::string refused_with{};
  /// For a decision taken: true if it changed the approval, false if it
  /// repeated the winner's own decision (a no-op).
  bool applied = false;
  std::uint64_t count = 0;
};

/// What an orchestrator has done since it started and what it holds now:
/// the figures of `GET /metrics` (docs/metrics.md names each one). Counts
/// are of this orchestrator ("since start") unless they say they come from
/// the store, which counts what every process sharing it did.
struct orchestrator_metrics {
  /// When the orchestrator started, by its clock.
  model::time_point started_at{};
  /// Approvals pending in the store (its pending index: those past their
  /// deadline that the expiry timer has not expired yet count too).
  /// Unknown when the store cannot count them cheaply or failed to.
  std::optional<std::uint64_t> pending_approvals{};
  /// Run actors in memory now, parked or working.
  std::uint64_t resident_runs = 0;
  /// Runs paused in the store. Unknown as `pending_approvals`.
  std::optional<std::uint64_t> paused_runs{};
  /// Paused runs not in memory (passivated, or from before a restart):
  /// `paused_runs` less the runs parked in memory. The two are not read
  /// at one instant, so it may be off by the runs pausing or waking
  /// meanwhile; never below zero. Unknown when `paused_runs` is.
  std::optional<std::uint64_t> passivated_runs{};
  /// Runs this orchestrator ended, by how they ended.
  std::uint64_t runs_completed = 0;
  std::uint64_t runs_failed = 0;
  std::uint64_t runs_cancelled = 0;
  /// Decisions the registry shards answered (from every caller, the
  /// expiry timer's expiries and `cancel_run`'s cancellations too), one
  /// entry per kind and outcome that occurred. A decision retried after
  /// STALE_WRITE counts once, as it finally ended.
  std::vector<decision_count> decisions{};
  /// Wakes of runs waiting on a decided key, by how the run took them:
  /// resumed (it went on with the decision), stale (it no longer waited
  /// on that key), failed (it could not be woken: its workflow is not
  /// registered, the store failed; the key stays owed a wake).
  std::uint64_t wakes_resumed = 0;
  std::uint64_t wakes_stale = 0;
  std::uint64_t wakes_failed = 0;
  /// How long the journal's group commits took, in seconds (wall time
  /// around the durable commit), and how many write batches (one owner's
  /// change each) each held. Unset without a journal (stores that apply
  /// each change at once, such as the memory stores).
  std::optional<histogram_counts> commit_seconds{};
  std::optional<histogram_counts> commit_batches{};
  /// Notifications in the outbox not delivered yet. Unknown without an
  /// outbox, or when it cannot count them cheaply or failed to.
  std::optional<std::uint64_t> outbox_backlog{};
};

} // namespace signoff
