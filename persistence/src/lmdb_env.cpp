#include "lmdb_env.hpp"

#include "lmdb_migrations.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <system_error>

#include "signoff/model/limits.hpp"

namespace signoff::persistence::detail {

namespace {

// -- formats -----------------------------------------------------------------

/// Rewrites a directory of one format into the next, inside the write
/// transaction that opens it; an error (or a thrown `lmdb_failure`) aborts
/// the whole migration.
using migration_step
  = model::result<void> (*)(MDB_txn*, const lmdb_dbs&, const lmdb_legacy_dbs&);

/// The first format signoff wrote.
constexpr std::uint64_t first_format = 1;

/// `migrations[k]` takes format `first_format + k` to the next. The format
/// this build writes, and the newest it reads, follows the last step: a
/// new format is one step appended here.
constexpr std::array migrations{migration_step{migrate_format_1_to_2},
                                migration_step{migrate_format_2_to_3},
                                migration_step{migrate_format_3_to_4}};
constexpr std::uint64_t current_format = first_format + migrations.size();

/// The longest key (or DUPSORT value) the stores put: an audit entry's (an
/// approval key between a 3-byte prefix and a part with the entry's 8-byte
/// sequence), or an approval key after a deadline; a run id after the
/// 8-byte time it finished; a workflow name.
constexpr std::size_t longest_key
  = std::max({model::max_approval_key_bytes + 12, model::max_run_id_bytes + 8,
              model::max_workflow_name_bytes});

/// Opens the databases an older format kept records in, to migrate them.
model::result<lmdb_legacy_dbs> open_legacy(MDB_txn* txn) {
  lmdb_legacy_dbs legacy;
  const std::pair<const char*, MDB_dbi*> all[] = {
    {"approvals", &legacy.approvals},
    {"audit", &legacy.audit},
    {"audit_length", &legacy.audit_length},
    {"runs", &legacy.runs},
    {"run_inputs", &legacy.run_inputs},
    {"checkpoints", &legacy.checkpoints},
  };
  for (const auto& [name, dbi] : all)
    if (int rc = mdb_dbi_open(txn, name, MDB_CREATE, dbi); rc != MDB_SUCCESS)
      return lmdb_error(rc, std::string{"opening database "} + name);
  return legacy;
}

/// Name of the execution lock file inside the directory.
constexpr std::string_view lock_file = "signoff.lock";

model::error storage_error(std::string message) {
  return model::make_error(model::error_type::storage_error,
                           std::move(message));
}

std::string errno_text(int code) {
  return std::error_code{code, std::generic_category()}.message();
}

/// The format recorded in `meta`, checked, written for a new directory, or
/// migrated from an older one when `migrate` is set.
model::result<void> check_format(MDB_txn* txn, const lmdb_dbs& dbs,
                                 const std::string& path, bool migrate) {
  const auto current = std::to_string(current_format);
  auto stored = get(txn, dbs.meta, "format");
  if (!stored) {
    put(txn, dbs.meta, "format", current);
    return model::ok();
  }
  const std::string text{*stored};
  std::uint64_t found = 0;
  const auto* end = text.data() + text.size();
  if (auto [at, ec] = std::from_chars(text.data(), end, found);
      ec != std::errc{} || at != end || found < first_format)
    return storage_error("the store in '" + path + "' records a format '" + text
                         + "' that no signoff writes");
  if (found > current_format)
    return storage_error("the store in '" + path
                         + "' was written by a newer signoff, format " + text
                         + "; this build reads formats up to " + current);
  if (found == current_format)
    return model::ok();
  if (!migrate)
    return storage_error(
      "the store in '" + path + "' was written by an older signoff, format "
      + text + "; this build reads format " + current
      + ". Open it once with migrate set (lmdb_options::migrate, signoffd "
        "--migrate) to upgrade it in place; older builds cannot open it "
        "afterwards, so back it up first");
  auto legacy = open_legacy(txn);
  if (legacy.is_err())
    return legacy.error();
  for (auto k = found; k < current_format; ++k)
    if (auto stepped = migrations[k - first_format](txn, dbs, legacy.value());
        stepped.is_err())
      return storage_error("migrating the store in '" + path + "' from format "
                           + std::to_string(k) + " to " + std::to_string(k + 1)
                           + " failed, and nothing was changed: "
                           + stepped.error().message);
  put(txn, dbs.meta, "format", current);
  return model::ok();
}

/// Who holds the execution lock, as its file records it.
std::string lock_holder(int fd) {
  std::array<char, 32> buffer{};
  const auto n = ::pread(fd, buffer.data(), buffer.size(), 0);
  int pid = 0;
  if (n > 0) {
    auto [at, ec] = std::from_chars(buffer.data(), buffer.data() + n, pid);
    if (ec == std::errc{} && pid > 0)
      return "process " + std::to_string(pid);
  }
  // Between the holder's lock and its writing of its pid.
  return "another process";
}

unsigned flags_for(lmdb_durability durability) {
  unsigned flags = MDB_NOTLS;
  switch (durability) {
    case lmdb_durability::sync:
      break;
    case lmdb_durability::no_meta_sync:
      flags |= MDB_NOMETASYNC;
      break;
    case lmdb_durability::no_sync:
      flags |= MDB_NOSYNC;
      break;
  }
  return flags;
}

/// The environments open in this process, by directory. LMDB forbids two
/// environments on one directory in a process (closing one would drop the
/// other's locks on `lock.mdb`), so opens share them, and an open waits
/// while one of its directory is being closed.
struct env_registry {
  std::mutex mutex;
  std::condition_variable closed;
  std::map<directory_id, std::weak_ptr<lmdb_env>> open;
};

/// Never destroyed: environments may outlive static destruction.
env_registry& process_registry() {
  static auto* instance = new env_registry;
  return *instance;
}

} // namespace

writer_first_lock::writer_first_lock() {
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
  pthread_rwlockattr_setkind_np(&attr,
                                PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&lock_, &attr);
  pthread_rwlockattr_destroy(&attr);
}

writer_first_lock::~writer_first_lock() {
  pthread_rwlock_destroy(&lock_);
}

void writer_first_lock::lock() {
  pthread_rwlock_wrlock(&lock_);
}

void writer_first_lock::unlock() {
  pthread_rwlock_unlock(&lock_);
}

void writer_first_lock::lock_shared() {
  pthread_rwlock_rdlock(&lock_);
}

void writer_first_lock::unlock_shared() {
  pthread_rwlock_unlock(&lock_);
}

model::error lmdb_error(int code, std::string_view what) {
  return model::make_error(model::error_type::storage_error,
                           "LMDB failed " + std::string{what} + ": "
                             + mdb_strerror(code));
}

model::result<std::shared_ptr<lmdb_env>>
lmdb_env::open(const lmdb_options& options) {
  if (options.path.empty())
    return model::make_error(model::error_type::invalid_argument,
                             "the LMDB path must not be empty");
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec)
    return storage_error("cannot create '" + options.path
                         + "': " + ec.message());
  struct stat st = {};
  if (::stat(options.path.c_str(), &st) != 0)
    return storage_error("cannot open '" + options.path
                         + "': " + errno_text(errno));
  const directory_id id{st.st_dev, st.st_ino};
  auto& registry = process_registry();
  // Declared before the lock: a handle found here may be the last one, and
  // its deleter takes the lock.
  std::shared_ptr<lmdb_env> shared;
  std::unique_lock guard{registry.mutex};
  // The handle is taken inside the wait: checked as alive and locked
  // apart, the last one could drop in between (its count reaches zero
  // before its deleter takes the lock), leaving a null handle.
  registry.closed.wait(guard, [&] {
    auto it = registry.open.find(id);
    if (it == registry.open.end())
      return true;
    shared = it->second.lock();
    return shared != nullptr;
  });
  if (shared) {
    if (shared->durability_ != options.durability)
      return model::make_error(model::error_type::invalid_argument,
                               "'" + options.path
                                 + "' is already open in this process with "
                                   "another durability");
    if (options.execution_lock)
      if (auto locked = shared->take_execution_lock(); locked.is_err())
        return locked.error();
    return shared;
  }
  std::unique_ptr<lmdb_env> env{new lmdb_env};
  env->path_ = options.path;
  env->id_ = id;
  env->durability_ = options.durability;
  // Locked before LMDB opens anything, so a refused open changes nothing.
  if (options.execution_lock)
    if (auto locked = env->take_execution_lock(); locked.is_err())
      return locked.error();
  if (auto started = env->start(options); started.is_err())
    return started.error();
  shared.reset(env.release(), &lmdb_env::close);
  registry.open[id] = shared;
  return shared;
}

