#include "signoff/persistence/changes.hpp"

namespace signoff::persistence {

approval_index approval_index::of(const model::approval_record& record) {
  return {record.revision, record.status.is_pending(), record.next_due()};
}

run_index run_index::of(const model::saved_workflow_state& run) {
  return {run.status, run.pending_approvals, run.updated_at};
}

} // namespace signoff::persistence
