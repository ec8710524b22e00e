#include "lmdb_stores.hpp"

#include <algorithm>

namespace signoff::persistence::detail {

namespace {

/// The last id given to an entry (8 bytes, big-endian) in the meta
/// database: ids are never given twice, even once the outbox is empty.
constexpr std::string_view last_id_key = "outbox_last_id";

/// Entries under an 8-byte big-endian id, so a cursor walks them oldest
/// first.
class lmdb_outbox final : public outbox {
public:
  explicit lmdb_outbox(std::shared_ptr<lmdb_env> env) : env_(std::move(env)) {}

  model::result<void> append(const boost::json::value& event,
                             model::time_point now) override {
    return env_->write<void>([&](MDB_txn* txn) -> model::result<void> {
      const auto counted = get(txn, db().meta, last_id_key);
      if (counted && counted->size() != 8)
        return corrupt_record("outbox last id");
      // A directory from before the counter has only its last entry's.
      const auto last = last_key(txn, db().outbox);
      const auto id = std::max(counted ? from_be64(*counted) : 0,
                               last ? from_be64(*last) : 0)
                      + 1;
      put(txn, db().meta, last_id_key, be64(id));
      store(txn, {id, event, 0, now});
      return model::ok();
    });
  }

  model::result<std::vector<outbox_entry>>
  due(model::time_point now, std::size_t limit) const override {
    using entries = std::vector<outbox_entry>;
    return env_->read<entries>([&](MDB_txn* txn) -> model::result<entries> {
      entries out;
      model::result<void> failed;
      scan_from(txn, db().outbox, {},
                [&](std::string_view k, std::string_view bytes) {
                  auto entry = read(k, bytes);
                  if (entry.is_err()) {
                    failed = entry.error();
                    return false;
                  }
                  if (entry->next_attempt <= now)
                    out.push_back(std::move(entry.value()));
                  return out.size() < limit;
                });
      if (failed.is_err())
        return failed.error();
      return out;
    });
  }

  model::result<void> remove(std::uint64_t id) override {
    return env_->write<void>([&](MDB_txn* txn) -> model::result<void> {
      del(txn, db().outbox, be64(id));
      return model::ok();
    });
  }

  model::result<void> retry_later(std::uint64_t id, std::uint32_t attempts,
                                  model::time_point at) override {
    return env_->write<void>([&](MDB_txn* txn) -> model::result<void> {
      auto stored = get(txn, db().outbox, be64(id));
      if (!stored)
        return model::ok();
      auto entry = read(be64(id), *stored);
      if (entry.is_err())
        return entry.error();
      entry->attempts = attempts;
      entry->next_attempt = at;
      store(txn, entry.value());
      return model::ok();
    });
  }

  model::result<std::optional<std::uint64_t>> count() const override {
    using counted = std::optional<std::uint64_t>;
    return env_->read<counted>([&](MDB_txn* txn) -> model::result<counted> {
      return counted{entry_count(txn, db().outbox)};
    });
  }

private:
  [[nodiscard]] const lmdb_dbs& db() const noexcept {
    return env_->db();
  }

  void store(MDB_txn* txn, const outbox_entry& e) {
    boost::json::value doc{{"event", e.event},
                           {"attempts", e.attempts},
                           {"nextAttempt", model::to_millis(e.next_attempt)}};
    put(txn, db().outbox, be64(e.id), boost::json::serialize(doc));
  }

  static model::result<outbox_entry> read(std::string_view key,
                                          std::string_view bytes) {
    return with_document(
      bytes, "outbox entry",
      [key](const boost::json::value& doc) -> model::result<outbox_entry> {
        const auto* obj = doc.if_object();
        const auto* event = obj ? obj->if_contains("event") : nullptr;
        const auto* attempts = obj ? obj->if_contains("attempts") : nullptr;
        const auto* next = obj ? obj->if_contains("nextAttempt") : nullptr;
        // A count that is no uint32 (negative, fractional, too large) is
        // corrupt; reading it as one would throw.
        boost::system::error_code not_a_count;
        const auto count
          = attempts ? attempts->to_number<std::uint32_t>(not_a_count) : 0;
        if (event == nullptr || attempts == nullptr || not_a_count
            || next == nullptr || !next->is_int64())
          return corrupt_record("outbox entry");
        // The event copied into storage of its own, out of the document's.
        return outbox_entry{
          from_be64(key),
          boost::json::value(*event, boost::json::storage_ptr{}), count,
          model::from_millis(next->get_int64())};
      });
  }

  std::shared_ptr<lmdb_env> env_;
};

} // namespace

std::shared_ptr<outbox> make_lmdb_outbox(std::shared_ptr<lmdb_env> env) {
  return std::make_shared<lmdb_outbox>(std::move(env));
}

} // namespace signoff::persistence::detail
