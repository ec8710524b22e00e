#pragma once

// Instants and runs the store tests build their cases from.

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "signoff/model/workflow_state.hpp"

namespace signoff::test {

/// A fixed base instant; cases offset from it in milliseconds.
inline const model::time_point t0 = model::from_millis(1'700'000'000'000);

inline model::time_point at(std::int64_t offset_ms) {
  return t0 + model::duration{offset_ms};
}

/// A run of `workflow` in `status`, waiting on `pending`; finished runs
/// carry a result.
inline model::saved_workflow_state
make_run(std::string id, std::string workflow, model::run_status status,
         model::time_point updated, std::vector<std::string> pending = {}) {
  model::saved_workflow_state s;
  s.run_id = std::move(id);
  s.workflow_name = std::move(workflow);
  s.status = status;
  s.pending_approvals = std::move(pending);
  s.approval_keys = s.pending_approvals;
  if (!s.pending_approvals.empty())
    s.pending_reason = "waiting for " + s.pending_approvals.front();
  s.input = boost::json::parse(R"({"order":"ord_1"})");
  s.started_at = t0;
  s.updated_at = updated;
  if (model::is_finished(status))
    s.outcome = model::result<boost::json::value>{
      model::ok(boost::json::value("done"))};
  return s;
}

/// A run paused on `keys`.
inline model::saved_workflow_state paused(std::string id, std::string workflow,
                                          std::vector<std::string> keys,
                                          model::time_point updated = at(1)) {
  return make_run(std::move(id), std::move(workflow), model::run_status::paused,
                  updated, std::move(keys));
}

} // namespace signoff::test
