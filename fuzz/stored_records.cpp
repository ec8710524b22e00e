// Fuzzes the decoding of stored records: each input is one record written
// raw into one database of a real LMDB directory (the input's first byte
// picks the database, then a length-prefixed key, then the value), which
// is then read back, listed, decided on, saved over and removed through
// the stores' API. A record the stores cannot use must come back as a
// clean STORAGE_ERROR, never as a crash, an exception, a hang or a record
// that belongs to another key.

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "lmdb_records.hpp"
#include "lmdb_stores.hpp"
#include "signoff/model/error.hpp"

namespace {

namespace m = signoff::model;
namespace p = signoff::persistence;
namespace d = signoff::persistence::detail;
using signoff::fuzz::require;

const m::time_point now = m::from_millis(1'700'000'000'000);

/// One LMDB directory for the whole process (LMDB must not be opened twice
/// in one process), emptied before every input.
class lmdb_fixture {
public:
  lmdb_fixture()
      : dir_(std::filesystem::temp_directory_path()
             / ("signoff-fuzz-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir_);
    auto env = d::lmdb_env::open({.path = dir_.string(),
                                  .map_size = std::size_t{64} << 20U,
                                  .durability = p::lmdb_durability::no_sync});
    require(env.is_ok(), "the LMDB directory opens");
    env_ = env.value();
    auto journal = std::make_shared<d::lmdb_journal>(env_);
    approvals_ = d::make_lmdb_approval_store(env_, journal);
    runs_ = d::make_lmdb_workflow_state_store(env_, journal);
    outbox_ = d::make_lmdb_outbox(env_);
  }

  ~lmdb_fixture() {
    approvals_.reset();
    runs_.reset();
    outbox_.reset();
    env_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  lmdb_fixture(const lmdb_fixture&) = delete;
  lmdb_fixture& operator=(const lmdb_fixture&) = delete;

  /// Every database but the format version, emptied.
  void clear() {
    const auto& db = env_->db();
    const std::array<MDB_dbi, 10> all{
      db.records,        db.pending, db.deadlines, db.runs_by_pending,
      db.paused_by_name, db.running, db.finished,  db.outbox,
      db.wakes,          db.decided};
    auto emptied = env_->write<void>([&](MDB_txn* txn) -> m::result<void> {
      for (auto dbi : all)
        if (mdb_drop(txn, dbi, 0) != MDB_SUCCESS)
          return m::make_error(m::error_type::storage_error, "mdb_drop");
      return m::ok();
    });
    require(emptied.is_ok(), "the databases empty");
  }

  /// Writes `value` as the record `pick` selects; false if LMDB refuses it
  /// (an empty or oversized key, say). The first picks name a kind of
  /// record, whose key in `records` is made from `key` as the stores make
  /// it (an audit entry's `key` ends with its 8-byte sequence, a
  /// checkpoint's is the run id's length, the id and a 4-byte number);
  /// then the index databases, with `key` as it is; then `records` with
  /// `key` as it is, to reach keys no store writes.
  bool put_raw(std::uint8_t pick, std::string_view key,
               std::string_view value) {
    const auto& db = env_->db();
    enum : std::uint8_t { approval, run, audit, run_inputs, checkpoint = 12 };
    const std::array<MDB_dbi, 15> targets{
      db.records,         db.records,        db.records,   db.records,
      db.outbox,          db.pending,        db.deadlines, db.finished,
      db.runs_by_pending, db.paused_by_name, db.running,   db.wakes,
      db.records,         db.records,        db.decided};
    const auto at = static_cast<std::uint8_t>(pick % targets.size());
    std::string stored{key};
    if (at == approval)
      stored = d::approval_record_key(key);
    else if (at == run)
      stored = d::run_header_key(key);
    else if (at == run_inputs)
      stored = d::run_inputs_key(key);
    else if (at == audit && key.size() > 8)
      stored = d::audit_key(key.substr(0, key.size() - 8),
                            d::from_be64(key.substr(key.size() - 8)));
    else if (at == checkpoint && key.size() > 5
             && static_cast<unsigned char>(key[0]) + 5U == key.size()) {
      stored = d::checkpoint_key(key.substr(1, key.size() - 5),
                                 d::from_be32(key.substr(key.size() - 4)));
    }
    return env_
      ->write<void>([&](MDB_txn* txn) -> m::result<void> {
        d::put(txn, targets.at(at), stored, value);
        return m::ok();
      })
      .is_ok();
  }

  p::approval_store& approvals() {
    return *approvals_;
  }
  p::workflow_state_store& runs() {
    return *runs_;
  }
  p::outbox& outbox() {
    return *outbox_;
  }

private:
  std::filesystem::path dir_;
  std::shared_ptr<d::lmdb_env> env_;
  std::shared_ptr<p::approval_store> approvals_;
  std::shared_ptr<p::workflow_state_store> runs_;
  std::shared_ptr<p::outbox> outbox_;
};

/// A read: ok, or a STORAGE_ERROR for what it could not use.
template <class T>
m::result<T> readable(m::result<T> r, std::string_view call) {
  require(r.is_ok() || r.error().is(m::error_type::storage_error),
          "a read succeeds or fails with STORAGE_ERROR", call);
  return r;
}

/// A write: ok, a STORAGE_ERROR, or one of the errors its contract names.
template <class T>
void writable(const m::result<T>& r, std::string_view call,
              std::initializer_list<std::string_view> expected) {
  if (r.is_ok() || r.error().is(m::error_type::storage_error))
    return;
  require(std::find(expected.begin(), expected.end(), r.error().type)
            != expected.end(),
          "a write fails only as its contract says", call);
}

void read_approval(p::approval_store& store, const std::string& key) {
  const auto found = readable(store.find_approval(key), "find_approval");
  if (found.is_ok() && found.value())
    require(found.value()->key == key,
            "a record read under a key is that key's", key);
  const auto trail = readable(store.audit_trail(key), "audit_trail");
  if (trail.is_ok())
    for (const auto& entry : trail.value())
      require(entry.key == key, "an audit trail is its key's", key);
  (void)readable(store.list_pending(key, now, 100), "list_pending");
}

void write_approval(p::approval_store& store, const std::string& key) {
  namespace t = m::error_type;
  writable(store.decide(m::decision::grant(key, 1, "fuzz"), now), "decide",
           {t::approval_conflict, t::invalid_argument});
  writable(store.create_approval(key, {}, "run:fuzz", now), "create_approval",
           {t::invalid_argument});
  writable(store.remove_approval(key), "remove_approval",
           {t::invalid_run_state});
}

void read_run(p::workflow_state_store& store, const std::string& run_id) {
  const auto found = readable(store.load(run_id), "load");
  if (found.is_ok() && found.value())
    require(found.value()->run_id == run_id,
            "a run read under an id is that id's", run_id);
  (void)readable(store.find_by_pending_approval(run_id),
                 "find_by_pending_approval");
}

void write_run(p::workflow_state_store& store, const std::string& run_id) {
  m::saved_workflow_state state;
  state.run_id = run_id;
  state.workflow_name = "fuzz";
  state.status = m::run_status::paused;
  state.pending_approvals = {"approval:fuzz"};
  writable(store.save(state), "save", {m::error_type::invalid_argument});
  writable(store.remove(run_id), "remove", {});
}

/// The whole-store reads, which visit every record of their database.
void read_everything(lmdb_fixture& f) {
  auto& a = f.approvals();
  (void)readable(a.list_pending("", now, 100), "list_pending");
  (void)readable(a.due_for_expiry(now, 100), "due_for_expiry");
  (void)readable(a.next_expiry(), "next_expiry");
  (void)readable(a.owed_wakes(100, {}), "owed_wakes");
  auto& r = f.runs();
  (void)readable(r.list({}), "list");
  (void)readable(r.list({.status = m::run_status::paused}), "list paused");
  (void)readable(r.list({.status = m::run_status::running}), "list running");
  (void)readable(r.list({.has_pending_approvals = true}), "list waiting");
  (void)readable(r.finished_before(now, 100), "finished_before");
  const auto due = readable(f.outbox().due(now, 100), "due");
  if (due.is_ok())
    for (const auto& entry : due.value())
      writable(f.outbox().retry_later(entry.id, entry.attempts + 1, now),
               "retry_later", {});
}

/// The names the stores may look the record up by: its key, the key with
/// the 8-byte sequence or deadline of compound keys cut off, and the run id
/// inside a checkpoint's key (a length byte before it, a number after), and
/// the approval or run a key of `records` names.
std::vector<std::string> subjects(std::string_view key) {
  std::vector<std::string> out{std::string{key},
                               std::string{d::owner_of_record(key)}};
  if (key.size() > 8) {
    out.emplace_back(key.substr(0, key.size() - 8));
    out.emplace_back(key.substr(8));
  }
  if (key.size() > 5)
    out.emplace_back(key.substr(1, key.size() - 5));
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  static lmdb_fixture f;
  signoff::fuzz::input_reader in{data, size};
  const auto pick = in.byte();
  const auto key = in.field();
  f.clear();
  if (!f.put_raw(pick, key, in.rest()))
    return 0;
  read_everything(f);
  const auto names = subjects(key);
  for (const auto& name : names) {
    read_approval(f.approvals(), name);
    read_run(f.runs(), name);
  }
  for (const auto& name : names) {
    write_approval(f.approvals(), name);
    write_run(f.runs(), name);
  }
  read_everything(f);
  return 0;
}
