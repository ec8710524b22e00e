#include "lmdb_stores.hpp"

#include "signoff/model/decision_rules.hpp"
#include "signoff/model/limits.hpp"

namespace signoff::persistence::detail {

namespace {

using model::time_point;

/// Keys an LMDB lookup can take; longer or empty ones are never stored.
bool storable(std::string_view key) {
  return !key.empty() && key.size() <= model::max_approval_key_bytes;
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
        if (auto stored = get(txn, db().approvals, key)) {
          auto existing = decode<model::approval_record>(*stored, key);
          if (existing.is_err())
            return existing.error();
          return created_approval{std::move(existing.value()), false};
        }
        append_audit(txn, key, "created", actor, now, spec.pending_reason, {});
        store(txn, fresh.value());
        return created_approval{fresh.value(), true};
      });
  }

  model::result<std::optional<model::approval_record>>
  find_approval(const std::string& key) const override {
    using found = std::optional<model::approval_record>;
    return env_->read<found>([&](MDB_txn* txn) -> model::result<found> {
      if (!storable(key))
        return found{};
      auto stored = get(txn, db().approvals, key);
      if (!stored)
        return found{};
      auto record = decode<model::approval_record>(*stored, key);
      if (record.is_err())
        return record.error();
      return found{std::move(record.value())};
    });
  }

  model::result<model::decision_outcome> decide(const model::decision& d,
                                                time_point now) override {
    return env_->write<model::decision_outcome>(
      [&](MDB_txn* txn) -> model::result<model::decision_outcome> {
        std::optional<model::approval_record> current;
        if (storable(d.key)) {
          if (auto stored = get(txn, db().approvals, d.key)) {
            auto record = decode<model::approval_record>(*stored, d.key);
            if (record.is_err())
              return record.error();
            current = std::move(record.value());
          }
        }
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
      if (!storable(key))
        return out;
      const auto length = audit_length(txn, key);
      for (std::uint64_t seq = 1; seq <= length; ++seq) {
        auto stored = get(txn, db().audit, key + be64(seq));
        if (!stored)
          continue;
        auto entry = decode<model::audit_entry>(*stored, "audit of " + key);
        if (entry.is_err())
          return entry.error();
        out.push_back(std::move(entry.value()));
      }
      return out;
    });
  }

  model::result<std::vector<std::string>>
  due_for_expiry(time_point now, std::size_t limit) const override {
    using keys = std::vector<std::string>;
    return env_->read<keys>([&](MDB_txn* txn) -> model::result<keys> {
      keys out;
      const auto due_until = static_cast<std::uint64_t>(model::to_millis(now));
      scan_from(txn, db().deadlines, {},
                [&](std::string_view k, std::string_view) {
                  if (out.size() >= limit || from_be64(k) > due_until)
                    return false;
                  out.emplace_back(k.substr(8));
                  return true;
                });
      return out;
    });
  }

  model::result<std::optional<time_point>> next_expiry() const override {
    using next = std::optional<time_point>;
    return env_->read<next>([&](MDB_txn* txn) -> model::result<next> {
      next out;
      scan_from(
        txn, db().deadlines, {}, [&](std::string_view k, std::string_view) {
          out = model::from_millis(static_cast<std::int64_t>(from_be64(k)));
          return false;
        });
      return out;
    });
  }

  model::result<bool> remove_approval(const std::string& key) override {
    return env_->write<bool>([&](MDB_txn* txn) -> model::result<bool> {
      if (!storable(key))
        return false;
      auto stored = get(txn, db().approvals, key);
      if (!stored)
        return false;
      auto record = decode<model::approval_record>(*stored, key);
      if (record.is_err())
        return record.error();
      if (record->status.is_pending())
        return model::make_error(model::error_type::invalid_run_state,
                                 "approval '" + key
                                   + "' is pending and cannot be removed");
      const auto length = audit_length(txn, key);
      for (std::uint64_t seq = 1; seq <= length; ++seq)
        del(txn, db().audit, key + be64(seq));
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
        if (storable(key))
          del(txn, db().wakes, key);
      return model::ok();
    });
  }

private:
  [[nodiscard]] const lmdb_dbs& db() const noexcept {
    return env_->db();
  }

  std::uint64_t audit_length(MDB_txn* txn, const std::string& key) const {
    auto stored = get(txn, db().audit_length, key);
    return stored ? from_be64(*stored) : 0;
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
