#include "lmdb_env.hpp"

#include <algorithm>
#include <filesystem>
#include <mutex>

namespace signoff::persistence::detail {

namespace {

/// The on-disk format this build writes and the newest it reads.
constexpr std::string_view format_version = "2";

/// The batch transaction of the calling thread, and whose it is (several
/// environments may be open in one process).
thread_local const lmdb_env* batch_owner = nullptr;
thread_local MDB_txn* batch_transaction = nullptr;

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

model::result<void> open_databases(MDB_env* env, lmdb_dbs& dbs) {
  MDB_txn* txn = nullptr;
  if (int rc = mdb_txn_begin(env, nullptr, 0, &txn); rc != MDB_SUCCESS)
    return lmdb_error(rc, "starting the first transaction");
  struct named {
    const char* name;
    MDB_dbi* dbi;
    unsigned flags;
  };
  const named all[] = {
    {"meta", &dbs.meta, 0},
    {"approvals", &dbs.approvals, 0},
    {"pending", &dbs.pending, 0},
    {"deadlines", &dbs.deadlines, 0},
    {"audit", &dbs.audit, 0},
    {"audit_length", &dbs.audit_length, 0},
    {"runs", &dbs.runs, 0},
    {"run_inputs", &dbs.run_inputs, 0},
    {"checkpoints", &dbs.checkpoints, 0},
    {"runs_by_pending", &dbs.runs_by_pending, MDB_DUPSORT},
    {"paused_by_name", &dbs.paused_by_name, MDB_DUPSORT},
    {"running", &dbs.running, 0},
    {"finished", &dbs.finished, 0},
    {"outbox", &dbs.outbox, 0},
    {"wakes", &dbs.wakes, 0},
  };
  for (const auto& db : all)
    if (int rc = mdb_dbi_open(txn, db.name, db.flags | MDB_CREATE, db.dbi);
        rc != MDB_SUCCESS) {
      mdb_txn_abort(txn);
      return lmdb_error(rc, std::string{"opening database "} + db.name);
    }
  auto stored = get(txn, dbs.meta, "format");
  if (stored && *stored != format_version) {
    std::string found{*stored};
    mdb_txn_abort(txn);
    return model::make_error(
      model::error_type::storage_error,
      "the store was written in format " + found + " by a newer signoff; "
        + "this build reads format " + std::string{format_version});
  }
  if (!stored) {
    MDB_val k = to_val("format");
    MDB_val v = to_val(format_version);
    if (int rc = mdb_put(txn, dbs.meta, &k, &v, 0); rc != MDB_SUCCESS) {
      mdb_txn_abort(txn);
      return lmdb_error(rc, "writing the format version");
    }
  }
  if (int rc = mdb_txn_commit(txn); rc != MDB_SUCCESS)
    return lmdb_error(rc, "committing the first transaction");
  return model::ok();
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
    return model::make_error(model::error_type::storage_error,
                             "cannot create '" + options.path
                               + "': " + ec.message());
  std::shared_ptr<lmdb_env> env{new lmdb_env};
  env->path_ = options.path;
  env->max_map_size_ = std::max(options.max_map_size, options.map_size);
  // The first transaction creates every database: start with room for it.
  constexpr std::size_t smallest_start = std::size_t{1} << 20U;
  const auto map_size
    = std::max(options.map_size, std::min(smallest_start, env->max_map_size_));
  if (int rc = mdb_env_create(&env->env_); rc != MDB_SUCCESS)
    return lmdb_error(rc, "creating the environment");
  mdb_env_set_maxdbs(env->env_, 24);
  mdb_env_set_maxreaders(env->env_, options.max_readers);
  if (int rc = mdb_env_set_mapsize(env->env_, map_size); rc != MDB_SUCCESS)
    return lmdb_error(rc, "setting the map size");
  if (int rc = mdb_env_open(env->env_, options.path.c_str(),
                            flags_for(options.durability), 0644);
      rc != MDB_SUCCESS)
    return lmdb_error(rc, "opening '" + options.path + "'");
  if (auto opened = open_databases(env->env_, env->dbs_); opened.is_err())
    return opened.error();
  return env;
}

lmdb_env::~lmdb_env() {
  if (env_ != nullptr)
    mdb_env_close(env_);
}

MDB_txn* lmdb_env::batch_txn() const noexcept {
  return batch_owner == this ? batch_transaction : nullptr;
}

int lmdb_env::begin(MDB_txn* parent, unsigned flags, MDB_txn** txn) const {
  int rc = mdb_txn_begin(env_, parent, flags, txn);
  if (rc == MDB_MAP_RESIZED) {
    // Another process grew the map: adopt its size and try again.
    mdb_env_set_mapsize(env_, 0);
    rc = mdb_txn_begin(env_, parent, flags, txn);
  }
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
      if (int rc = begin(nullptr, 0, &txn); rc != MDB_SUCCESS)
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

model::result<void> lmdb_env::batch(const std::function<void()>& writes) {
  if (batch_txn() != nullptr) {
    writes(); // already inside this thread's batch
    return model::ok();
  }
  return transact([&](MDB_txn* txn) {
    batch_owner = this;
    batch_transaction = txn;
    struct reset {
      ~reset() {
        batch_owner = nullptr;
        batch_transaction = nullptr;
      }
    } on_exit;
    writes();
    return true;
  });
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