model::result<void> lmdb_env::start(const lmdb_options& options) {
  max_map_size_ = std::max(options.max_map_size, options.map_size);
  // The first transaction creates every database: start with room for it.
  constexpr std::size_t smallest_start = std::size_t{1} << 20U;
  const auto map_size
    = std::max(options.map_size, std::min(smallest_start, max_map_size_));
  if (int rc = mdb_env_create(&env_); rc != MDB_SUCCESS)
    return lmdb_error(rc, "creating the environment");
  mdb_env_set_maxdbs(env_, 24);
  mdb_env_set_maxreaders(env_, options.max_readers);
  if (int rc = mdb_env_set_mapsize(env_, map_size); rc != MDB_SUCCESS)
    return lmdb_error(rc, "setting the map size");
  if (int rc = mdb_env_open(env_, options.path.c_str(),
                            flags_for(options.durability), 0644);
      rc != MDB_SUCCESS)
    return lmdb_error(rc, "opening '" + options.path + "'");
  // The pool never holds more transactions than the reader table has
  // slots (its size may come from another process), so returning one to it
  // never allocates.
  unsigned slots = 0;
  mdb_env_get_maxreaders(env_, &slots);
  idle_readers_.reserve(slots);
  if (const int limit = mdb_env_get_maxkeysize(env_);
      limit < 0 || static_cast<std::size_t>(limit) < longest_key)
    return storage_error(
      "this LMDB takes keys of at most " + std::to_string(limit)
      + " bytes; the stores' indexes need " + std::to_string(longest_key));
  return prepare(options.migrate);
}

