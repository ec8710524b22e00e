#include "lmdb_journal.hpp"
#include "lmdb_records.hpp"
#include "lmdb_stores.hpp"
#include "signoff/model/limits.hpp"

namespace signoff::persistence::detail {

namespace {

using model::time_point;

/// INVALID_ARGUMENT for a key longer than any approval's. (An empty key,
/// which LMDB cannot store either, reads as missing in every store.)
model::result<void> check_length(std::string_view key) {
  return check_key_length("an approval key", key,
                          model::max_approval_key_bytes);
}

/// Approvals and their indexes in one LMDB environment. Every change is
/// written by the journal in one transaction, refused if the record's
/// revision moved since it was read.
class lmdb_approval_store final : public approval_store {
public:
  lmdb_approval_store(std::shared_ptr<lmdb_env> env,
                      std::shared_ptr<lmdb_journal> journal)
      : env_(std::move(env)), journal_(std::move(journal)) {}

  model::result<void> apply(approval_change change) override {
    write_batch batch;
    journal_->encode(change, batch);
    return journal_->commit_one(batch);
  }

  model::result<std::optional<model::approval_record>>
  find_approval(const std::string& key) const override {
    using found = std::optional<model::approval_record>;
    return env_->read<found>(
      [&](MDB_txn* txn) { return read_record(txn, key); });
  }

  model::result<std::vector<std::string>>
  list_pending(std::string_view prefix, time_point now,
               std::size_t limit) const override {
    using keys = std::vector<std::string>;
    return env_->read<keys>([&](MDB_txn* txn) -> model::result<keys> {
      keys out;
      // No key starts with a prefix longer than every key: nothing to
      // refuse, the answer is simply none.
      if (prefix.size() > model::max_approval_key_bytes)
        return out;
      scan_from(txn, db().pending, prefix,
                [&](std::string_view key, std::string_view deadline) {
                  if (out.size() >= limit || !key.starts_with(prefix))
                    return false;
                  if (deadline.empty()
                      || now < model::from_millis(
                           static_cast<std::int64_t>(from_be64(deadline))))
                    out.emplace_back(key);
                  return true;
                });
      return out;
    });
  }

  model::result<std::vector<std::string>>
  list_decided(time_point since, std::size_t limit) const override {
    using keys = std::vector<std::string>;
    const auto first = static_cast<std::uint64_t>(model::to_millis(since));
    return env_->read<keys>([&](MDB_txn* txn) {
      return numbered_names(
        txn, db().decided, "decided", scan_order::highest_first, limit,
        [first](std::uint64_t decided_at) { return decided_at >= first; });
    });
  }

  model::result<std::vector<model::audit_entry>>
  audit_trail(const std::string& key) const override {
    using trail = std::vector<model::audit_entry>;
    return env_->read<trail>([&](MDB_txn* txn) -> model::result<trail> {
      trail out;
      if (auto valid = check_length(key); valid.is_err())
        return valid.error();
      if (key.empty())
        return out;
      auto read = scan_audit(
        txn, key,
        [&](std::string_view, std::string_view bytes) -> model::result<void> {
          auto entry = decode<model::audit_entry>(bytes, "audit of " + key);
          if (entry.is_err())
            return entry.error();
          out.push_back(std::move(entry.value()));
          return model::ok();
        });
      if (read.is_err())
        return read.error();
      return out;
    });
  }

  model::result<std::vector<std::string>>
  due_for_expiry(time_point now, std::size_t limit) const override {
    using keys = std::vector<std::string>;
    const auto due_until = static_cast<std::uint64_t>(model::to_millis(now));
    return env_->read<keys>([&](MDB_txn* txn) {
      return numbered_names(
        txn, db().deadlines, "deadlines", scan_order::lowest_first, limit,
        [due_until](std::uint64_t due) { return due <= due_until; });
    });
  }

  model::result<std::optional<time_point>> next_expiry() const override {
    using next = std::optional<time_point>;
    return env_->read<next>([&](MDB_txn* txn) -> model::result<next> {
      auto first = first_key(txn, db().deadlines);
      if (!first)
        return next{};
      auto entry = split_numbered_key(*first);
      if (!entry)
        return corrupt_index("deadlines");
      return next{model::from_millis(static_cast<std::int64_t>(entry->number))};
    });
  }

  model::result<std::optional<std::uint64_t>> count_pending() const override {
    using counted = std::optional<std::uint64_t>;
    return env_->read<counted>([&](MDB_txn* txn) -> model::result<counted> {
      return counted{entry_count(txn, db().pending)};
    });
  }

