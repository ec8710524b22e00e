#include "signoff/persistence/memory_store.hpp"

#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string_view>
#include <unordered_map>

namespace signoff::persistence {

namespace {

using model::saved_workflow_state;

/// Runs in a map with secondary indexes for the orchestrator's lookups:
/// waiting runs by approval key, finished runs by age. The indexes view the
/// map's keys (a node's key stays put while the node lives), so a run id is
/// held once.
class memory_workflow_state_store final : public workflow_state_store {
public:
  model::result<void> apply(run_change change) override {
    auto& run = change.run;
    if (auto valid = model::validate_run_identity(run); valid.is_err())
      return valid;
    std::unique_lock guard{mutex_};
    auto it = runs_.find(run.run_id);
    if (change.created) {
      if (it != runs_.end())
        return model::make_error(model::error_type::invalid_argument,
                                 "a run '" + run.run_id + "' exists already");
      auto id = run.run_id;
      it = runs_.emplace(std::move(id), std::move(run)).first;
      index(it->first, it->second);
      return model::ok();
    }
    if (it == runs_.end())
      return model::make_error(model::error_type::not_found,
                               "no run '" + run.run_id + "' is stored");
    auto& stored = it->second;
    unindex(it->first, stored);
    stored.status = run.status;
    stored.pending_approvals = std::move(run.pending_approvals);
    stored.approval_keys = std::move(run.approval_keys);
    stored.pending_reason = std::move(run.pending_reason);
    stored.updated_at = run.updated_at;
    stored.outcome = std::move(run.outcome);
    stored.cancelled_by = std::move(run.cancelled_by);
    stored.checkpoints.merge(run.checkpoints);
    index(it->first, stored);
    return model::ok();
  }

  model::result<void> save(const saved_workflow_state& state) override {
    if (auto valid = model::validate_run_identity(state); valid.is_err())
      return valid;
    std::unique_lock guard{mutex_};
    auto it = runs_.find(state.run_id);
    if (it == runs_.end())
      it = runs_.try_emplace(state.run_id).first;
    else
      unindex(it->first, it->second);
    it->second = state;
    index(it->first, it->second);
    return model::ok();
  }

  model::result<std::optional<saved_workflow_state>>
  load(const std::string& run_id) const override {
    std::shared_lock guard{mutex_};
    auto it = runs_.find(run_id);
    if (it == runs_.end())
      return std::optional<saved_workflow_state>{};
    return std::optional{it->second};
  }

  model::result<bool> remove(const std::string& run_id) override {
    std::unique_lock guard{mutex_};
    auto it = runs_.find(run_id);
    if (it == runs_.end())
      return false;
    unindex(it->first, it->second);
    runs_.erase(it);
    return true;
  }

  model::result<std::vector<std::string>>
  list(const run_filter& filter) const override {
    std::shared_lock guard{mutex_};
    std::vector<std::string> ids;
    for (const auto& [id, state] : runs_)
      if (matches(state, filter))
        ids.push_back(id);
    return ids;
  }

  model::result<std::vector<std::string>>
  find_by_pending_approval(const std::string& key) const override {
    std::shared_lock guard{mutex_};
    auto it = by_pending_.find(key);
    if (it == by_pending_.end())
      return std::vector<std::string>{};
    std::vector<std::string> ids;
    ids.reserve(it->second.size());
    for (auto id : it->second)
      ids.emplace_back(id);
    return ids;
  }

  model::result<std::vector<std::string>>
  finished_before(model::time_point cutoff, std::size_t limit) const override {
    std::shared_lock guard{mutex_};
    std::vector<std::string> ids;
    for (auto it = finished_.begin();
         it != finished_.end() && it->first < cutoff && ids.size() < limit;
         ++it)
      ids.emplace_back(it->second);
    return ids;
  }

  model::result<std::optional<std::uint64_t>> count_paused() const override {
    std::shared_lock guard{mutex_};
    return std::optional<std::uint64_t>{paused_};
  }

private:
  static bool matches(const saved_workflow_state& s, const run_filter& f) {
    return (!f.workflow_name || s.workflow_name == *f.workflow_name)
           && (!f.status || s.status == *f.status)
           && (!f.has_pending_approvals
               || *f.has_pending_approvals == !s.pending_approvals.empty());
  }

  /// Indexes `s` under `id`, the map's own copy of its run id.
  void index(std::string_view id, const saved_workflow_state& s) {
    for (const auto& key : s.pending_approvals)
      by_pending_[key].insert(id);
    if (model::is_finished(s.status))
      finished_.emplace(s.updated_at, id);
    if (s.status == model::run_status::paused)
      ++paused_;
  }

  void unindex(std::string_view id, const saved_workflow_state& s) {
    for (const auto& key : s.pending_approvals) {
      auto it = by_pending_.find(key);
      if (it == by_pending_.end())
        continue; // the same key listed twice: gone with the first
      it->second.erase(id);
      if (it->second.empty())
        by_pending_.erase(it);
    }
    if (model::is_finished(s.status))
      finished_.erase({s.updated_at, id});
    if (s.status == model::run_status::paused)
      --paused_;
  }

  mutable std::shared_mutex mutex_;
  std::map<std::string, saved_workflow_state> runs_;
  std::unordered_map<std::string, std::set<std::string_view>> by_pending_;
  std::set<std::pair<model::time_point, std::string_view>> finished_;
  /// Runs whose status is paused, kept with the indexes so counting them
  /// is no scan.
  std::uint64_t paused_ = 0;
};

} // namespace

std::shared_ptr<workflow_state_store> make_memory_workflow_state_store() {
  return std::make_shared<memory_workflow_state_store>();
}

} // namespace signoff::persistence
