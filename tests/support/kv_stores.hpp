#pragma once

// What a user might write in an afternoon to put signoff on their own
// key-value database: both store interfaces over one map of JSON documents
// behind one mutex, with no index at all. Written against the public
// headers only; the tests prove the orchestrator works on it.

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <boost/json.hpp>

#include "signoff/persistence/approval_store.hpp"
#include "signoff/persistence/workflow_state_store.hpp"

namespace signoff::test {

/// Parses a stored document; keys may hold any bytes, so may documents.
inline boost::json::value parse_document(const std::string& text) {
  boost::json::parse_options options;
  options.allow_invalid_utf8 = true;
  return boost::json::parse(text, {}, options);
}

/// The user's database: a map from keys to JSON documents.
struct kv_database {
  std::mutex mutex;
  std::map<std::string, std::string> documents;

  template <class T>
  std::optional<T> get(const std::string& key) const {
    auto it = documents.find(key);
    if (it == documents.end())
      return std::nullopt;
    return boost::json::value_to<T>(parse_document(it->second));
  }

  template <class T>
  void put(const std::string& key, const T& value) {
    documents[key] = boost::json::serialize(boost::json::value_from(value));
  }

  /// Every document whose key starts with `prefix`, decoded.
  template <class T>
  std::vector<T> all(const std::string& prefix) const {
    std::vector<T> out;
    for (auto it = documents.lower_bound(prefix);
         it != documents.end() && it->first.starts_with(prefix); ++it)
      out.push_back(boost::json::value_to<T>(parse_document(it->second)));
    return out;
  }
};

class kv_approval_store final : public persistence::approval_store {
public:
  explicit kv_approval_store(std::shared_ptr<kv_database> db)
      : db_(std::move(db)) {}

  model::result<void> apply(persistence::approval_change change) override {
    const auto& key = change.after.key;
    std::lock_guard guard{db_->mutex};
    auto current = db_->get<model::approval_record>("approval/" + key);
    const auto expected = change.before ? change.before->revision : 0;
    if (current.has_value() != change.before.has_value()
        || (current && current->revision != expected))
      return model::make_error(model::error_type::stale_write,
                               "approval '" + key + "' changed meanwhile");
    db_->put("approval/" + key, change.after);
    auto trail = db_->get<std::vector<model::audit_entry>>("audit/" + key)
                   .value_or(std::vector<model::audit_entry>{});
    trail.insert(trail.end(), change.audit.begin(), change.audit.end());
    db_->put("audit/" + key, trail);
    return model::ok();
  }

  model::result<std::optional<model::approval_record>>
  find_approval(const std::string& key) const override {
    std::lock_guard guard{db_->mutex};
    return db_->get<model::approval_record>("approval/" + key);
  }

  model::result<std::vector<std::string>>
  list_pending(std::string_view prefix, model::time_point now,
               std::size_t limit) const override {
    std::lock_guard guard{db_->mutex};
    std::vector<std::string> keys;
    for (const auto& r :
         db_->all<model::approval_record>("approval/" + std::string{prefix}))
      if (keys.size() < limit && r.status_at(now).is_pending())
        keys.push_back(r.key);
    return keys;
  }

  model::result<std::vector<std::string>>
  list_decided(model::time_point since, std::size_t limit) const override {
    std::lock_guard guard{db_->mutex};
    std::vector<std::pair<model::time_point, std::string>> decided;
    for (const auto& r : db_->all<model::approval_record>("approval/"))
      if (!r.status.is_pending() && r.status.decided_at
          && *r.status.decided_at >= since)
        decided.emplace_back(*r.status.decided_at, r.key);
    std::sort(decided.rbegin(), decided.rend());
    std::vector<std::string> keys;
    for (auto& [at, key] : decided)
      if (keys.size() < limit)
        keys.push_back(std::move(key));
    return keys;
  }

  model::result<std::vector<model::audit_entry>>
  audit_trail(const std::string& key) const override {
    std::lock_guard guard{db_->mutex};
    return db_->get<std::vector<model::audit_entry>>("audit/" + key)
      .value_or(std::vector<model::audit_entry>{});
  }

  model::result<std::vector<std::string>>
  due_for_expiry(model::time_point now, std::size_t limit) const override {
    std::lock_guard guard{db_->mutex};
    auto due = deadlines();
    std::vector<std::string> keys;
    for (const auto& [deadline, key] : due)
      if (deadline <= now && keys.size() < limit)
        keys.push_back(key);
    return keys;
  }

  model::result<std::optional<model::time_point>> next_expiry() const override {
    std::lock_guard guard{db_->mutex};
    auto due = deadlines();
    if (due.empty())
      return std::optional<model::time_point>{};
    return std::optional{due.front().first};
  }

