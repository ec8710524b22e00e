#include <algorithm>

#include "lmdb_journal.hpp"
#include "lmdb_records.hpp"
#include "lmdb_stores.hpp"
#include "signoff/model/limits.hpp"

namespace signoff::persistence::detail {

namespace {

using model::saved_workflow_state;

/// Runs in one LMDB environment: a small header per run, its input once,
/// and its checkpoints as a log, one record per step, so a pause writes
/// only what is new; all of them side by side in `records`. Indexes: runs by
/// pending approval and paused runs by workflow (both MDB_DUPSORT), running
/// runs (for recovery), finished runs by age (for cleanup).
class lmdb_workflow_state_store final : public workflow_state_store {
public:
  lmdb_workflow_state_store(std::shared_ptr<lmdb_env> env,
                            std::shared_ptr<lmdb_journal> journal)
      : env_(std::move(env)), journal_(std::move(journal)) {}

  model::result<void> apply(run_change change) override {
    if (auto valid = model::validate_run_identity(change.run); valid.is_err())
      return valid;
    write_batch batch;
    journal_->encode(change, batch);
    auto written = journal_->commit_one(batch);
    if (written.is_err() && written.error().is(model::error_type::stale_write))
      return model::make_error(model::error_type::invalid_argument,
                               "a run '" + change.run.run_id
                                 + "' exists already");
    return written;
  }

  model::result<void> save(const saved_workflow_state& state) override {
    if (auto valid = model::validate_run_identity(state); valid.is_err())
      return valid;
    return env_->write<void>([&](MDB_txn* txn) -> model::result<void> {
      auto previous = read_header(txn, state.run_id);
      if (previous.is_err())
        return previous.error();
      if (previous.value()) {
        unindex(txn, previous.value()->run);
        erase_log(txn, state.run_id);
      }
      put(txn, db().records, run_header_key(state.run_id),
          encode_run_header(
            state, static_cast<std::uint32_t>(state.checkpoints.size())));
      put(txn, db().records, run_inputs_key(state.run_id),
          encode_run_inputs(state));
      std::uint32_t number = 0;
      for (const auto& [key, saved] : state.checkpoints)
        put(txn, db().records, checkpoint_key(state.run_id, number++),
            encode_checkpoint(key, saved));
      index(txn, state);
      return model::ok();
    });
  }

  model::result<std::optional<saved_workflow_state>>
  load(const std::string& run_id) const override {
    using found = std::optional<saved_workflow_state>;
    return env_->read<found>(
      [&](MDB_txn* txn) { return read_run(txn, run_id); });
  }

  model::result<bool> remove(const std::string& run_id) override {
    return env_->write<bool>([&](MDB_txn* txn) -> model::result<bool> {
      auto previous = read_header(txn, run_id);
      if (previous.is_err())
        return previous.error();
      if (!previous.value())
        return false;
      unindex(txn, previous.value()->run);
      erase_log(txn, run_id);
      del(txn, db().records, run_inputs_key(run_id));
      del(txn, db().records, run_header_key(run_id));
      return true;
    });
  }

  model::result<std::vector<std::string>>
  list(const run_filter& filter) const override {
    using ids = std::vector<std::string>;
    if (filter.workflow_name)
      if (auto valid
          = check_key_length("a workflow name", *filter.workflow_name,
                             model::max_workflow_name_bytes);
          valid.is_err())
        return valid.error();
    return env_->read<ids>([&](MDB_txn* txn) -> model::result<ids> {
      ids out;
      const bool by_status_only = !filter.has_pending_approvals.has_value();
      if (by_status_only && filter.status == model::run_status::paused)
        paused_runs(txn, filter.workflow_name, out);
      else if (by_status_only && filter.status == model::run_status::running)
        running_runs(txn, filter.workflow_name, out);
      else if (auto scanned = scan_all(txn, filter, out); scanned.is_err())
        return scanned.error();
      std::sort(out.begin(), out.end());
      return out;
    });
  }

  model::result<std::vector<std::string>>
  find_by_pending_approval(const std::string& key) const override {
    using ids = std::vector<std::string>;
    return env_->read<ids>([&](MDB_txn* txn) -> model::result<ids> {
      ids out;
      if (auto valid = check_key_length("an approval key", key,
                                        model::max_approval_key_bytes);
          valid.is_err())
        return valid.error();
      if (key.empty())
        return out;
      scan_duplicates(txn, db().runs_by_pending, key,
                      [&](std::string_view id) { out.emplace_back(id); });
      return out;
    });
  }

  model::result<std::vector<std::string>>
  finished_before(model::time_point cutoff, std::size_t limit) const override {
    using ids = std::vector<std::string>;
    // The index keeps instants unsigned: nothing is stored before the epoch.
    if (cutoff <= model::time_point{})
      return ids{};
    const auto before = static_cast<std::uint64_t>(model::to_millis(cutoff));
    return env_->read<ids>([&](MDB_txn* txn) {
      return numbered_names(
        txn, db().finished, "finished", scan_order::lowest_first, limit,
        [before](std::uint64_t finished_at) { return finished_at < before; });
    });
  }

  model::result<std::optional<std::uint64_t>> count_paused() const override {
    using counted = std::optional<std::uint64_t>;
    // One duplicate per paused run, under its workflow's name.
    return env_->read<counted>([&](MDB_txn* txn) -> model::result<counted> {
      return counted{entry_count(txn, db().paused_by_name)};
    });
  }

private:
  [[nodiscard]] const lmdb_dbs& db() const noexcept {
    return env_->db();
  }

