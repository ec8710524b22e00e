#pragma once

// One LMDB environment shared by both LMDB stores: one per directory and
// process, the directory's execution lock, its format and migrations,
// transactions (pooled read transactions), the calling thread's
// group-commit batch, growth of the map (ours or another process's), and the
// small byte-level helpers the stores are written with.

#include <array>
#include <atomic>
#include <compare>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>

#include <pthread.h>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <lmdb.h>

#include "signoff/model/json_text.hpp"
#include "signoff/model/result.hpp"
#include "signoff/persistence/lmdb_store.hpp"

namespace signoff::persistence::detail {

/// The databases a directory of an older format kept records in, opened
/// only to migrate it (format 4 holds them in `lmdb_dbs::records`).
struct lmdb_legacy_dbs {
  /// approval key -> revision (8 bytes, format 2) + approval record (JSON).
  MDB_dbi approvals = 0;
  /// key + sequence (8 bytes) -> audit entry (JSON).
  MDB_dbi audit = 0;
  /// Format 1 only: key -> number of audit entries (8 bytes).
  MDB_dbi audit_length = 0;
  /// run id -> the run (format 1) or its header (formats 2 and 3).
  MDB_dbi runs = 0;
  /// run id -> the run's input and metadata (formats 2 and 3).
  MDB_dbi run_inputs = 0;
  /// run id length (1 byte) + run id + number (4 bytes) -> one checkpoint.
  MDB_dbi checkpoints = 0;
};

/// The databases of one environment.
struct lmdb_dbs {
  MDB_dbi meta = 0;
  /// Every record of an approval and of a run, each entity's side by side
  /// under its own key prefix (see lmdb_records.hpp): an approval with its
  /// audit trail, a run's header with its input and checkpoint log. A
  /// commit then touches one page for an entity where it touched one per
  /// database (format 4).
  MDB_dbi records = 0;
  /// pending approval key -> deadline (8 bytes, big-endian ms) or empty.
  MDB_dbi pending = 0;
  /// deadline (8 bytes) + key -> nothing: the next expiry is the first key.
  MDB_dbi deadlines = 0;
  /// approval key -> run ids paused on it (MDB_DUPSORT).
  MDB_dbi runs_by_pending = 0;
  /// workflow name -> run ids that are paused (MDB_DUPSORT).
  MDB_dbi paused_by_name = 0;
  /// run id -> nothing, for runs in status running (crash recovery).
  MDB_dbi running = 0;
  /// updated_at (8 bytes) + run id -> nothing, for finished runs.
  MDB_dbi finished = 0;
  /// id (8 bytes) -> notification owed (JSON).
  MDB_dbi outbox = 0;
  /// approval key -> nothing: resolved, its waiting runs maybe not woken.
  MDB_dbi wakes = 0;
  /// decided_at (8 bytes) + key -> nothing, for approvals no longer
  /// pending: the most recently decided are the last keys (format 3).
  MDB_dbi decided = 0;
};

/// An LMDB call failed inside a write; unwinds to the transaction owner,
/// which aborts (and grows the map on MDB_MAP_FULL).
struct lmdb_failure {
  int code;
};

/// The error for a failed LMDB call, with `mdb_strerror`'s text.
[[nodiscard]] model::error lmdb_error(int code, std::string_view what);

/// A reader-writer lock that lets a waiting writer in before new readers
/// (glibc's default favours readers, which starves map growth under
/// steady reads). Meets SharedMutex for std::shared_lock / unique_lock.
class writer_first_lock {
public:
  writer_first_lock();
  ~writer_first_lock();
  writer_first_lock(const writer_first_lock&) = delete;
  writer_first_lock& operator=(const writer_first_lock&) = delete;

  void lock();
  void unlock();
  void lock_shared();
  void unlock_shared();

private:
  pthread_rwlock_t lock_;
};

/// A directory, whatever path names it.
struct directory_id {
  dev_t device = 0;
  ino_t inode = 0;
  auto operator<=>(const directory_id&) const = default;
};

/// The environment of one directory. Thread-safe.
class lmdb_env {
public:
  /// The environment of `options.path`: the one this process already has
  /// open for that directory (found by device and inode, whatever path
  /// named it), or a new one. Takes the execution lock when
  /// `options.execution_lock` is set. Errors: those of `open_lmdb_stores`.
  static model::result<std::shared_ptr<lmdb_env>>
  open(const lmdb_options& options);

  ~lmdb_env();
  lmdb_env(const lmdb_env&) = delete;
  lmdb_env& operator=(const lmdb_env&) = delete;

  [[nodiscard]] const lmdb_dbs& db() const noexcept {
    return dbs_;
  }

  /// The environment, for transactions nested in one `write` runs.
  [[nodiscard]] MDB_env* handle() const noexcept {
    return env_;
  }