void lmdb_env::close(lmdb_env* env) noexcept {
  auto& registry = process_registry();
  {
    const std::lock_guard guard{registry.mutex};
    registry.open.erase(env->id_);
    delete env; // NOLINT(cppcoreguidelines-owning-memory): the deleter
  }
  registry.closed.notify_all();
}

lmdb_env::~lmdb_env() {
  for (auto* txn : idle_readers_)
    mdb_txn_abort(txn);
  if (env_ != nullptr)
    mdb_env_close(env_);
  if (execution_lock_ >= 0) {
    // A clean exit leaves no pid behind; a crash leaves a stale one, which
    // the next holder overwrites.
    (void)::ftruncate(execution_lock_, 0);
    ::close(execution_lock_);
  }
}

model::result<void> lmdb_env::take_execution_lock() {
  if (execution_lock_ >= 0)
    return model::ok();
  const auto file = (std::filesystem::path{path_} / lock_file).string();
  // Not inherited by child processes, which would keep it after we exit.
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return storage_error("cannot open the execution lock '" + file
                         + "': " + errno_text(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const auto holder = lock_holder(fd);
    ::close(fd);
    if (error == EWOULDBLOCK)
      return storage_error(
        "'" + path_ + "' is in use by " + holder
        + ", which runs workflows on it (it holds " + file
        + "); one process at a time may. Stop it first, or open the "
          "directory without the execution lock to read and decide "
          "beside it");
    return storage_error("cannot lock '" + file + "': " + errno_text(error));
  }
  const auto pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0
      || ::pwrite(fd, pid.data(), pid.size(), 0)
           != static_cast<ssize_t>(pid.size())) {
    const int error = errno;
    ::close(fd);
    return storage_error("cannot write the execution lock '" + file
                         + "': " + errno_text(error));
  }
  execution_lock_ = fd;
  return model::ok();
}

