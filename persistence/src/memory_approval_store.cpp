#include "signoff/persistence/memory_store.hpp"

#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <unordered_map>
#include <utility>

#include "signoff/model/decision_rules.hpp"

namespace signoff::persistence {

namespace {

using model::time_point;

/// Approvals in ordered maps: pending keys sorted for literal prefix
/// ranges, pending deadlines sorted so the next expiry is the first entry.
class memory_approval_store final : public approval_store {
public:
  model::result<created_approval>
  create_approval(const std::string& key, const model::approval_spec& spec,
                  const std::string& actor, time_point now) override {
    auto fresh = model::new_approval(key, spec, now);
    if (fresh.is_err())
      return fresh.error();
    std::unique_lock guard{mutex_};
    if (auto it = records_.find(key); it != records_.end())
      return created_approval{it->second, false};
    append_audit(key, "created", actor, now, spec.pending_reason, {});
    index(fresh.value());
    auto& stored = records_[key] = std::move(fresh.value());
    return created_approval{stored, true};
  }

  model::result<std::optional<model::approval_record>>
  find_approval(const std::string& key) const override {
    std::shared_lock guard{mutex_};
    auto it = records_.find(key);
    if (it == records_.end())
      return std::optional<model::approval_record>{};
    return std::optional{it->second};
  }

  model::result<model::decision_outcome> decide(const model::decision& d,
                                                time_point now) override {
    std::unique_lock guard{mutex_};
    auto it = records_.find(d.key);
    auto transition = model::apply_decision(
      it == records_.end() ? nullptr : &it->second, d, now);
    if (transition.is_err())
      return transition.error();
    auto& t = transition.value();
    if (!t.applied)
      return model::decision_outcome{std::move(t.record), false};
    if (it != records_.end())
      unindex(it->second);
    else
      append_audit(d.key, "created", d.actor, now, {}, {});
    const auto& status = t.record.status;
    append_audit(d.key, t.audit_action,
                 status.is_pending() ? d.actor : status.decided_by, now,
                 d.reason, d.value);
    index(t.record);
    records_[d.key] = t.record;
    return model::decision_outcome{std::move(t.record), true};
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

  void append_audit(const std::string& key, std::string action,
                    const std::string& actor, time_point now,
                    const std::string& reason, boost::json::value value) {
    auto& trail = audit_[key];
    trail.push_back({key, trail.size() + 1, std::move(action), actor, now,
                     reason, std::move(value)});
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
