#pragma once

#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/conversion.hpp>
#include <boost/json/value.hpp>

#include "signoff/model/result.hpp"
#include "signoff/model/time.hpp"

namespace signoff::model {

/// Where a run is in its life.
enum class run_status { running, paused, completed, failed, cancelled };

[[nodiscard]] std::string_view to_string(run_status s) noexcept;
/// Prints `to_string(s)`, the name the JSON and HTTP answers use.
std::ostream& operator<<(std::ostream& os, run_status s);
[[nodiscard]] std::optional<run_status>
parse_run_status(std::string_view text) noexcept;

/// True for completed, failed and cancelled: the run will not execute again.
[[nodiscard]] constexpr bool is_finished(run_status s) noexcept {
  return s == run_status::completed || s == run_status::failed
         || s == run_status::cancelled;
}

/// A completed step's saved result, replayed instead of running it again.
using checkpoint = result<boost::json::value>;

/// Appends to `out` the JSON text of `value_from(saved)`, written without
/// building that value (which would copy the whole of a large result).
void append_json(std::string& out, const checkpoint& saved);

/// Everything needed to resume a run: the reference's SavedWorkflowState
/// plus the run's status and final result.
struct saved_workflow_state {
  std::string run_id;
  std::string workflow_name;
  run_status status = run_status::running;
  /// Completed steps by key (the reference's resume state).
  std::map<std::string, checkpoint> checkpoints;
  /// Approval keys the run is paused on.
  std::vector<std::string> pending_approvals;
  /// Every approval key the run has reached, for cleanup.
  std::vector<std::string> approval_keys;
  /// Why the run paused (the approval's pending reason).
  std::string pending_reason;
  boost::json::value input;
  boost::json::value metadata;
  time_point started_at;
  time_point updated_at;
  /// Set once the run is finished.
  std::optional<result<boost::json::value>> outcome;
  /// Who cancelled the run through `cancel_run` (the same actor the audit
  /// trail of its approvals names); empty for a run not cancelled so.
  std::string cancelled_by;

  friend bool operator==(const saved_workflow_state&,
                         const saved_workflow_state&)
    = default;
};

/// What `execute` and `resume` answer: completed/failed with the result, or
/// paused with the approvals it waits for. Always carries the run id.
struct execution_result {
  run_status status = run_status::running;
  std::string run_id;
  std::optional<result<boost::json::value>> outcome;
  std::vector<std::string> pending_approvals;
  std::string reason;

  /// Builds the answer for `state` as it stands.
  [[nodiscard]] static execution_result of(const saved_workflow_state& state);

  friend bool operator==(const execution_result&, const execution_result&)
    = default;
};

/// Checks what stores index a run by: its run id, workflow name and pending
/// approval keys, within `limits.hpp`. Errors: INVALID_ARGUMENT.
[[nodiscard]] result<void> validate_run_identity(const saved_workflow_state& s);

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                run_status s);
boost::json::result<run_status>
tag_invoke(boost::json::try_value_to_tag<run_status>,
           const boost::json::value& in);
/// Persisted form; carries a format `version`.
void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const saved_workflow_state& s);
/// Appends to `out` the JSON text of `s` without its checkpoints
/// ("resumeState"), input and metadata: what a store that keeps those apart
/// rewrites on every change of the run, written without copying them.
void append_header_json(std::string& out, const saved_workflow_state& s);
boost::json::result<saved_workflow_state>
tag_invoke(boost::json::try_value_to_tag<saved_workflow_state>,
           const boost::json::value& in);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const execution_result& r);
boost::json::result<execution_result>
tag_invoke(boost::json::try_value_to_tag<execution_result>,
           const boost::json::value& in);

} // namespace signoff::model
