#pragma once

// The changes the engine's owners make: an approval's registry shard
// changes approvals, a run's actor changes its run. Each change is computed
// by its owner from what it holds and written atomically as a whole, either
// at once (`approval_store::apply`, `workflow_state_store::apply`) or
// encoded for a writer that commits many together (`journal`).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "signoff/model/approval.hpp"
#include "signoff/model/audit_entry.hpp"
#include "signoff/model/workflow_state.hpp"

namespace signoff::persistence {

/// Which revision of an approval a change was computed from, and how that
/// revision is indexed, so a store can check the one and move the other
/// without reading the record back.
struct approval_index {
  std::uint64_t revision = 0;
  bool pending = false;
  /// When the registry must next act on it (`approval_record::next_due`).
  std::optional<model::time_point> next_due{};

  /// The index fields of `record`.
  [[nodiscard]] static approval_index of(const model::approval_record& record);
};

/// A change to one approval, computed from the record its owner read.
struct approval_change {
  /// The record the change was computed from; none for a new approval. A
  /// store that holds another revision refuses the change with
  /// STALE_WRITE, and the owner reads again.
  std::optional<approval_index> before{};
  /// The record after the change.
  model::approval_record after{};
  /// Audit entries to append, numbered after `before`'s revision.
  std::vector<model::audit_entry> audit{};
  /// Notifications (`model::event_json`) kept in the outbox in the same
  /// commit, in order, by stores that hold an outbox; others ignore them.
  std::vector<boost::json::value> events{};
  /// Records, in the same commit, that the runs waiting on the key are
  /// owed a wake (see `approval_store::owed_wakes`).
  bool owe_wake = false;
};

/// What a stored run is indexed by, so an owner can move a run's index
/// entries without reading it back.
struct run_index {
  model::run_status status = model::run_status::running;
  std::vector<std::string> pending_approvals{};
  model::time_point updated_at{};

  /// The index fields of `run`.
  [[nodiscard]] static run_index of(const model::saved_workflow_state& run);
};

/// A run's progress since its owner last wrote it.
struct run_change {
  /// The run as it stands, except that `checkpoints` holds only the steps
  /// completed since the last write, and that `input` and `metadata` are
  /// written only when `created`.
  model::saved_workflow_state run{};
  /// True for the first write of the run: it must not exist yet.
  bool created = false;
  /// Checkpoints written before; the new ones are numbered after them.
  std::uint32_t checkpoints_before = 0;
  /// How the stored run is indexed now (ignored when `created`).
  run_index before{};
};

} // namespace signoff::persistence
