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
///
/// One directory may be open in several processes at once, but only one of
/// them runs workflows (it holds the execution lock); the others, like the
/// `signoff` CLI, read and decide through the stores alone. Opening a
/// directory that this process already has open shares its environment
/// (LMDB allows one environment per directory and process): `durability`
/// must then match, and the sizes are those of the first open.
struct lmdb_options {
  /// The directory holding `data.mdb`, `lock.mdb` and `signoff.lock`;
  /// created if missing.
  std::string path{};
  /// Initial map size: 1 GiB. The map grows by doubling when full.
  std::size_t map_size = std::size_t{1} << 30U;
  /// The map never grows past this: 256 GiB. Past it, writes fail with
  /// STORAGE_ERROR and nothing acknowledged is lost.
  std::size_t max_map_size = std::size_t{256} << 30U;
  lmdb_durability durability = lmdb_durability::sync;
  /// Concurrent read transactions allowed (LMDB's reader table, shared by
  /// every process on the directory). Each process keeps one slot per read
  /// that ran at once (reset between reads, so it pins no pages) instead of
  /// claiming a slot for every read.
  unsigned max_readers = 256;
  /// Takes the directory's execution lock (default: taken): an exclusive
  /// `flock` on `signoff.lock` in the directory, which records the
  /// holder's pid and is released by the kernel when the holder exits or
  /// crashes. A process that runs workflows must hold it, so that no run
  /// resumes in two processes. Open with `false` for store-only access
  /// beside the process that executes (reading, deciding, cleaning up; the
  /// `signoff` CLI does). Once taken, the lock is held until every handle
  /// of the directory in this process is closed.
  bool execution_lock = true;
  /// Upgrades a directory written in an older format in place (default:
  /// no, such a directory is refused with a message saying so). The steps
  /// from its format to this build's run in one write transaction at open:
  /// all of them commit or none. One way: older builds refuse the upgraded
  /// directory as newer, so back it up first.
  bool migrate = false;
};

/// Both stores and the notification outbox over one LMDB environment, and
/// the journal through which the orchestrator's writes share commits.
/// Their lookups refuse a key, run id or workflow name longer than
/// `limits.hpp` allows with INVALID_ARGUMENT (the indexes built from them
/// are checked against LMDB's key size at open).
struct lmdb_stores {
  std::shared_ptr<approval_store> approvals;
  std::shared_ptr<workflow_state_store> runs;
  std::shared_ptr<persistence::journal> journal;
  /// Notifications owed, written in the same commits as the changes.
  std::shared_ptr<outbox> notifications;
};

/// Opens (creating if needed) the stores in `options.path`. Thread-safe.
/// Errors:
/// - INVALID_ARGUMENT: an empty path, or the directory is already open in
///   this process with another `durability`;
/// - STORAGE_ERROR: the directory cannot be opened or is read-only; another
///   process holds its execution lock (the message names its pid) and
///   `execution_lock` is set; it was written by a newer signoff; it was
///   written in an older format and `migrate` is not set, or a migration
///   step failed (nothing was changed).
[[nodiscard]] model::result<lmdb_stores>
open_lmdb_stores(const lmdb_options& options);

} // namespace signoff::persistence
