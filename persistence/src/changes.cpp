#include "signoff/persistence/changes.hpp"

namespace signoff::persistence {

run_index run_index::of(const model::saved_workflow_state& run) {
  return {run.status, run.pending_approvals, run.updated_at};
}

} // namespace signoff::persistence
