#include "lmdb_stores.hpp"

#include "signoff/model/decision_rules.hpp"
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

std::string deadline_key(time_point deadline, std::string_view key) {
  auto k = be64(static_cast<std::uint64_t>(model::to_millis(deadline)));
  k += key;
  return k;
}

/// Approvals and their indexes in one LMDB environment. Every transition
/// is one write transaction that re-reads the record, applies the shared
/// decision rules and writes record, indexes and audit entry together.
class lmdb_approval_store final : public approval_store {
public:
  explicit lmdb_approval_store(std::shared_ptr<lmdb_env> env)
      : env_(std::move(env)) {}

  model::result<created_approval>
  create_approval(const std::string& key, const model::approval_spec& spec,
                  const std::string& actor, time_point now) override {
    auto fresh = model::new_approval(key, spec, now);
    if (fresh.is_err())
      return fresh.error();
    return env_->write<created_approval>(
      [&](MDB_txn* txn) -> model::result<created_approval> {
        auto existing = read_record(txn, key);
        if (existing.is_err())
          return existing.error();
        if (existing.value())
          return created_approval{std::move(*existing.value()), false};
        append_audit(txn, key, "created", actor, now, spec.pending_reason, {});
        store(txn, fresh.value());
        return created_approval{fresh.value(), true};
      });
  }

  model::result<std::optional<model::approval_record>>
  find_approval(const std::string& key) const override {
    using found = std::optional<model::approval_record>;
    return env_->read<found>(
      [&](MDB_txn* txn) { return read_record(txn, key); });
  }

  model::result<model::decision_outcome> decide(const model::decision& d,
                                                time_point now) override {
    return env_->write<model::decision_outcome>(
      [&](MDB_txn* txn) -> model::result<model::decision_outcome> {
        auto stored = read_record(txn, d.key);
        if (stored.is_err())
          return stored.error();
        const auto& current = stored.value();
        auto transition
          = model::apply_decision(current ? &*current : nullptr, d, now);
        if (transition.is_err())
          return transition.error();
        auto& t = transition.value();
        if (!t.applied)
          return model::decision_outcome{std::move(t.record), false};
        if (current)
          unindex(txn, *current);
        else
          append_audit(txn, d.key, "created", d.actor, now, {}, {});
        const auto& status = t.record.status;
        append_audit(txn, d.key, t.audit_action,
                     status.is_pending() ? d.actor : status.decided_by, now,
                     d.reason, d.value);
        store(txn, t.record);
        if (!status.is_pending())
          put(txn, db().wakes, d.key, {});
        return model::decision_outcome{std::move(t.record), true};
      });
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
    return env_->read<keys>([&](MDB_txn* txn) -> model::result<keys> {
      keys out;
      model::result<void> failed;
      const auto due_until = static_cast<std::uint64_t>(model::to_millis(now));
      scan_from(txn, db().deadlines, {},
                [&](std::string_view k, std::string_view) {
                  auto entry = split_numbered_key(k);
                  if (!entry) {
                    failed = corrupt_index("deadlines");
                    return false;
                  }
                  if (out.size() >= limit || entry->number > due_until)
                    return false;
                  out.emplace_back(entry->name);
                  return true;
                });
      if (failed.is_err())
        return failed.error();
      return out;
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
        del(txn, db().audit, entry_key);
      del(txn, db().audit_length, key);
      del(txn, db().approvals, key);
      del(txn, db().wakes, key);
      return true;
    });
  }

  model::result<std::vector<std::string>>
  owed_wakes(std::size_t limit) const override {
    using keys = std::vector<std::string>;
    return env_->read<keys>([&](MDB_txn* txn) -> model::result<keys> {
      keys out;
      scan_from(txn, db().wakes, {},
                [&](std::string_view key, std::string_view) {
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
    auto stored = get(txn, db().approvals, key);
    if (!stored)
      return found{};
    auto record = decode<model::approval_record>(*stored, key);
    if (record.is_err())
      return record.error();
    if (record->key != key)
      return corrupt_record(key);
    return found{std::move(record.value())};
  }

  std::uint64_t audit_length(MDB_txn* txn, const std::string& key) const {
    auto stored = get(txn, db().audit_length, key);
    return stored ? from_be64(*stored) : 0;
  }

  /// Calls `visit(entry key, bytes)` for the audit entries of `key` in
  /// order, stopping at its first error. Walks the entries stored rather
  /// than counting to the stored length, so a corrupt length cannot make it
  /// look up billions of missing entries; the entries must be exactly 1 to
  /// that length, or the trail is corrupt.
  model::result<void> scan_audit(
    MDB_txn* txn, const std::string& key,
    const std::function<model::result<void>(std::string_view,
                                            std::string_view)>& visit) const {
    const auto length = audit_length(txn, key);
    if (length == 0)
      return model::ok();
    std::uint64_t seen = 0;
    model::result<void> out;
    scan_from(txn, db().audit, key + be64(1),
              [&](std::string_view k, std::string_view bytes) {
                if (!k.starts_with(key))
                  return false;
                if (k.size() != key.size() + 8)
                  return true; // a longer key's entry
                if (from_be64(k.substr(key.size())) != seen + 1) {
                  out = corrupt_index("audit");
                  return false;
                }
                ++seen;
                out = visit(k, bytes);
                return out.is_ok() && seen < length;
              });
    if (out.is_ok() && seen != length)
      return corrupt_index("audit_length");
    return out;
  }

  void append_audit(MDB_txn* txn, const std::string& key, std::string action,
                    const std::string& actor, time_point now,
                    const std::string& reason, boost::json::value value) {
    const auto seq = audit_length(txn, key) + 1;
    model::audit_entry entry{key, seq,    std::move(action), actor,
                             now, reason, std::move(value)};
    put(txn, db().audit, key + be64(seq), encode(entry));
    put(txn, db().audit_length, key, be64(seq));
  }

  void store(MDB_txn* txn, const model::approval_record& r) {
    put(txn, db().approvals, r.key, encode(r));
    if (!r.status.is_pending())
      return;
    const auto& deadline = r.spec.expires_at;
    put(txn, db().pending, r.key,
        deadline ? be64(static_cast<std::uint64_t>(model::to_millis(*deadline)))
                 : std::string{});
    if (deadline)
      put(txn, db().deadlines, deadline_key(*deadline, r.key), {});
  }

  void unindex(MDB_txn* txn, const model::approval_record& r) {
    del(txn, db().pending, r.key);
    if (r.spec.expires_at)
      del(txn, db().deadlines, deadline_key(*r.spec.expires_at, r.key));
  }

  std::shared_ptr<lmdb_env> env_;
};

} // namespace

std::shared_ptr<approval_store>
make_lmdb_approval_store(std::shared_ptr<lmdb_env> env) {
  return std::make_shared<lmdb_approval_store>(std::move(env));
}

} // namespace signoff::persistence::detail