  /// Runs `fn` in a read transaction. The read transaction comes from a pool
  /// and goes back to it reset: reads claim no new reader slot (the pool keeps
  /// one per read that ran at once) and pin no pages once done. Errors: what
  /// `fn` returns, or STORAGE_ERROR when LMDB fails (the reader table is full,
  /// a map another process grew cannot be mapped, a failure `fn` throws).
  template <class T, class Fn>
  model::result<T> read(const Fn& fn) const {
    std::shared_lock guard{resize_};
    MDB_txn* raw = nullptr;
    if (int rc = take_reader(guard, &raw); rc != MDB_SUCCESS)
      return lmdb_error(rc, "starting a read transaction");
    const pooled_reader txn{raw, reader_return{this}};
    try {
      return model::result<T>{fn(txn.get())};
    } catch (const lmdb_failure& failure) {
      return lmdb_error(failure.code, "reading");
    }
  }

  /// Runs `fn` in a write transaction of its own that is committed
  /// (durably) when `fn` returns ok and aborted when it returns an error. `fn`
  /// must check before it writes: an error it returns must leave nothing
  /// written.
  template <class T, class Fn>
  model::result<T> write(const Fn& fn) {
    // Empty until `fn` ran (no placeholder error is built for every write);
    // `transact` answers ok only after running the body below.
    std::optional<model::result<T>> out;
    auto committed = transact([&](MDB_txn* txn) {
      out.emplace(fn(txn));
      return out->is_ok();
    });
    if (committed.is_err())
      return committed.error();
    return std::move(*out);
  }

  [[nodiscard]] std::uint64_t commits() const noexcept {
    return commits_.load();
  }

private:
  /// Puts a read transaction back into the pool when it goes away.
  struct reader_return {
    const lmdb_env* env;
    void operator()(MDB_txn* txn) const noexcept {
      env->put_back_reader(txn);
    }
  };
  using pooled_reader = std::unique_ptr<MDB_txn, reader_return>;

  lmdb_env() = default;

  /// Opens the LMDB environment of a new lmdb_env and prepares its
  /// databases; `open` does the rest.
  model::result<void> start(const lmdb_options& options);

  /// Closes `env` and forgets it, under the registry's lock so that no
  /// open of its directory overlaps the close: the deleter of every
  /// shared lmdb_env.
  static void close(lmdb_env* env) noexcept;

  /// Takes the execution lock of the directory unless this environment
  /// already holds it. Errors: STORAGE_ERROR naming the holder.
  model::result<void> take_execution_lock();

  /// Opens every database and checks (or writes, or migrates to) the
  /// format, in the first write transaction.
  model::result<void> prepare(bool migrate);

  /// A renewed read transaction from the pool (or a new one) in `txn`, with
  /// `guard` held; an LMDB code.
  int take_reader(std::shared_lock<writer_first_lock>& guard,
                  MDB_txn** txn) const;
  /// Resets `txn` and keeps it for the next read.
  void put_back_reader(MDB_txn* txn) const noexcept;

  /// Begins a write transaction in `txn`, with `guard` held; an LMDB code.
  int begin_write(std::shared_lock<writer_first_lock>& guard, MDB_txn** txn);

  /// Maps the size another process grew the map to. LMDB allows that only
  /// while no transaction of this process is active, so it waits for the
  /// exclusive side of the resize lock: `guard` is released meanwhile and
  /// held again on return. An LMDB code.
  int adopt_grown_map(std::shared_lock<writer_first_lock>& guard) const;

  /// Runs `body` in a write transaction, retrying after growing a full map;
  /// commits if `body` returns true, aborts otherwise.
  model::result<void> transact(const std::function<bool(MDB_txn*)>& body);

  /// Doubles the map (up to the maximum); false if it cannot grow.
  model::result<void> grow();