model::result<void> lmdb_env::prepare(bool migrate) {
  struct named {
    const char* name;
    MDB_dbi* dbi;
    unsigned flags;
  };
  const named all[] = {
    {"meta", &dbs_.meta, 0},
    {"records", &dbs_.records, 0},
    {"pending", &dbs_.pending, 0},
    {"deadlines", &dbs_.deadlines, 0},
    {"runs_by_pending", &dbs_.runs_by_pending, MDB_DUPSORT},
    {"paused_by_name", &dbs_.paused_by_name, MDB_DUPSORT},
    {"running", &dbs_.running, 0},
    {"finished", &dbs_.finished, 0},
    {"outbox", &dbs_.outbox, 0},
    {"wakes", &dbs_.wakes, 0},
    {"decided", &dbs_.decided, 0},
  };
  model::result<void> out;
  // A refusal aborts: a directory of another format is left as it was. A
  // migration that fills the map is retried from the start, after growth.
  auto committed = transact([&](MDB_txn* txn) {
    for (const auto& db : all)
      if (int rc = mdb_dbi_open(txn, db.name, db.flags | MDB_CREATE, db.dbi);
          rc != MDB_SUCCESS) {
        out = lmdb_error(rc, std::string{"opening database "} + db.name);
        return false;
      }
    out = check_format(txn, dbs_, path_, migrate);
    return out.is_ok();
  });
  if (committed.is_err())
    return committed;
  return out;
}

int lmdb_env::take_reader(std::shared_lock<writer_first_lock>& guard,
                          MDB_txn** txn) const {
  {
    const std::lock_guard pool{readers_mutex_};
    if (!idle_readers_.empty()) {
      *txn = idle_readers_.back();
      idle_readers_.pop_back();
    }
  }
  for (;;) {
    // A reset transaction keeps its reader slot (MDB_NOTLS: the slot
    // belongs to the transaction, not the thread) and reads the map anew
    // when renewed, whatever its size was when it was reset.
    const int rc = *txn != nullptr
                     ? mdb_txn_renew(*txn)
                     : mdb_txn_begin(env_, nullptr, MDB_RDONLY, txn);
    if (rc != MDB_MAP_RESIZED) {
      if (rc != MDB_SUCCESS && *txn != nullptr) {
        mdb_txn_abort(*txn);
        *txn = nullptr;
      }
      return rc;
    }
    if (const int adopted = adopt_grown_map(guard); adopted != MDB_SUCCESS) {
      mdb_txn_abort(*txn);
      *txn = nullptr;
      return adopted;
    }
  }
}

void lmdb_env::put_back_reader(MDB_txn* txn) const noexcept {
  mdb_txn_reset(txn);
  const std::lock_guard pool{readers_mutex_};
  idle_readers_.push_back(txn);
}

int lmdb_env::begin_write(std::shared_lock<writer_first_lock>& guard,
                          MDB_txn** txn) {
  for (;;) {
    const int rc = mdb_txn_begin(env_, nullptr, 0, txn);
    if (rc != MDB_MAP_RESIZED)
      return rc;
    if (const int adopted = adopt_grown_map(guard); adopted != MDB_SUCCESS)
      return adopted;
  }
}

int lmdb_env::adopt_grown_map(
  std::shared_lock<writer_first_lock>& guard) const {
  guard.unlock();
  int rc = MDB_SUCCESS;
  {
    const std::unique_lock exclusive{resize_};
    // Size 0: the size the newest meta page records.
    rc = mdb_env_set_mapsize(env_, 0);
  }
  guard.lock();
  return rc;
}

model::result<void> lmdb_env::grow() {
  std::unique_lock guard{resize_};
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  if (info.me_mapsize >= max_map_size_)
    return model::make_error(model::error_type::storage_error,
                             "the LMDB map of '" + path_
                               + "' is full at its maximum size of "
                               + std::to_string(max_map_size_) + " bytes");
  const auto bigger = std::min(info.me_mapsize * 2, max_map_size_);
  if (int rc = mdb_env_set_mapsize(env_, bigger); rc != MDB_SUCCESS)
    return lmdb_error(rc, "growing the map");
  return model::ok();
}

