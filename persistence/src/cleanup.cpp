#include "signoff/persistence/cleanup.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <set>
#include <utility>

#include <boost/json.hpp>

namespace signoff::persistence {

namespace {

constexpr auto no_limit = std::numeric_limits<std::size_t>::max();

/// True if `key` is decided and no paused run waits on it.
model::result<bool> removable(const approval_store& approvals,
                              const workflow_state_store& runs,
                              const std::string& key) {
  auto waiting = runs.find_by_pending_approval(key);
  if (waiting.is_err())
    return waiting.error();
  if (!waiting->empty())
    return false;
  auto record = approvals.find_approval(key);
  if (record.is_err())
    return record.error();
  return record.value() && !record.value()->status.is_pending();
}

/// Decides what to remove, reading only.
model::result<cleanup_report> plan(const approval_store& approvals,
                                   const workflow_state_store& runs,
                                   model::time_point cutoff) {
  auto old = runs.finished_before(cutoff, no_limit);
  if (old.is_err())
    return old.error();
  cleanup_report out{cutoff, {}, {}};
  std::set<std::string> seen;
  for (auto& run_id : old.value()) {
    auto state = runs.load(run_id);
    if (state.is_err())
      return state.error();
    if (!state.value())
      continue;
    for (const auto& key : state.value()->approval_keys) {
      if (!seen.insert(key).second)
        continue;
      auto decided = removable(approvals, runs, key);
      if (decided.is_err())
        return decided.error();
      if (decided.value())
        out.approvals.push_back(key);
    }
    out.runs.push_back(std::move(run_id));
  }
  return out;
}

} // namespace

model::time_point cleanup_cutoff(model::time_point now,
                                 model::duration max_age) {
  if (max_age >= now.time_since_epoch())
    return model::time_point{};
  return now - max_age;
}

model::result<cleanup_report> remove_finished_runs(approval_store& approvals,
                                                   workflow_state_store& runs,
                                                   model::time_point cutoff) {
  auto planned = plan(approvals, runs, cutoff);
  if (planned.is_err())
    return planned;
  // What `plan` checked holds until the commit ends: only a failing medium
  // can stop these removals.
  for (const auto& run_id : planned->runs)
    if (auto removed = runs.remove(run_id); removed.is_err())
      return removed.error();
  for (const auto& key : planned->approvals)
    if (auto removed = approvals.remove_approval(key); removed.is_err())
      return removed.error();
  return planned;
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const cleanup_report& r) {
  out = {{"cutoff", model::to_millis(r.cutoff)},
         {"runsRemoved", boost::json::value_from(r.runs)},
         {"approvalsRemoved", boost::json::value_from(r.approvals)}};
}

boost::json::result<cleanup_report>
tag_invoke(boost::json::try_value_to_tag<cleanup_report>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  const auto* cutoff = obj ? obj->if_contains("cutoff") : nullptr;
  const auto* runs = obj ? obj->if_contains("runsRemoved") : nullptr;
  const auto* approvals = obj ? obj->if_contains("approvalsRemoved") : nullptr;
  if (cutoff == nullptr || runs == nullptr || approvals == nullptr)
    return boost::json::make_error_code(boost::json::error::not_object);
  auto ms = boost::json::try_value_to<std::int64_t>(*cutoff);
  auto run_ids = boost::json::try_value_to<std::vector<std::string>>(*runs);
  auto keys = boost::json::try_value_to<std::vector<std::string>>(*approvals);
  if (!ms)
    return ms.error();
  if (!run_ids)
    return run_ids.error();
  if (!keys)
    return keys.error();
  return cleanup_report{model::from_millis(*ms), std::move(*run_ids),
                        std::move(*keys)};
}

} // namespace signoff::persistence
