#include "signoff/model/approval_event.hpp"

#include <boost/json/value_from.hpp>

namespace signoff::model {

approval_event approval_event::of(const approval_record& record) {
  return {record.key,
          record.status,
          record.spec.run_id,
          record.spec.workflow_name,
          record.spec.pending_reason,
          record.spec.metadata,
          record.spec.expires_at};
}

boost::json::value event_json(const approval_event& event,
                              std::string_view type, time_point at) {
  return {{"type", type},
          {"key", event.key},
          {"status", boost::json::value_from(event.status)},
          {"runId", event.run_id},
          {"workflowName", event.workflow_name},
          {"pendingReason", event.pending_reason},
          {"metadata", event.metadata},
          {"expiresAt", event.expires_at
                          ? boost::json::value(to_millis(*event.expires_at))
                          : boost::json::value{}},
          {"at", to_millis(at)}};
}

} // namespace signoff::model
