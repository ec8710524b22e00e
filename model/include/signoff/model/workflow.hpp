#pragma once

#include <functional>

#include <boost/json/value.hpp>

#include "signoff/model/result.hpp"
#include "signoff/model/step.hpp"
#include "signoff/model/workflow_state.hpp"

namespace signoff::model {

/// A workflow: runs its steps on `input` and returns the run's result.
/// It may be called many times for one run (once per resume), so anything
/// with an effect belongs inside a step.
using workflow
  = std::function<result<boost::json::value>(step&, const boost::json::value&)>;

/// Executes `fn` once from the top against `state`'s checkpoints and leaves
/// `state` paused (on the approval it reached), completed or failed, with
/// `updated_at = now`. Never throws: exceptions become `UNEXPECTED_ERROR`.
void run_workflow(const workflow& fn, saved_workflow_state& state,
                  approval_gate& gate, time_point now);

} // namespace signoff::model
