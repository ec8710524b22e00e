// The `--json` forms of the reports.

#include <variant>

#include <boost/json/value_from.hpp>

#include "output.hpp"

namespace signoff::cli {

namespace {

namespace json = boost::json;

/// What `runs` shows of a run (`status RUN` shows all of it).
json::value run_summary(const model::saved_workflow_state& s) {
  return {{"runId", s.run_id},
          {"workflowName", s.workflow_name},
          {"status", to_string(s.status)},
          {"pendingApprovals", json::value_from(s.pending_approvals)},
          {"pendingReason", s.pending_reason},
          {"startedAt", model::to_millis(s.started_at)},
          {"updatedAt", model::to_millis(s.updated_at)}};
}

json::value report_json(const pending_report& r) {
  return {{"approvals", json::value_from(r.approvals)}};
}

json::value report_json(const approval_report& r) {
  return {{"approval", json::value_from(r.record)},
          {"currentStatus", json::value_from(r.record.status_at(r.now))},
          {"auditTrail", json::value_from(r.trail)}};
}

json::value report_json(const decision_report& r) {
  return {{"decision", to_string(r.decision.kind)},
          {"applied", r.outcome.applied},
          {"approval", json::value_from(r.outcome.record)}};
}

json::value report_json(const assignment_report& r) {
  return {{"change", r.change.kind == model::assignment_kind::delegate
                       ? "delegate"
                       : "reassign"},
          {"actorId", r.change.actor},
          {"applied", r.outcome.applied},
          {"approval", json::value_from(r.outcome.record)}};
}

json::value report_json(const comment_report& r) {
  return {{"comment", json::value_from(r.entry)}};
}

json::value report_json(const bulk_report& r) {
  json::array lines;
  for (const auto& line : r.lines) {
    if (line.outcome.is_ok())
      lines.push_back({{"key", line.key},
                       {"success", true},
                       {"status", to_string(line.outcome.value())}});
    else
      lines.push_back({{"key", line.key},
                       {"success", false},
                       {"error", line.outcome.error().type},
                       {"message", line.outcome.error().message}});
  }
  return {{"decision", to_string(r.kind)},
          {"actorId", r.actor},
          {"decided", r.lines.size() - r.failed()},
          {"failed", r.failed()},
          {"results", std::move(lines)}};
}

json::value report_json(const runs_report& r) {
  json::array runs;
  for (const auto& s : r.runs)
    runs.push_back(run_summary(s));
  return {{"runs", std::move(runs)}};
}

json::value report_json(const run_report& r) {
  return {{"run", json::value_from(r.run)}};
}

json::value report_json(const cleanup_report& r) {
  return json::value_from(r);
}

} // namespace

json::value to_json(const report& r) {
  return std::visit([](const auto& x) { return report_json(x); }, r);
}

} // namespace signoff::cli
