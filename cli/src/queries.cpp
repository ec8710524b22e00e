// The read-only commands: pending, show, runs, status.

#include <cstddef>
#include <limits>
#include <utility>

#include "commands.hpp"
#include "values.hpp"

namespace signoff::cli {

namespace {

constexpr auto no_limit = std::numeric_limits<std::size_t>::max();

model::error not_found(std::string what) {
  return model::make_error(model::error_type::not_found, std::move(what));
}

} // namespace

model::result<report> list_pending(const context& ctx, const invocation& inv) {
  auto keys = ctx.stores.approvals->list_pending(
    inv.flag("prefix").value_or(""), ctx.now, no_limit);
  if (keys.is_err())
    return keys.error();
  pending_report out;
  for (const auto& key : keys.value()) {
    auto record = ctx.stores.approvals->find_approval(key);
    if (record.is_err())
      return record.error();
    // A server may have removed it since the listing: skip it.
    if (record.value())
      out.approvals.push_back(std::move(*record.value()));
  }
  return out;
}

model::result<report> show_approval(const context& ctx, const invocation& inv) {
  auto record = ctx.stores.approvals->find_approval(inv.subject);
  if (record.is_err())
    return record.error();
  if (!record.value())
    return not_found("no approval '" + inv.subject + "' exists");
  auto trail = ctx.stores.approvals->audit_trail(inv.subject);
  if (trail.is_err())
    return trail.error();
  return approval_report{std::move(*record.value()), std::move(trail.value()),
                         ctx.now};
}

model::result<report> list_runs(const context& ctx, const invocation& inv) {
  persistence::run_filter filter;
  filter.workflow_name = inv.flag("workflow");
  if (auto status = inv.flag("status")) {
    auto parsed = parse_status(*status);
    if (parsed.is_err())
      return parsed.error();
    filter.status = parsed.value();
  }
  auto ids = ctx.stores.runs->list(filter);
  if (ids.is_err())
    return ids.error();
  runs_report out;
  for (const auto& id : ids.value()) {
    auto state = ctx.stores.runs->load(id);
    if (state.is_err())
      return state.error();
    // A server may have removed it since the listing: skip it.
    if (state.value())
      out.runs.push_back(std::move(*state.value()));
  }
  return out;
}

model::result<report> show_run(const context& ctx, const invocation& inv) {
  auto state = ctx.stores.runs->load(inv.subject);
  if (state.is_err())
    return state.error();
  if (!state.value())
    return not_found("no run '" + inv.subject + "' exists");
  return run_report{std::move(*state.value())};
}

} // namespace signoff::cli
