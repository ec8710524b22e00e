#pragma once

// What each command found or did, before it is printed as text or JSON.

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include "signoff/model/approval.hpp"
#include "signoff/model/audit_entry.hpp"
#include "signoff/model/time.hpp"
#include "signoff/model/workflow_state.hpp"
#include "signoff/persistence/cleanup.hpp"

namespace signoff::cli {

/// `pending`: the pending approvals, in key order.
struct pending_report {
  std::vector<model::approval_record> approvals;
};

/// `show`: one approval and its audit trail, as of `now`.
struct approval_report {
  model::approval_record record;
  std::vector<model::audit_entry> trail;
  model::time_point now;
};

/// `approve`, `reject`, `edit`, `cancel`: the decision and its outcome.
struct decision_report {
  model::decision decision;
  model::decision_outcome outcome;
};

/// `comment`: the audit entry the comment was recorded as (naming who a
/// server recorded it under).
struct comment_report {
  model::audit_entry entry;
};

/// `reassign`, `delegate`: the change asked for (naming who a server
/// recorded it under) and the record after it.
struct assignment_report {
  model::assignment_change change;
  model::decision_outcome outcome;
};

/// One key of `bulk`: the state the decision left it in, or why it was not
/// decided.
struct bulk_line {
  std::string key;
  model::result<model::approval_state> outcome;
};

/// `bulk`: each key's outcome, in the order they were decided, and who
/// decided (a server records its token's identity).
struct bulk_report {
  model::decision_kind kind = model::decision_kind::grant;
  std::string actor;
  std::vector<bulk_line> lines;

  /// How many keys were not decided.
  [[nodiscard]] std::size_t failed() const {
    std::size_t n = 0;
    for (const auto& line : lines)
      n += line.outcome.is_err() ? 1 : 0;
    return n;
  }
};

/// `runs`: the matching runs, in id order.
struct runs_report {
  std::vector<model::saved_workflow_state> runs;
};

/// `status`: one run.
struct run_report {
  model::saved_workflow_state run;
};

/// `cleanup`: the cutoff, and the runs and approvals removed.
using cleanup_report = persistence::cleanup_report;

using report = std::variant<pending_report, approval_report, decision_report,
                            comment_report, assignment_report, bulk_report,
                            runs_report, run_report, cleanup_report>;

} // namespace signoff::cli
