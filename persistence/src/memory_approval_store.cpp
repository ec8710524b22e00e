#include "signoff/persistence/memory_store.hpp"

#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <unordered_map>
#include <utility>


namespace signoff::persistence {

namespace {

using model::time_point;

/// Approvals in ordered maps: pending keys sorted for literal prefix
/// ranges, pending deadlines sorted so the next expiry is the first entry.
class memory_approval_store final : public approval_store {
public:
  model::result<void> apply(approval_change change) override {
    const auto& after = change.after;
    std::unique_lock guard{mutex_};
    auto it = records_.find(after.key);
    const auto stored = it == records_.end() ? 0 : it->second.revision;
    const auto expected = change.before ? change.before->revision : 0;
    if (stored != expected || (it == records_.end()) != !change.before)
      return model::make_error(model::error_type::stale_write,
                               "approval '" + after.key
                                 + "' changed since it was read");
    if (it != records_.end())
      unindex(it->second);
    auto& trail = audit_[after.key];
    trail.insert(trail.end(), std::make_move_iterator(change.audit.begin()),
                 std::make_move_iterator(change.audit.end()));
    index(after);
    auto key = after.key;
    records_.insert_or_assign(std::move(key), std::move(change.after));
    return model::ok();
  }

  model::result<std::optional<model::approval_record>>
  find_approval(const std::string& key) const override {
    std::shared_lock guard{mutex_};
    auto it = records_.find(key);
    if (it == records_.end())
      return std::optional<model::approval_record>{};
    return std::optional{it->second};
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
      const auto& spec = records_.at(*it).spec;
      if (!spec.expires_at || now < *spec.expires_at)
        keys.push_back(*it);
    }
    return keys;
  }

  model::result<std::vector<model::audit_entry>>
  audit_trail(const std::string& key) const override {
    std::shared_lock guard{mutex_};
    auto it = audit_.find(key);
    if (it == audit_.end())
      return std::vector<model::audit_entry>{};
    return it->second;
  }

  model::result<std::vector<std::string>>
  due_for_expiry(time_point now, std::size_t limit) const override {
    std::shared_lock guard{mutex_};
    std::vector<std::string> keys;
    for (auto it = deadlines_.begin();
         it != deadlines_.end() && it->first <= now && keys.size() < limit;
         ++it)
      keys.push_back(it->second);
    return keys;
  }

  model::result<std::optional<time_point>> next_expiry() const override {
    std::shared_lock guard{mutex_};
    if (deadlines_.empty())
      return std::optional<time_point>{};
    return std::optional{deadlines_.begin()->first};
  }

  model::result<bool> remove_approval(const std::string& key) override {
    std::unique_lock guard{mutex_};
    auto it = records_.find(key);
    if (it == records_.end())
      return false;
    if (it->second.status.is_pending())
      return model::make_error(model::error_type::invalid_run_state,
                               "approval '" + key
                                 + "' is pending and cannot be removed");
    records_.erase(it);
    audit_.erase(key);
    return true;
  }

private:
  void index(const model::approval_record& r) {
    if (!r.status.is_pending())
      return;
    pending_.insert(r.key);
    if (r.spec.expires_at)
      deadlines_.emplace(*r.spec.expires_at, r.key);
  }

  void unindex(const model::approval_record& r) {
    pending_.erase(r.key);
    if (r.spec.expires_at)
      deadlines_.erase({*r.spec.expires_at, r.key});
  }

  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, model::approval_record> records_;
  std::set<std::string, std::less<>> pending_;
  std::set<std::pair<time_point, std::string>> deadlines_;
  std::unordered_map<std::string, std::vector<model::audit_entry>> audit_;
};

} // namespace

std::shared_ptr<approval_store> make_memory_approval_store() {
  return std::make_shared<memory_approval_store>();
}

} // namespace signoff::persistence
