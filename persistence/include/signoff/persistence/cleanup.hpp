#pragma once

// Removing old finished runs and the approvals nobody needs any more: what
// the orchestrator's `cleanup` and the `signoff cleanup` command both do.

#include <string>
#include <vector>

#include <boost/json/conversion.hpp>
#include <boost/json/value.hpp>

#include "signoff/model/result.hpp"
#include "signoff/model/time.hpp"
#include "signoff/persistence/approval_store.hpp"
#include "signoff/persistence/workflow_state_store.hpp"

namespace signoff::persistence {

/// What a cleanup removed.
struct cleanup_report {
  /// Finished runs last updated before this instant were removed.
  model::time_point cutoff{};
  /// The removed runs, least recently updated first.
  std::vector<std::string> runs{};
  /// The removed approvals (with their audit trails).
  std::vector<std::string> approvals{};
};

/// `now - max_age`, but never before the epoch: stores keep instants
/// unsigned, and an age older than the epoch means "nothing".
[[nodiscard]] model::time_point cleanup_cutoff(model::time_point now,
                                               model::duration max_age);

/// Removes the finished runs last updated before `cutoff`, and each decided
/// approval they reached that no paused run waits on. Running and paused
/// runs, and pending approvals, are never removed. What it checks before
/// removing stays true meanwhile whatever else happens: a finished run
/// never changes again, and no run starts waiting on a decided approval
/// (it takes the decision). So the removals need not share one commit.
/// Errors: those of the stores. A failed read leaves everything as it was;
/// a removal that fails leaves the rest for the next cleanup.
[[nodiscard]] model::result<cleanup_report>
remove_finished_runs(approval_store& approvals, workflow_state_store& runs,
                     model::time_point cutoff);

/// `{"cutoff": ms, "runsRemoved": [...], "approvalsRemoved": [...]}`.
void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const cleanup_report& r);

boost::json::result<cleanup_report>
tag_invoke(boost::json::try_value_to_tag<cleanup_report>,
           const boost::json::value& in);

} // namespace signoff::persistence
