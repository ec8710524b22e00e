#include "signoff/persistence/memory_store.hpp"

#include <functional>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace signoff::persistence {

namespace {

using model::time_point;

/// Approvals with their audit trails in one hash map; pending keys sorted
/// for literal prefix ranges, pending approvals sorted by their next due
/// time (reminder or deadline) so the next is the first entry, decided
/// approvals sorted by when. The sorted indexes view the map's keys (a
/// node's key stays put while the node lives), so a key is held once.
class memory_approval_store final : public approval_store {
public:
  model::result<void> apply(approval_change change) override {
    const auto& after = change.after;
    std::unique_lock guard{mutex_};
    auto it = records_.find(after.key);
    const auto stored = it == records_.end() ? 0 : it->second.record.revision;
    const auto expected = change.before ? change.before->revision : 0;
    if (stored != expected || (it == records_.end()) != !change.before)
      return model::make_error(model::error_type::stale_write,
                               "approval '" + after.key
                                 + "' changed since it was read");
    if (it == records_.end())
      it = records_.try_emplace(after.key).first;
    else
      unindex(it->first, it->second.record);
    auto& entry = it->second;
    entry.audit.insert(entry.audit.end(),
                       std::make_move_iterator(change.audit.begin()),
                       std::make_move_iterator(change.audit.end()));
    entry.record = std::move(change.after);
    index(it->first, entry.record);
    return model::ok();
  }

  model::result<std::optional<model::approval_record>>
  find_approval(const std::string& key) const override {
    std::shared_lock guard{mutex_};
    auto it = records_.find(key);
    if (it == records_.end())
      return std::optional<model::approval_record>{};
    return std::optional{it->second.record};
  }

  model::result<std::vector<std::string>>
  list_pending(std::string_view prefix, time_point now,
               std::size_t limit) const override {
    std::shared_lock guard{mutex_};
    std::vector<std::string> keys;
    for (auto it = pending_.lower_bound(prefix);
         it != pending_.end() && keys.size() < limit
         && std::string_view{*it}.starts_with(prefix);
         ++it) {
      const auto last = records_.find(*it)->second.record.final_deadline();
      if (!last || now < *last)
        keys.emplace_back(*it);
    }
    return keys;
  }

  model::result<std::vector<std::string>>
  list_decided(time_point since, std::size_t limit) const override {
    std::shared_lock guard{mutex_};
    std::vector<std::string> keys;
    for (auto it = decided_.rbegin();
         it != decided_.rend() && it->first >= since && keys.size() < limit;
         ++it)
      keys.emplace_back(it->second);
    return keys;
  }

  model::result<std::vector<model::audit_entry>>
  audit_trail(const std::string& key) const override {
    std::shared_lock guard{mutex_};
    auto it = records_.find(key);
    if (it == records_.end())
      return std::vector<model::audit_entry>{};
    return it->second.audit;
  }

  model::result<std::vector<std::string>>
  due_for_expiry(time_point now, std::size_t limit) const override {
    std::shared_lock guard{mutex_};
    std::vector<std::string> keys;
    for (auto it = deadlines_.begin();
         it != deadlines_.end() && it->first <= now && keys.size() < limit;
         ++it)
      keys.emplace_back(it->second);
    return keys;
  }

  model::result<std::optional<time_point>> next_expiry() const override {
    std::shared_lock guard{mutex_};
    if (deadlines_.empty())
      return std::optional<time_point>{};
    return std::optional{deadlines_.begin()->first};
  }

  model::result<std::optional<std::uint64_t>> count_pending() const override {
    std::shared_lock guard{mutex_};
    return std::optional<std::uint64_t>{pending_.size()};
  }

  model::result<bool> remove_approval(const std::string& key) override {
    std::unique_lock guard{mutex_};
    auto it = records_.find(key);
    if (it == records_.end())
      return false;
    if (it->second.record.status.is_pending())
      return model::make_error(model::error_type::invalid_run_state,
                               "approval '" + key
                                 + "' is pending and cannot be removed");
    unindex(it->first, it->second.record);
    records_.erase(it);
    return true;
  }

private:
  /// Lets the map be searched with the indexes' views, without a copy.
  struct key_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept {
      return std::hash<std::string_view>{}(key);
    }
  };

  struct entry {
    model::approval_record record;
    std::vector<model::audit_entry> audit;
  };

  /// Indexes `r` under `key`, the map's own copy of it.
  void index(std::string_view key, const model::approval_record& r) {
    if (!r.status.is_pending()) {
      if (r.status.decided_at)
        decided_.emplace(*r.status.decided_at, key);
      return;
    }
    pending_.insert(key);
    if (const auto due = r.next_due())
      deadlines_.emplace(*due, key);
  }

  void unindex(std::string_view key, const model::approval_record& r) {
    pending_.erase(key);
    if (const auto due = r.next_due())
      deadlines_.erase({*due, key});
    if (r.status.decided_at)
      decided_.erase({*r.status.decided_at, key});
  }

  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, entry, key_hash, std::equal_to<>> records_;
  std::set<std::string_view> pending_;
  std::set<std::pair<time_point, std::string_view>> deadlines_;
  /// Approvals no longer pending, by when they were decided.
  std::set<std::pair<time_point, std::string_view>> decided_;
};

} // namespace

std::shared_ptr<approval_store> make_memory_approval_store() {
  return std::make_shared<memory_approval_store>();
}

} // namespace signoff::persistence
