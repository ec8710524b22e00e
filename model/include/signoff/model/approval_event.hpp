#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "signoff/model/approval.hpp"
#include "signoff/model/time.hpp"

namespace signoff::model {

/// What approvers are told about an approval: that a run waits for it
/// (`approval.needed`), that its deadline nears (`approval.reminder`), that
/// it moved to its next escalation level (`approval.escalated`) or that it
/// was decided (`approval.resolved`).
struct approval_event {
  std::string key{};
  /// Pending for `approval.needed`; the decision for `approval.resolved`.
  approval_status status{};
  /// The run that first asked for the approval, and its workflow; empty
  /// when a decision came before any run.
  std::string run_id{};
  std::string workflow_name{};
  /// For a resolution: every run waiting on the approval when it was
  /// decided (an approval key is global), in id order. Empty when nobody
  /// waited, or when the decision was made on the store alone (the CLI on
  /// a directory), which does not know the runs.
  std::vector<std::string> run_ids{};
  std::string pending_reason{};
  boost::json::value metadata{};
  /// The current deadline: for `approval.reminder`, the one it reminds of;
  /// for `approval.escalated`, the new one.
  std::optional<time_point> expires_at{};
  /// Who may decide now, how many escalation levels were applied, and the
  /// approval's priority.
  std::vector<std::string> assignees{};
  std::vector<std::string> candidate_groups{};
  std::uint32_t escalation_level = 0;
  std::int32_t priority = 0;

  /// The event about `record` as it stands, with the runs waiting on it.
  [[nodiscard]] static approval_event of(const approval_record& record,
                                         std::vector<std::string> waiting = {});
};

/// The event types.
inline constexpr std::string_view approval_needed = "approval.needed";
inline constexpr std::string_view approval_resolved = "approval.resolved";
inline constexpr std::string_view approval_reminder = "approval.reminder";
inline constexpr std::string_view approval_escalated = "approval.escalated";
/// Who may decide a pending approval changed (reassigned or delegated).
inline constexpr std::string_view approval_reassigned = "approval.reassigned";

/// The JSON form of `event` kept in the outbox and sent to receivers:
/// `{"type", "key", "status": {...}, "runId", "workflowName", "runIds",
/// "pendingReason", "metadata", "expiresAt", "assignees",
/// "candidateGroups", "escalationLevel", "priority", "at"}`; while pending
/// (every type but `approval.resolved`), `runIds` is `[runId]`.
[[nodiscard]] boost::json::value
event_json(const approval_event& event, std::string_view type, time_point at);

} // namespace signoff::model
