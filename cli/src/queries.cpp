// The commands that read, and cleanup: each turns its options into one
// call of the backend.

#include <utility>

#include "commands.hpp"
#include "values.hpp"

namespace signoff::cli {

namespace {

/// A backend's answer as the command's report.
template <class Report>
model::result<report> as_report(model::result<Report> r) {
  if (r.is_err())
    return r.error();
  return report{std::move(r.value())};
}

} // namespace

model::result<report> list_pending(const context& ctx, const invocation& inv) {
  return as_report(ctx.target.pending(inv.flag("prefix").value_or("")));
}

model::result<report> show_approval(const context& ctx, const invocation& inv) {
  return as_report(ctx.target.approval(inv.subject));
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
  return as_report(ctx.target.runs(filter));
}

model::result<report> show_run(const context& ctx, const invocation& inv) {
  return as_report(ctx.target.run(inv.subject));
}

model::result<report> cleanup(const context& ctx, const invocation& inv) {
  auto age = parse_age(inv.flag("older-than").value_or(""));
  if (age.is_err())
    return age.error();
  return as_report(ctx.target.cleanup(age.value()));
}

} // namespace signoff::cli
