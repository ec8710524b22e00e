#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "signoff/model/result.hpp"
#include "signoff/persistence/approval_store.hpp"
#include "signoff/persistence/journal.hpp"
#include "signoff/persistence/outbox.hpp"
#include "signoff/persistence/workflow_state_store.hpp"

namespace signoff::persistence {

/// When an LMDB commit counts as done.
enum class lmdb_durability {
  /// fsync on every commit: an acknowledged write survives a crash and a
  /// power cut. The default.
  sync,
  /// fsync data but not the meta page: the last commit may be lost on a
  /// power cut (not on a process crash).
  no_meta_sync,
  /// No fsync: survives a process crash, not an OS crash. For tests and
  /// benchmarks of the floor.
  no_sync,
};

/// How `open_lmdb_stores` opens its directory.
struct lmdb_options {
  /// The directory holding `data.mdb` and `lock.mdb`; created if missing.
  std::string path{};
  /// Initial map size: 1 GiB. The map grows by doubling when full.
  std::size_t map_size = std::size_t{1} << 30U;
  /// The map never grows past this: 256 GiB. Past it, writes fail with
  /// STORAGE_ERROR and nothing acknowledged is lost.
  std::size_t max_map_size = std::size_t{256} << 30U;
  lmdb_durability durability = lmdb_durability::sync;
  /// Concurrent read transactions allowed (LMDB's reader table).
  unsigned max_readers = 256;
};

/// Both stores and the notification outbox over one LMDB environment, and
/// the journal through which the orchestrator's writes share commits.
struct lmdb_stores {
  std::shared_ptr<approval_store> approvals;
  std::shared_ptr<workflow_state_store> runs;
  std::shared_ptr<persistence::journal> journal;
  /// Notifications owed, written in the same commits as the changes.
  std::shared_ptr<outbox> notifications;
};

/// Opens (creating if needed) the stores in `options.path`. Errors:
/// STORAGE_ERROR when the directory cannot be opened, is read-only, or was
/// written by a newer format of signoff.
[[nodiscard]] model::result<lmdb_stores>
open_lmdb_stores(const lmdb_options& options);

} // namespace signoff::persistence