  MDB_env* env_ = nullptr;
  lmdb_dbs dbs_;
  std::size_t max_map_size_ = 0;
  std::string path_;
  directory_id id_;
  lmdb_durability durability_ = lmdb_durability::sync;
  /// The locked `signoff.lock`, or -1 while the execution lock is not held.
  int execution_lock_ = -1;
  /// Held shared by every transaction, exclusively to resize the map (LMDB
  /// allows that only while this process has no transaction open).
  mutable writer_first_lock resize_;
  /// Reset read transactions, each keeping its reader slot.
  mutable std::mutex readers_mutex_;
  mutable std::vector<MDB_txn*> idle_readers_;
  std::atomic<std::uint64_t> commits_{0};
};

/// INVALID_ARGUMENT when `key`, `what` ("an approval key"), is longer than
/// `max` bytes: no store holds such a key, so a lookup refuses it rather
/// than report it missing.
[[nodiscard]] model::result<void>
check_key_length(std::string_view what, std::string_view key, std::size_t max);

// -- byte helpers ------------------------------------------------------------

[[nodiscard]] inline MDB_val to_val(std::string_view bytes) noexcept {
  return {bytes.size(), const_cast<char*>(bytes.data())}; // NOLINT: LMDB API
}

[[nodiscard]] inline std::string_view to_view(const MDB_val& v) noexcept {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

/// 8 bytes, big-endian, so byte order sorts like the number.
[[nodiscard]] std::string be64(std::uint64_t n);
[[nodiscard]] std::uint64_t from_be64(std::string_view bytes);
/// 4 bytes, big-endian (a checkpoint's number in its key).
[[nodiscard]] std::string be32(std::uint32_t n);
[[nodiscard]] std::uint32_t from_be32(std::string_view bytes);

/// An index key made of an 8-byte big-endian number (a deadline, the time
/// a run finished) and a name.
struct numbered_key {
  std::uint64_t number = 0;
  std::string_view name;
};

/// Splits a numbered key; nothing for one shorter than 8 bytes, which no
/// store writes.
[[nodiscard]] std::optional<numbered_key>
split_numbered_key(std::string_view key) noexcept;

/// The STORAGE_ERROR for an entry of `index` no store could have written.
[[nodiscard]] model::error corrupt_index(std::string_view index);

/// The value under `key`, valid until the transaction ends.
[[nodiscard]] std::optional<std::string_view> get(MDB_txn* txn, MDB_dbi dbi,
                                                  std::string_view key);

/// Stores `value` under `key`; throws `lmdb_failure` on failure.
void put(MDB_txn* txn, MDB_dbi dbi, std::string_view key,
         std::string_view value, unsigned flags = 0);

/// Deletes `key` (the one duplicate `value` in a DUPSORT database); a
/// missing key is fine.
void del(MDB_txn* txn, MDB_dbi dbi, std::string_view key,
         std::optional<std::string_view> value = std::nullopt);

/// Calls `visit(key, value)` from the first key >= `from` while it returns
/// true.
void scan_from(
  MDB_txn* txn, MDB_dbi dbi, std::string_view from,
  const std::function<bool(std::string_view, std::string_view)>& visit);

/// Calls `visit(key, value)` from the last key of `dbi` backwards while it
/// returns true.
void scan_back(
  MDB_txn* txn, MDB_dbi dbi,
  const std::function<bool(std::string_view, std::string_view)>& visit);

/// Where a scan of a numbered index starts.
enum class scan_order { lowest_first, highest_first };

/// The names in `dbi`, a numbered index called `index` in errors, in
/// `order` while `within(number)` holds, at most `limit` of them. Errors:
/// STORAGE_ERROR for a key no store writes.
[[nodiscard]] model::result<std::vector<std::string>>
numbered_names(MDB_txn* txn, MDB_dbi dbi, std::string_view index,
               scan_order order, std::size_t limit,
               const std::function<bool(std::uint64_t number)>& within);

/// The first key of `dbi`, if it has any.
[[nodiscard]] std::optional<std::string_view> first_key(MDB_txn* txn,
                                                        MDB_dbi dbi);

/// The last key of `dbi`, if it has any.
[[nodiscard]] std::optional<std::string_view> last_key(MDB_txn* txn,
                                                       MDB_dbi dbi);

/// How many entries `dbi` holds (each duplicate of a DUPSORT database
/// counts), from the database's own statistics: no scan. Throws
/// `lmdb_failure` on failure.
[[nodiscard]] std::uint64_t entry_count(MDB_txn* txn, MDB_dbi dbi);

/// Calls `visit(value)` for each duplicate under `key`.
void scan_duplicates(MDB_txn* txn, MDB_dbi dbi, std::string_view key,
                     const std::function<void(std::string_view)>& visit);

/// The STORAGE_ERROR for the record `what` that no store of this format
/// could have written.
[[nodiscard]] model::error corrupt_record(std::string_view what);

/// Parses a stored record's JSON text and returns `read(document)`; text
/// that does not parse is a STORAGE_ERROR naming `what`. The document lives
/// only during the call, its nodes in a buffer on the stack (one allocation
/// less per node, none to free): `read` copies out what it keeps, into
/// values of its own storage (assignment keeps the target's; a copy
/// constructed from a node would keep the buffer's).
template <class Read>
auto with_document(std::string_view bytes, std::string_view what, Read read)
  -> decltype(read(std::declval<boost::json::value&>())) {
  static_assert(
    !std::is_reference_v<decltype(read(std::declval<boost::json::value&>()))>,
    "nothing read may refer into the document");
  // Its bytes are written before they are read.
  std::array<unsigned char, 4096> buffer;
  boost::json::monotonic_resource scratch{buffer.data(), buffer.size()};
  boost::system::error_code ec;
  // Keys may hold any bytes, and records repeat their keys.
  boost::json::parse_options options;
  options.allow_invalid_utf8 = true;
  auto document = model::parse_json(bytes, ec, options, &scratch);
  if (ec)
    return corrupt_record(what);
  return read(document);
}

/// Parses a stored record of type `T`; a corrupt one is a STORAGE_ERROR
/// naming it.
template <class T>
model::result<T> decode(std::string_view bytes, std::string_view what) {
  static_assert(!std::is_same_v<T, boost::json::value>,
                "a document is read in place: use with_document");
  return with_document(
    bytes, what, [what](const boost::json::value& doc) -> model::result<T> {
      auto value = boost::json::try_value_to<T>(doc);
      if (!value)
        return corrupt_record(what);
      return std::move(*value);
    });
}

} // namespace signoff::persistence::detail