  model::result<std::optional<run_header>>
  read_header(MDB_txn* txn, const std::string& run_id) const {
    using found = std::optional<run_header>;
    if (auto valid
        = check_key_length("a run id", run_id, model::max_run_id_bytes);
        valid.is_err())
      return valid.error();
    if (run_id.empty())
      return found{};
    auto stored = get(txn, db().records, run_header_key(run_id));
    if (!stored)
      return found{};
    auto header = decode_run_header(run_id, *stored);
    if (header.is_err())
      return header.error();
    return found{std::move(header.value())};
  }

  /// The whole run: its header, input and checkpoint log. A log that does
  /// not hold exactly the checkpoints its header counts is corrupt.
  model::result<std::optional<saved_workflow_state>>
  read_run(MDB_txn* txn, const std::string& run_id) const {
    using found = std::optional<saved_workflow_state>;
    auto header = read_header(txn, run_id);
    if (header.is_err())
      return header.error();
    if (!header.value())
      return found{};
    auto& run = header.value()->run;
    auto inputs = get(txn, db().records, run_inputs_key(run_id));
    if (!inputs)
      return corrupt_record("input of run " + run_id);
    if (auto read = decode_run_inputs(*inputs, run); read.is_err())
      return read.error();
    std::uint32_t seen = 0;
    model::result<void> failed;
    const auto prefix = checkpoint_prefix(run_id);
    scan_from(txn, db().records, prefix,
              [&](std::string_view k, std::string_view bytes) {
                if (!k.starts_with(prefix)
                    || seen >= header.value()->checkpoints)
                  return false;
                if (k != checkpoint_key(run_id, seen)) {
                  failed = corrupt_index("checkpoints");
                  return false;
                }
                ++seen;
                failed = decode_checkpoint(bytes, run);
                return failed.is_ok();
              });
    if (failed.is_err())
      return failed.error();
    if (seen != header.value()->checkpoints)
      return corrupt_index("checkpoints");
    return found{std::move(run)};
  }

  /// Deletes the checkpoint log of `run_id`.
  void erase_log(MDB_txn* txn, const std::string& run_id) {
    std::vector<std::string> keys;
    const auto prefix = checkpoint_prefix(run_id);
    scan_from(txn, db().records, prefix,
              [&](std::string_view k, std::string_view) {
                if (!k.starts_with(prefix))
                  return false;
                keys.emplace_back(k);
                return true;
              });
    for (const auto& k : keys)
      del(txn, db().records, k);
  }

  void index(MDB_txn* txn, const saved_workflow_state& s) {
    for (const auto& key : s.pending_approvals)
      put(txn, db().runs_by_pending, key, s.run_id);
    if (s.status == model::run_status::paused)
      put(txn, db().paused_by_name, name_key(s.workflow_name), s.run_id);
    if (s.status == model::run_status::running)
      put(txn, db().running, s.run_id, s.workflow_name);
    if (model::is_finished(s.status))
      put(txn, db().finished, finished_key(s), {});
  }

  void unindex(MDB_txn* txn, const saved_workflow_state& s) {
    for (const auto& key : s.pending_approvals)
      del(txn, db().runs_by_pending, key, s.run_id);
    if (s.status == model::run_status::paused)
      del(txn, db().paused_by_name, name_key(s.workflow_name), s.run_id);
    if (s.status == model::run_status::running)
      del(txn, db().running, s.run_id);
    if (model::is_finished(s.status))
      del(txn, db().finished, finished_key(s));
  }

  void paused_runs(MDB_txn* txn, const std::optional<std::string>& name,
                   std::vector<std::string>& out) const {
    if (name) {
      scan_duplicates(txn, db().paused_by_name, name_key(*name),
                      [&](std::string_view id) { out.emplace_back(id); });
      return;
    }
    scan_from(txn, db().paused_by_name, {},
              [&](std::string_view, std::string_view id) {
                out.emplace_back(id);
                return true;
              });
  }

  void running_runs(MDB_txn* txn, const std::optional<std::string>& name,
                    std::vector<std::string>& out) const {
    scan_from(txn, db().running, {},
              [&](std::string_view id, std::string_view workflow) {
                if (!name || workflow == *name)
                  out.emplace_back(id);
                return true;
              });
  }

  /// Filters with no index decode every run: for listings, never on a hot
  /// path.
  model::result<void> scan_all(MDB_txn* txn, const run_filter& filter,
                               std::vector<std::string>& out) const {
    model::result<void> failed;
    scan_from(
      txn, db().records, runs_prefix(),
      [&](std::string_view k, std::string_view bytes) {
        if (!k.starts_with(runs_prefix()))
          return false;
        const auto id = run_id_of_header(k);
        if (!id)
          return true;
        auto header = decode_run_header(*id, bytes);
        if (header.is_err()) {
          failed = header.error();
          return false;
        }
        const auto* s = &header->run;
        if ((!filter.workflow_name || s->workflow_name == *filter.workflow_name)
            && (!filter.status || s->status == *filter.status)
            && (!filter.has_pending_approvals
                || *filter.has_pending_approvals
                     == !s->pending_approvals.empty()))
          out.emplace_back(*id);
        return true;
      });
    return failed;
  }

  std::shared_ptr<lmdb_env> env_;
  std::shared_ptr<lmdb_journal> journal_;
};

} // namespace

std::shared_ptr<workflow_state_store>
make_lmdb_workflow_state_store(std::shared_ptr<lmdb_env> env,
                               std::shared_ptr<lmdb_journal> journal) {
  return std::make_shared<lmdb_workflow_state_store>(std::move(env),
                                                     std::move(journal));
}

} // namespace signoff::persistence::detail
