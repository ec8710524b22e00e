#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "signoff/model/result.hpp"
#include "signoff/model/time.hpp"
#include "signoff/model/workflow_state.hpp"
#include "signoff/persistence/changes.hpp"

namespace signoff::persistence {

/// Which runs `list` returns; unset fields match everything.
struct run_filter {
  /// Only runs of this workflow.
  std::optional<std::string> workflow_name{};
  /// Only runs in this status.
  std::optional<model::run_status> status{};
  /// Only runs that wait on at least one approval (`true`) or none (`false`).
  std::optional<bool> has_pending_approvals{};
};

/// Where runs live between executions: the reference's WorkflowStateStore.
///
/// Thread safety: every implementation must allow concurrent calls from
/// any thread. Errors: `STORAGE_ERROR` when the medium fails.
class workflow_state_store {
public:
  virtual ~workflow_state_store() = default;

  /// Writes a run's progress atomically: its header, the new checkpoints
  /// (appended to those written before), its input and metadata when it is
  /// new, and its index entries moved from `change.before`. Errors:
  /// `INVALID_ARGUMENT` for an id or name the store cannot hold, or a new
  /// run whose id exists.
  virtual model::result<void> apply(run_change change) = 0;

  /// Inserts or replaces the run `state.run_id` whole, keeping every index
  /// in step. Errors: `INVALID_ARGUMENT` for an empty run id.
  virtual model::result<void> save(const model::saved_workflow_state& state)
    = 0;

  /// The run `run_id`, or nothing.
  virtual model::result<std::optional<model::saved_workflow_state>>
  load(const std::string& run_id) const = 0;

  /// Deletes a run; false if it did not exist.
  virtual model::result<bool> remove(const std::string& run_id) = 0;

  /// Run ids matching `filter`, in id order.
  virtual model::result<std::vector<std::string>>
  list(const run_filter& filter) const = 0;

  /// Runs paused on the approval `key` (an index lookup, never a scan).
  virtual model::result<std::vector<std::string>>
  find_by_pending_approval(const std::string& key) const = 0;

  /// Finished runs last updated before `cutoff`, oldest first, at most
  /// `limit`.
  virtual model::result<std::vector<std::string>>
  finished_before(model::time_point cutoff, std::size_t limit) const = 0;

  /// How many runs are paused. For metrics, read on every scrape, so it
  /// must not grow with the number of runs (an index's entry count, a
  /// counter kept with the index). The default answers nothing (unknown),
  /// and the metric is left out: right for a store that could only count
  /// by scanning.
  [[nodiscard]] virtual model::result<std::optional<std::uint64_t>>
  count_paused() const {
    return std::optional<std::uint64_t>{};
  }
};

} // namespace signoff::persistence
