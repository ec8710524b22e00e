#pragma once

// Bases for the tests' faulty stores: each passes every call to the store it
// wraps, so a test double overrides only the calls it breaks or watches.

#include <memory>
#include <utility>

#include "signoff/persistence/approval_store.hpp"
#include "signoff/persistence/journal.hpp"

namespace signoff::test {

class forwarding_approval_store : public persistence::approval_store {
public:
  explicit forwarding_approval_store(
    std::shared_ptr<persistence::approval_store> inner)
      : inner_(std::move(inner)) {}

  model::result<void> apply(persistence::approval_change change) override {
    return inner_->apply(std::move(change));
  }
  model::result<std::optional<model::approval_record>>
  find_approval(const std::string& key) const override {
    return inner_->find_approval(key);
  }
  model::result<std::vector<std::string>>
  list_pending(std::string_view prefix, model::time_point now,
               std::size_t limit) const override {
    return inner_->list_pending(prefix, now, limit);
  }
  model::result<std::vector<std::string>>
  list_decided(model::time_point since, std::size_t limit) const override {
    return inner_->list_decided(since, limit);
  }
  model::result<std::vector<model::audit_entry>>
  audit_trail(const std::string& key) const override {
    return inner_->audit_trail(key);
  }
  model::result<std::vector<std::string>>
  due_for_expiry(model::time_point now, std::size_t limit) const override {
    return inner_->due_for_expiry(now, limit);
  }
  model::result<std::optional<model::time_point>> next_expiry() const override {
    return inner_->next_expiry();
  }
  model::result<bool> remove_approval(const std::string& key) override {
    return inner_->remove_approval(key);
  }
  model::result<std::vector<std::string>>
  owed_wakes(std::size_t limit, const std::string& after) const override {
    return inner_->owed_wakes(limit, after);
  }
  model::result<void>
  wakes_done(const std::vector<std::string>& keys) override {
    return inner_->wakes_done(keys);
  }
  model::result<std::optional<std::uint64_t>> count_pending() const override {
    return inner_->count_pending();
  }

private:
  std::shared_ptr<persistence::approval_store> inner_;
};

class forwarding_journal : public persistence::journal {
public:
  explicit forwarding_journal(std::shared_ptr<persistence::journal> inner)
      : inner_(std::move(inner)) {}

  void encode(const persistence::approval_change& change,
              persistence::write_batch& out) const override {
    inner_->encode(change, out);
  }
  void encode(const persistence::run_change& change,
              persistence::write_batch& out) const override {
    inner_->encode(change, out);
  }
  void encode_wakes_settled(const std::vector<std::string>& keys,
                            persistence::write_batch& out) const override {
    inner_->encode_wakes_settled(keys, out);
  }
  std::vector<model::result<void>>
  commit(std::span<const persistence::write_batch> batches) override {
    return inner_->commit(batches);
  }
  [[nodiscard]] std::uint64_t commit_count() const noexcept override {
    return inner_->commit_count();
  }

private:
  std::shared_ptr<persistence::journal> inner_;
};

} // namespace signoff::test
