#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "signoff/model/approval.hpp"
#include "signoff/model/time.hpp"

namespace signoff::model {

/// What approvers are told about an approval: that a run waits for it
/// (`approval.needed`) or that it was decided (`approval.resolved`).
struct approval_event {
  std::string key{};
  /// Pending for `approval.needed`; the decision for `approval.resolved`.
  approval_status status{};
  /// The run that first asked for the approval, and its workflow; empty
  /// when a decision came before any run.
  std::string run_id{};
  std::string workflow_name{};
  std::string pending_reason{};
  boost::json::value metadata{};
  std::optional<time_point> expires_at{};

  /// The event about `record` as it stands.
  [[nodiscard]] static approval_event of(const approval_record& record);
};

/// The event types.
inline constexpr std::string_view approval_needed = "approval.needed";
inline constexpr std::string_view approval_resolved = "approval.resolved";

/// The JSON form of `event` kept in the outbox and sent to receivers:
/// `{"type", "key", "status": {...}, "runId", "workflowName",
/// "pendingReason", "metadata", "expiresAt", "at"}`.
[[nodiscard]] boost::json::value event_json(const approval_event& event,
                                            std::string_view type,
                                            time_point at);

} // namespace signoff::model