model::result<void>
lmdb_env::transact(const std::function<bool(MDB_txn*)>& body) {
  for (;;) {
    int failure = MDB_SUCCESS;
    {
      std::shared_lock guard{resize_};
      MDB_txn* txn = nullptr;
      if (int rc = begin_write(guard, &txn); rc != MDB_SUCCESS)
        return lmdb_error(rc, "starting a write transaction");
      try {
        if (!body(txn)) {
          mdb_txn_abort(txn);
          return model::ok();
        }
        failure = mdb_txn_commit(txn);
        if (failure == MDB_SUCCESS) {
          ++commits_;
          return model::ok();
        }
      } catch (const lmdb_failure& e) {
        mdb_txn_abort(txn);
        failure = e.code;
      } catch (...) {
        // Anything else the writes throw must not keep the writer lock.
        mdb_txn_abort(txn);
        throw;
      }
    }
    if (failure != MDB_MAP_FULL)
      return lmdb_error(failure, "writing");
    if (auto grown = grow(); grown.is_err())
      return grown;
  }
}

std::string be64(std::uint64_t n) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, n >>= 8U)
    out[static_cast<std::size_t>(i)] = static_cast<char>(n & 0xFFU);
  return out;
}

std::uint64_t from_be64(std::string_view bytes) {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < 8 && i < bytes.size(); ++i)
    n = (n << 8U) | static_cast<unsigned char>(bytes[i]);
  return n;
}

std::string be32(std::uint32_t n) {
  std::string out(4, '\0');
  for (int i = 3; i >= 0; --i, n >>= 8U)
    out[static_cast<std::size_t>(i)] = static_cast<char>(n & 0xFFU);
  return out;
}

std::uint32_t from_be32(std::string_view bytes) {
  std::uint32_t n = 0;
  for (std::size_t i = 0; i < 4 && i < bytes.size(); ++i)
    n = (n << 8U) | static_cast<unsigned char>(bytes[i]);
  return n;
}

std::optional<numbered_key> split_numbered_key(std::string_view key) noexcept {
  if (key.size() < 8)
    return std::nullopt;
  return numbered_key{from_be64(key), key.substr(8)};
}

model::error corrupt_record(std::string_view what) {
  return model::make_error(model::error_type::storage_error,
                           "corrupt record " + std::string{what}
                             + " (or written by a newer format)");
}

model::result<void> check_key_length(std::string_view what,
                                     std::string_view key, std::size_t max) {
  if (key.size() <= max)
    return model::ok();
  return model::make_error(model::error_type::invalid_argument,
                           std::string{what} + " must not be longer than "
                             + std::to_string(max) + " bytes (this one has "
                             + std::to_string(key.size()) + ")");
}

model::error corrupt_index(std::string_view index) {
  return model::make_error(model::error_type::storage_error,
                           "corrupt entry in the index " + std::string{index});
}

std::optional<std::string_view> get(MDB_txn* txn, MDB_dbi dbi,
                                    std::string_view key) {
  MDB_val k = to_val(key);
  MDB_val v;
  int rc = mdb_get(txn, dbi, &k, &v);
  if (rc == MDB_NOTFOUND)
    return std::nullopt;
  if (rc != MDB_SUCCESS)
    throw lmdb_failure{rc};
  return to_view(v);
}

void put(MDB_txn* txn, MDB_dbi dbi, std::string_view key,
         std::string_view value, unsigned flags) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  if (int rc = mdb_put(txn, dbi, &k, &v, flags);
      rc != MDB_SUCCESS && rc != MDB_KEYEXIST)
    throw lmdb_failure{rc};
}