  model::result<bool> remove_approval(const std::string& key) override {
    std::lock_guard guard{db_->mutex};
    auto current = db_->get<model::approval_record>("approval/" + key);
    if (!current)
      return false;
    if (current->status.is_pending())
      return model::make_error(model::error_type::invalid_run_state,
                               "approval '" + key + "' is pending");
    db_->documents.erase("approval/" + key);
    db_->documents.erase("audit/" + key);
    return true;
  }

private:
  /// Pending approvals by their next due time, earliest first: a scan,
  /// since there is no index.
  std::vector<std::pair<model::time_point, std::string>> deadlines() const {
    std::vector<std::pair<model::time_point, std::string>> out;
    for (const auto& r : db_->all<model::approval_record>("approval/"))
      if (const auto due = r.next_due())
        out.emplace_back(*due, r.key);
    std::sort(out.begin(), out.end());
    return out;
  }

  std::shared_ptr<kv_database> db_;
};

class kv_workflow_state_store final : public persistence::workflow_state_store {
public:
  explicit kv_workflow_state_store(std::shared_ptr<kv_database> db)
      : db_(std::move(db)) {}

  model::result<void> apply(persistence::run_change change) override {
    const auto& run = change.run;
    if (auto valid = model::validate_run_identity(run); valid.is_err())
      return valid;
    std::lock_guard guard{db_->mutex};
    auto stored = db_->get<model::saved_workflow_state>("run/" + run.run_id);
    if (change.created) {
      if (stored)
        return model::make_error(model::error_type::invalid_argument,
                                 "run '" + run.run_id + "' exists");
      db_->put("run/" + run.run_id, run);
      return model::ok();
    }
    if (!stored)
      return model::make_error(model::error_type::not_found,
                               "no run '" + run.run_id + "'");
    auto input = std::move(stored->input);
    auto metadata = std::move(stored->metadata);
    auto checkpoints = std::move(stored->checkpoints);
    *stored = run;
    stored->input = std::move(input);
    stored->metadata = std::move(metadata);
    for (const auto& [key, saved] : run.checkpoints)
      checkpoints.insert_or_assign(key, saved);
    stored->checkpoints = std::move(checkpoints);
    db_->put("run/" + run.run_id, *stored);
    return model::ok();
  }

  model::result<void> save(const model::saved_workflow_state& state) override {
    if (auto valid = model::validate_run_identity(state); valid.is_err())
      return valid;
    std::lock_guard guard{db_->mutex};
    db_->put("run/" + state.run_id, state);
    return model::ok();
  }

  model::result<std::optional<model::saved_workflow_state>>
  load(const std::string& run_id) const override {
    std::lock_guard guard{db_->mutex};
    return db_->get<model::saved_workflow_state>("run/" + run_id);
  }

  model::result<bool> remove(const std::string& run_id) override {
    std::lock_guard guard{db_->mutex};
    return db_->documents.erase("run/" + run_id) == 1;
  }

  model::result<std::vector<std::string>>
  list(const persistence::run_filter& f) const override {
    return select([&](const model::saved_workflow_state& s) {
      return (!f.workflow_name || s.workflow_name == *f.workflow_name)
             && (!f.status || s.status == *f.status)
             && (!f.has_pending_approvals
                 || *f.has_pending_approvals == !s.pending_approvals.empty());
    });
  }

  model::result<std::vector<std::string>>
  find_by_pending_approval(const std::string& key) const override {
    return select([&](const model::saved_workflow_state& s) {
      return std::find(s.pending_approvals.begin(), s.pending_approvals.end(),
                       key)
             != s.pending_approvals.end();
    });
  }

  model::result<std::vector<std::string>>
  finished_before(model::time_point cutoff, std::size_t limit) const override {
    std::lock_guard guard{db_->mutex};
    std::vector<std::pair<model::time_point, std::string>> old;
    for (const auto& s : db_->all<model::saved_workflow_state>("run/"))
      if (model::is_finished(s.status) && s.updated_at < cutoff)
        old.emplace_back(s.updated_at, s.run_id);
    std::sort(old.begin(), old.end());
    std::vector<std::string> ids;
    for (const auto& [at, id] : old)
      if (ids.size() < limit)
        ids.push_back(id);
    return ids;
  }

private:
  template <class Predicate>
  std::vector<std::string> select(Predicate matches) const {
    std::lock_guard guard{db_->mutex};
    std::vector<std::string> ids;
    for (const auto& s : db_->all<model::saved_workflow_state>("run/"))
      if (matches(s))
        ids.push_back(s.run_id);
    return ids;
  }

  std::shared_ptr<kv_database> db_;
};

} // namespace signoff::test
