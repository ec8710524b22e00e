// The cleanup command: removes finished runs last updated before a cutoff
// and the decided approvals they reached that no paused run waits on, as
// the orchestrator's cleanup does, in one commit of the stores.

#include <cstddef>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "commands.hpp"
#include "values.hpp"

namespace signoff::cli {

namespace {

constexpr auto no_limit = std::numeric_limits<std::size_t>::max();

/// What one cleanup removes.
struct removal_plan {
  std::vector<std::string> runs;
  std::vector<std::string> approvals;
};

/// `now - age`, but never before the epoch (instants are stored unsigned).
model::time_point cutoff_for(model::time_point now, model::duration age) {
  if (age >= now.time_since_epoch())
    return model::time_point{};
  return now - age;
}

/// True if `key` is decided and no paused run waits on it.
model::result<bool> removable(const persistence::lmdb_stores& stores,
                              const std::string& key) {
  auto waiting = stores.runs->find_by_pending_approval(key);
  if (waiting.is_err())
    return waiting.error();
  if (!waiting->empty())
    return false;
  auto record = stores.approvals->find_approval(key);
  if (record.is_err())
    return record.error();
  return record.value() && !record.value()->status.is_pending();
}

/// Decides what to remove, reading only. Inside the commit it reads what
/// the commit writes over, so nothing can change in between.
model::result<removal_plan> plan_removal(const persistence::lmdb_stores& stores,
                                         model::time_point cutoff) {
  auto old = stores.runs->finished_before(cutoff, no_limit);
  if (old.is_err())
    return old.error();
  removal_plan plan;
  std::set<std::string> seen;
  for (auto& run_id : old.value()) {
    auto state = stores.runs->load(run_id);
    if (state.is_err())
      return state.error();
    if (!state.value())
      continue;
    for (const auto& key : state.value()->approval_keys) {
      if (!seen.insert(key).second)
        continue;
      auto decided = removable(stores, key);
      if (decided.is_err())
        return decided.error();
      if (decided.value())
        plan.approvals.push_back(key);
    }
    plan.runs.push_back(std::move(run_id));
  }
  return plan;
}

/// Removes what `plan` names. `plan_removal` checked everything these
/// removals check in the same transaction, so only a failing medium can
/// stop them, and that aborts the whole commit.
model::result<void> carry_out(const persistence::lmdb_stores& stores,
                              const removal_plan& plan) {
  for (const auto& run_id : plan.runs)
    if (auto removed = stores.runs->remove(run_id); removed.is_err())
      return removed.error();
  for (const auto& key : plan.approvals)
    if (auto removed = stores.approvals->remove_approval(key); removed.is_err())
      return removed.error();
  return model::ok();
}

} // namespace

model::result<report> cleanup(const context& ctx, const invocation& inv) {
  auto age = parse_duration(inv.flag("older-than").value_or(""));
  if (age.is_err())
    return age.error();
  const auto& stores = ctx.stores;
  cleanup_report out{cutoff_for(ctx.now, age.value()), {}, {}};
  model::result<void> outcome;
  auto committed = stores.commits->commit([&] {
    // May run again after the store grew its map: start from scratch.
    outcome = model::ok();
    out.runs.clear();
    out.approvals.clear();
    auto plan = plan_removal(stores, out.cutoff);
    if (plan.is_err()) {
      outcome = plan.error();
      return;
    }
    outcome = carry_out(stores, plan.value());
    out.runs = std::move(plan->runs);
    out.approvals = std::move(plan->approvals);
  });
  if (committed.is_err())
    return committed.error();
  if (outcome.is_err())
    return outcome.error();
  return out;
}

} // namespace signoff::cli