  model::result<bool> remove_approval(const std::string& key) override {
    return env_->write<bool>([&](MDB_txn* txn) -> model::result<bool> {
      auto record = read_record(txn, key);
      if (record.is_err())
        return record.error();
      if (!record.value())
        return false;
      if (record.value()->status.is_pending())
        return model::make_error(model::error_type::invalid_run_state,
                                 "approval '" + key
                                   + "' is pending and cannot be removed");
      std::vector<std::string> entries;
      auto read = scan_audit(txn, key,
                             [&](std::string_view entry_key,
                                 std::string_view) -> model::result<void> {
                               entries.emplace_back(entry_key);
                               return model::ok();
                             });
      if (read.is_err())
        return read.error();
      for (const auto& entry_key : entries)
        del(txn, db().records, entry_key);
      if (auto decided = decided_key(*record.value()))
        del(txn, db().decided, *decided);
      del(txn, db().records, approval_record_key(key));
      del(txn, db().wakes, key);
      return true;
    });
  }

  model::result<std::vector<std::string>>
  owed_wakes(std::size_t limit, const std::string& after) const override {
    using keys = std::vector<std::string>;
    return env_->read<keys>([&](MDB_txn* txn) -> model::result<keys> {
      keys out;
      scan_from(txn, db().wakes, after,
                [&](std::string_view key, std::string_view) {
                  if (key == after)
                    return true;
                  if (out.size() >= limit)
                    return false;
                  out.emplace_back(key);
                  return true;
                });
      return out;
    });
  }

  model::result<void>
  wakes_done(const std::vector<std::string>& keys) override {
    return env_->write<void>([&](MDB_txn* txn) -> model::result<void> {
      for (const auto& key : keys)
        if (!key.empty() && check_length(key).is_ok())
          del(txn, db().wakes, key);
      return model::ok();
    });
  }

private:
  [[nodiscard]] const lmdb_dbs& db() const noexcept {
    return env_->db();
  }

  /// The record under `key`, or nothing; one that names another key is
  /// corrupt (deciding it would write over that key's record).
  model::result<std::optional<model::approval_record>>
  read_record(MDB_txn* txn, const std::string& key) const {
    using found = std::optional<model::approval_record>;
    if (auto valid = check_length(key); valid.is_err())
      return valid.error();
    if (key.empty())
      return found{};
    auto stored = get(txn, db().records, approval_record_key(key));
    if (!stored)
      return found{};
    auto record = decode_approval(key, *stored);
    if (record.is_err())
      return record.error();
    return found{std::move(record.value())};
  }

  /// The length of `key`'s trail: its record's revision (0 without a
  /// record); unknown when the record is corrupt, whose trail still reads.
  std::optional<std::uint64_t> audit_length(MDB_txn* txn,
                                            const std::string& key) const {
    auto stored = get(txn, db().records, approval_record_key(key));
    if (!stored)
      return 0;
    if (stored->size() <= 8 || (*stored)[8] != '{')
      return std::nullopt;
    return stored_revision(*stored);
  }

  /// Calls `visit(entry key, bytes)` for the audit entries of `key` in
  /// order, stopping at its first error. Walks the entries stored rather
  /// than counting to the record's revision, so a corrupt revision cannot
  /// make it look up billions of missing entries; the entries must be
  /// exactly 1 to that revision, or the trail is corrupt.
  model::result<void> scan_audit(
    MDB_txn* txn, const std::string& key,
    const std::function<model::result<void>(std::string_view,
                                            std::string_view)>& visit) const {
    const auto length = audit_length(txn, key);
    if (length == 0)
      return model::ok();
    const auto last = length.value_or(UINT64_MAX);
    std::uint64_t seen = 0;
    model::result<void> out;
    const auto prefix = audit_prefix(key);
    scan_from(txn, db().records, prefix,
              [&](std::string_view k, std::string_view bytes) {
                if (!k.starts_with(prefix))
                  return false;
                if (k.size() != prefix.size() + 8
                    || from_be64(k.substr(prefix.size())) != seen + 1) {
                  out = corrupt_index("audit");
                  return false;
                }
                ++seen;
                out = visit(k, bytes);
                return out.is_ok() && seen < last;
              });
    if (out.is_ok() && length && seen != *length)
      return corrupt_index("audit");
    return out;
  }

  std::shared_ptr<lmdb_env> env_;
  std::shared_ptr<lmdb_journal> journal_;
};

} // namespace

std::shared_ptr<approval_store>
make_lmdb_approval_store(std::shared_ptr<lmdb_env> env,
                         std::shared_ptr<lmdb_journal> journal) {
  return std::make_shared<lmdb_approval_store>(std::move(env),
                                               std::move(journal));
}

} // namespace signoff::persistence::detail
