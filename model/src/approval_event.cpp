#include "signoff/model/approval_event.hpp"

#include <boost/json/value_from.hpp>

namespace signoff::model {

approval_event approval_event::of(const approval_record& record,
                                  std::vector<std::string> waiting) {
  return {record.key,
          record.status,
          record.spec.run_id,
          record.spec.workflow_name,
          std::move(waiting),
          record.spec.pending_reason,
          record.spec.metadata,
          record.spec.expires_at,
          record.spec.assignees,
          record.spec.candidate_groups,
          record.escalation_level,
          record.spec.priority};
}

boost::json::value event_json(const approval_event& event,
                              std::string_view type, time_point at) {
  return {{"type", type},
          {"key", event.key},
          {"status", boost::json::value_from(event.status)},
          {"runId", event.run_id},
          {"workflowName", event.workflow_name},
          {"runIds", boost::json::value_from(
                       event.run_ids.empty() && !event.run_id.empty()
                           && event.status.is_pending()
                         ? std::vector<std::string>{event.run_id}
                         : event.run_ids)},
          {"pendingReason", event.pending_reason},
          {"metadata", event.metadata},
          {"expiresAt", event.expires_at
                          ? boost::json::value(to_millis(*event.expires_at))
                          : boost::json::value{}},
          {"assignees", boost::json::value_from(event.assignees)},
          {"candidateGroups", boost::json::value_from(event.candidate_groups)},
          {"escalationLevel", event.escalation_level},
          {"priority", event.priority},
          {"at", to_millis(at)}};
}

} // namespace signoff::model