void del(MDB_txn* txn, MDB_dbi dbi, std::string_view key,
         std::optional<std::string_view> value) {
  MDB_val k = to_val(key);
  MDB_val v = value ? to_val(*value) : MDB_val{};
  if (int rc = mdb_del(txn, dbi, &k, value ? &v : nullptr);
      rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
    throw lmdb_failure{rc};
}

namespace {

struct cursor {
  MDB_cursor* ptr = nullptr;
  cursor(MDB_txn* txn, MDB_dbi dbi) {
    if (int rc = mdb_cursor_open(txn, dbi, &ptr); rc != MDB_SUCCESS)
      throw lmdb_failure{rc};
  }
  ~cursor() {
    mdb_cursor_close(ptr);
  }
  cursor(const cursor&) = delete;
  cursor& operator=(const cursor&) = delete;

  /// Moves with `op`; false at the end.
  bool move(MDB_val& k, MDB_val& v, MDB_cursor_op op) {
    int rc = mdb_cursor_get(ptr, &k, &v, op);
    if (rc == MDB_NOTFOUND)
      return false;
    if (rc != MDB_SUCCESS)
      throw lmdb_failure{rc};
    return true;
  }
};

} // namespace

void scan_from(
  MDB_txn* txn, MDB_dbi dbi, std::string_view from,
  const std::function<bool(std::string_view, std::string_view)>& visit) {
  cursor c{txn, dbi};
  MDB_val k = to_val(from);
  MDB_val v;
  bool more
    = from.empty() ? c.move(k, v, MDB_FIRST) : c.move(k, v, MDB_SET_RANGE);
  while (more && visit(to_view(k), to_view(v)))
    more = c.move(k, v, MDB_NEXT);
}

void scan_back(
  MDB_txn* txn, MDB_dbi dbi,
  const std::function<bool(std::string_view, std::string_view)>& visit) {
  cursor c{txn, dbi};
  MDB_val k;
  MDB_val v;
  bool more = c.move(k, v, MDB_LAST);
  while (more && visit(to_view(k), to_view(v)))
    more = c.move(k, v, MDB_PREV);
}

model::result<std::vector<std::string>>
numbered_names(MDB_txn* txn, MDB_dbi dbi, std::string_view index,
               scan_order order, std::size_t limit,
               const std::function<bool(std::uint64_t number)>& within) {
  std::vector<std::string> out;
  model::result<void> failed;
  const auto visit = [&](std::string_view k, std::string_view) {
    auto entry = split_numbered_key(k);
    if (!entry) {
      failed = corrupt_index(index);
      return false;
    }
    if (out.size() >= limit || !within(entry->number))
      return false;
    out.emplace_back(entry->name);
    return true;
  };
  if (order == scan_order::lowest_first)
    scan_from(txn, dbi, {}, visit);
  else
    scan_back(txn, dbi, visit);
  if (failed.is_err())
    return failed.error();
  return out;
}

namespace {

std::optional<std::string_view> end_key(MDB_txn* txn, MDB_dbi dbi,
                                        MDB_cursor_op op) {
  cursor c{txn, dbi};
  MDB_val k;
  MDB_val v;
  if (!c.move(k, v, op))
    return std::nullopt;
  return to_view(k);
}

} // namespace

std::optional<std::string_view> first_key(MDB_txn* txn, MDB_dbi dbi) {
  return end_key(txn, dbi, MDB_FIRST);
}

std::optional<std::string_view> last_key(MDB_txn* txn, MDB_dbi dbi) {
  return end_key(txn, dbi, MDB_LAST);
}

std::uint64_t entry_count(MDB_txn* txn, MDB_dbi dbi) {
  MDB_stat stat{};
  if (int rc = mdb_stat(txn, dbi, &stat); rc != MDB_SUCCESS)
    throw lmdb_failure{rc};
  return stat.ms_entries;
}

void scan_duplicates(MDB_txn* txn, MDB_dbi dbi, std::string_view key,
                     const std::function<void(std::string_view)>& visit) {
  cursor c{txn, dbi};
  MDB_val k = to_val(key);
  MDB_val v;
  for (bool more = c.move(k, v, MDB_SET_KEY); more;
       more = c.move(k, v, MDB_NEXT_DUP))
    visit(to_view(v));
}

} // namespace signoff::persistence::detail
