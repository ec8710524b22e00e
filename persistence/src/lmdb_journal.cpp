#include "lmdb_journal.hpp"

#include <algorithm>
#include <optional>

#include "lmdb_records.hpp"
#include "lmdb_stores.hpp"

namespace signoff::persistence::detail {

namespace {

enum class op : std::uint8_t {
  /// Stores the value under the key (adds a duplicate in a DUPSORT table).
  put,
  /// Deletes the key (every duplicate).
  erase,
  /// Deletes the one duplicate that equals the value.
  erase_dup,
  /// Fails the batch with STALE_WRITE unless the stored value starts with
  /// the op's value; an empty value means the key must be absent.
  expect,
  /// Appends the event (JSON text) to the outbox under the next event id;
  /// the key holds when it is due (8 bytes).
  append_event,
};

enum class table : std::uint8_t {
  records,
  pending,
  deadlines,
  runs_by_pending,
  paused_by_name,
  running,
  finished,
  wakes,
  decided,
};

MDB_dbi dbi_of(const lmdb_dbs& dbs, table t) {
  switch (t) {
    case table::records:
      return dbs.records;
    case table::pending:
      return dbs.pending;
    case table::deadlines:
      return dbs.deadlines;
    case table::runs_by_pending:
      return dbs.runs_by_pending;
    case table::paused_by_name:
      return dbs.paused_by_name;
    case table::running:
      return dbs.running;
    case table::finished:
      return dbs.finished;
    case table::wakes:
      return dbs.wakes;
    case table::decided:
      break;
  }
  return dbs.decided;
}

void add(write_batch& out, op kind, table t, std::string key,
         std::string value = {}) {
  out.ops.push_back({static_cast<std::uint8_t>(kind),
                     static_cast<std::uint8_t>(t), std::move(key),
                     std::move(value)});
}

void index_approval(write_batch& out, const model::approval_record& r) {
  if (!r.status.is_pending()) {
    // Written again by a later change (a comment): the same key.
    if (auto decided = decided_key(r))
      add(out, op::put, table::decided, std::move(*decided));
    return;
  }
  add(out, op::put, table::pending, r.key, pending_value(r));
  if (const auto due = r.next_due())
    add(out, op::put, table::deadlines, deadline_key(*due, r.key));
}

void unindex_approval(write_batch& out, const std::string& key,
                      const approval_index& before) {
  if (!before.pending)
    return;
  add(out, op::erase, table::pending, key);
  if (before.next_due)
    add(out, op::erase, table::deadlines, deadline_key(*before.next_due, key));
}

void index_run(write_batch& out, const std::string& run_id,
               const std::string& workflow_name, const run_index& i) {
  for (const auto& key : i.pending_approvals)
    add(out, op::put, table::runs_by_pending, key, run_id);
  if (i.status == model::run_status::paused)
    add(out, op::put, table::paused_by_name, name_key(workflow_name), run_id);
  if (i.status == model::run_status::running)
    add(out, op::put, table::running, run_id, workflow_name);
  if (model::is_finished(i.status))
    add(out, op::put, table::finished, finished_key(i.updated_at, run_id));
}

void unindex_run(write_batch& out, const std::string& run_id,
                 const std::string& workflow_name, const run_index& i) {
  for (const auto& key : i.pending_approvals)
    add(out, op::erase_dup, table::runs_by_pending, key, run_id);
  if (i.status == model::run_status::paused)
    add(out, op::erase_dup, table::paused_by_name, name_key(workflow_name),
        run_id);
  if (i.status == model::run_status::running)
    add(out, op::erase, table::running, run_id);
  if (model::is_finished(i.status))
    add(out, op::erase, table::finished, finished_key(i.updated_at, run_id));
}

/// The next event id: one more than any ever handed out in this directory
/// (kept in meta, so ids never repeat even once the outbox is empty).
std::uint64_t next_event_id(MDB_txn* txn, const lmdb_dbs& dbs) {
  auto last = get(txn, dbs.meta, "last_event_id");
  auto id = (last ? from_be64(*last) : 0) + 1;
  put(txn, dbs.meta, "last_event_id", be64(id));
  return id;
}

model::error stale(std::string_view key) {
  return model::make_error(model::error_type::stale_write,
                           "'" + std::string{key}
                             + "' changed since it was read");
}

/// Checks an `expect` op against what `txn` holds.
model::result<void> check_expect(MDB_txn* txn, MDB_dbi dbi, const write_op& o) {
  auto stored = get(txn, dbi, o.key);
  if (o.value.empty() ? stored.has_value()
                      : !stored || !stored->starts_with(o.value))
    return stale(owner_of_record(o.key));
  return model::ok();
}

/// Applies the ops of `batch` from the `from`th on inside `txn`; an error
/// leaves the caller to abort.
model::result<void> apply_ops(MDB_txn* txn, const lmdb_dbs& dbs,
                              const write_batch& batch, std::size_t from = 0) {
  for (auto i = from; i < batch.ops.size(); ++i) {
    const auto& o = batch.ops[i];
    const auto dbi = dbi_of(dbs, static_cast<table>(o.table));
    switch (static_cast<op>(o.kind)) {
      case op::put:
        put(txn, dbi, o.key, o.value);
        break;
      case op::erase:
        del(txn, dbi, o.key);
        break;
      case op::erase_dup:
        del(txn, dbi, o.key, o.value);
        break;
      case op::expect:
        if (auto holds = check_expect(txn, dbi, o); holds.is_err())
          return holds;
        break;
      case op::append_event: {
        const auto id = next_event_id(txn, dbs);
        const auto due = static_cast<std::int64_t>(from_be64(o.key));
        put(txn, dbs.outbox, be64(id),
            R"({"event":)" + o.value + R"(,"attempts":0,"nextAttempt":)"
              + std::to_string(due) + "}");
        break;
      }
    }
  }
  return model::ok();
}

/// Runs `batch` in a transaction nested in `parent`: committed into it, or
/// rolled back alone with the batch's error. A full map unwinds to the
/// outer transaction, which grows the map and tries every batch again.
model::result<void> apply_nested(MDB_env* env, MDB_txn* parent,
                                 const lmdb_dbs& dbs,
                                 const write_batch& batch) {
  MDB_txn* child = nullptr;
  if (int rc = mdb_txn_begin(env, parent, 0, &child); rc != MDB_SUCCESS)
    throw lmdb_failure{rc};
  model::result<void> out;
  try {
    out = apply_ops(child, dbs, batch);
  } catch (const lmdb_failure& failure) {
    mdb_txn_abort(child);
    if (failure.code == MDB_MAP_FULL)
      throw;
    if (failure.code == MDB_BAD_VALSIZE)
      return model::make_error(model::error_type::invalid_argument,
                               "a key or value is too large for LMDB");
    return lmdb_error(failure.code, "writing a record");
  }
  if (out.is_err()) {
    mdb_txn_abort(child);
    return out;
  }
  if (int rc = mdb_txn_commit(child); rc != MDB_SUCCESS)
    throw lmdb_failure{rc};
  return out;
}

/// The number of `expect` ops `batch` starts with, if it has no other:
/// then it can be checked before anything of it is written.
std::optional<std::size_t> leading_expects(const write_batch& batch) {
  const auto is_expect = [](const write_op& o) {
    return static_cast<op>(o.kind) == op::expect;
  };
  const auto first_write
    = std::find_if_not(batch.ops.begin(), batch.ops.end(), is_expect);
  if (std::any_of(first_write, batch.ops.end(), is_expect))
    return std::nullopt;
  return static_cast<std::size_t>(first_write - batch.ops.begin());
}

/// Applies `batch` straight into `txn` once its expectations hold (else
/// answers their STALE_WRITE, having written nothing): no nested
/// transaction, whose every page touched is a copy of its parent's. None
/// if a write failed halfway: `txn` then holds part of the batch and must
/// be aborted. A full map unwinds as in `apply_nested`.
std::optional<model::result<void>> apply_in_place(MDB_txn* txn,
                                                  const lmdb_dbs& dbs,
                                                  const write_batch& batch,
                                                  std::size_t expects) {
  for (std::size_t i = 0; i < expects; ++i) {
    const auto& o = batch.ops[i];
    try {
      if (auto holds
          = check_expect(txn, dbi_of(dbs, static_cast<table>(o.table)), o);
          holds.is_err())
        return holds;
    } catch (const lmdb_failure& failure) {
      // Nothing of the batch is written yet: it fails alone.
      return lmdb_error(failure.code, "reading a record");
    }
  }
  try {
    return apply_ops(txn, dbs, batch, expects);
  } catch (const lmdb_failure& failure) {
    if (failure.code == MDB_MAP_FULL)
      throw;
    return std::nullopt;
  }
}

} // namespace

lmdb_journal::lmdb_journal(std::shared_ptr<lmdb_env> env)
    : env_(std::move(env)) {}

void lmdb_journal::encode(const approval_change& change,
                          write_batch& out) const {
  const auto& after = change.after;
  // Room for every op below at once (a bound; growing one op at a time
  // cost five allocations per batch).
  out.ops.reserve(out.ops.size() + 8 + change.audit.size()
                  + change.events.size());
  auto record_key = approval_record_key(after.key);
  add(out, op::expect, table::records, record_key,
      change.before ? be64(change.before->revision) : std::string{});
  if (change.before)
    unindex_approval(out, after.key, *change.before);
  add(out, op::put, table::records, std::move(record_key),
      encode_approval(after));
  index_approval(out, after);
  for (const auto& entry : change.audit) {
    std::string text;
    model::append_json(text, entry);
    add(out, op::put, table::records, audit_key(after.key, entry.sequence),
        std::move(text));
  }
  for (const auto& event : change.events) {
    const auto* at
      = event.is_object() ? event.as_object().if_contains("at") : nullptr;
    const auto due = at != nullptr && at->is_int64() ? at->get_int64() : 0;
    add(out, op::append_event, table::wakes,
        be64(static_cast<std::uint64_t>(due)), boost::json::serialize(event));
  }
  if (change.owe_wake)
    add(out, op::put, table::wakes, after.key);
}

void lmdb_journal::encode(const run_change& change, write_batch& out) const {
  const auto& run = change.run;
  const auto count = change.checkpoints_before
                     + static_cast<std::uint32_t>(run.checkpoints.size());
  // Room for every op below at once, as for an approval's change.
  out.ops.reserve(out.ops.size() + 6 + change.before.pending_approvals.size()
                  + run.pending_approvals.size() + run.checkpoints.size());
  auto header_key = run_header_key(run.run_id);
  if (change.created) {
    add(out, op::expect, table::records, header_key);
    add(out, op::put, table::records, run_inputs_key(run.run_id),
        encode_run_inputs(run));
  } else {
    unindex_run(out, run.run_id, run.workflow_name, change.before);
  }
  add(out, op::put, table::records, std::move(header_key),
      encode_run_header(run, count));
  auto number = change.checkpoints_before;
  for (const auto& [key, saved] : run.checkpoints)
    add(out, op::put, table::records, checkpoint_key(run.run_id, number++),
        encode_checkpoint(key, saved));
  index_run(out, run.run_id, run.workflow_name, run_index::of(run));
}

void lmdb_journal::encode_wakes_settled(const std::vector<std::string>& keys,
                                        write_batch& out) const {
  for (const auto& key : keys)
    if (storable_approval_key(key))
      add(out, op::erase, table::wakes, key);
}

std::vector<model::result<void>>
lmdb_journal::commit(std::span<const write_batch> batches) {
  using results = std::vector<model::result<void>>;
  // Batches whose checks all come first go straight into the transaction.
  // One whose write fails halfway (LMDB refused a record) spoils it: the
  // commit is made again with every batch nested, where it fails alone.
  bool spoiled = false;
  const auto attempt = [&](bool all_nested) {
    return env_->write<results>([&](MDB_txn* txn) -> model::result<results> {
      results out;
      out.reserve(batches.size());
      for (const auto& batch : batches) {
        const auto expects = leading_expects(batch);
        if (all_nested || !expects) {
          out.push_back(apply_nested(env_->handle(), txn, env_->db(), batch));
          continue;
        }
        auto applied = apply_in_place(txn, env_->db(), batch, *expects);
        if (!applied) {
          spoiled = true;
          return lmdb_error(MDB_BAD_TXN, "a batch failed halfway");
        }
        out.push_back(std::move(*applied));
      }
      return out;
    });
  };
  auto committed = attempt(false);
  if (spoiled)
    committed = attempt(true);
  if (committed.is_err())
    return results(batches.size(), committed.error());
  return std::move(committed.value());
}

model::result<void> lmdb_journal::commit_one(const write_batch& batch) {
  return std::move(commit({&batch, 1}).front());
}

std::uint64_t lmdb_journal::commit_count() const noexcept {
  return env_->commits();
}

} // namespace signoff::persistence::detail
