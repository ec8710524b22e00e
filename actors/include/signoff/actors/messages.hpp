#pragma once

// The public message vocabulary of the orchestrator actor: its atoms, and
// the request and report types. Every payload is a type of signoff's own
// (JSON values, instants and workflow functions travel inside them), so a
// program that declares message types of its own never collides with ours.

#include <cstddef>
#include <string>
#include <vector>

#include <boost/json/value.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/type_id.hpp>

#include "signoff/model/approval.hpp"
#include "signoff/model/audit_entry.hpp"
#include "signoff/model/result.hpp"
#include "signoff/model/workflow_state.hpp"
#include "signoff/persistence/cleanup.hpp"
#include "signoff/persistence/workflow_state_store.hpp"
#include "signoff/step.hpp"

namespace signoff::actors {

/// Registers (or replaces) the workflow run under a name.
struct workflow_registration {
  std::string name{};
  workflow fn{};
};

/// Starts a run of a registered workflow.
struct execute_request {
  /// The name the workflow was registered under.
  std::string workflow_name{};
  boost::json::value input{};
  /// The run's id; empty to have one generated. Must not exist yet.
  std::string run_id{};
  /// Kept with the run and shown with its status.
  boost::json::value metadata{};
};

/// A decision and what to do once it is committed.
struct decision_request {
  model::decision decision{};
  /// Resume every run waiting on the key before replying.
  bool auto_resume = true;
};

/// What a committed decision did.
struct decision_report {
  /// The approval after the decision.
  model::approval_record approval{};
  /// False for an idempotent repeat.
  bool applied = false;
  /// When the approval was decided (now, for a quorum step).
  model::time_point decided_at{};
  /// Runs resumed by this decision (with `auto_resume`).
  std::vector<std::string> resumed_workflows{};
};

/// A comment on an approval: discussion that decides nothing.
struct comment_request {
  std::string key{};
  /// What is said (at most `model::max_comment_bytes`).
  std::string text{};
  /// Who says it; must not be empty.
  std::string actor{};
};

/// Cancels a paused run and then its pending approvals.
struct cancel_run_request {
  std::string run_id{};
  /// Why; the run's error message (a default one when empty).
  std::string reason{};
  /// Who cancels: recorded in the run (`cancelled_by`, and its outcome's
  /// details) and in the audit trail of the approvals cancelled with it.
  /// Empty records "run:<id>": cancelled on the run's behalf, nobody named.
  std::string actor{};
};

/// Removes finished runs last updated more than `max_age` ago.
struct cleanup_request {
  model::duration max_age{};
};

/// What `cleanup` removed: the cutoff, the runs and the approvals.
using cleanup_report = persistence::cleanup_report;

} // namespace signoff::actors

// The orchestrator's messages never leave the process, so they carry plain
// C++ values (JSON trees, functions) that CAF never serializes.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(signoff::actors::workflow_registration)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(signoff::actors::execute_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(signoff::actors::decision_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(signoff::actors::comment_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(signoff::model::assignment_change)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(signoff::actors::cancel_run_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(signoff::actors::cleanup_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(signoff::persistence::run_filter)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
  signoff::model::result<signoff::model::execution_result>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
  signoff::model::result<signoff::actors::decision_report>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
  signoff::model::result<signoff::model::saved_workflow_state>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
  signoff::model::result<signoff::model::approval_record>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(signoff::model::result<std::vector<std::string>>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
  signoff::model::result<std::vector<signoff::model::audit_entry>>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
  signoff::model::result<signoff::model::audit_entry>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
  signoff::model::result<signoff::model::decision_outcome>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
  signoff::model::result<signoff::actors::cleanup_report>)

CAF_BEGIN_TYPE_ID_BLOCK(signoff, caf::first_custom_type_id)

  CAF_ADD_ATOM(signoff, signoff::actors, register_atom, "register")
  CAF_ADD_ATOM(signoff, signoff::actors, execute_atom, "execute")
  CAF_ADD_ATOM(signoff, signoff::actors, resume_atom, "resume")
  CAF_ADD_ATOM(signoff, signoff::actors, decide_atom, "decide")
  CAF_ADD_ATOM(signoff, signoff::actors, cancel_run_atom, "cancelrun")
  CAF_ADD_ATOM(signoff, signoff::actors, status_atom, "status")
  CAF_ADD_ATOM(signoff, signoff::actors, list_runs_atom, "listruns")
  CAF_ADD_ATOM(signoff, signoff::actors, waiting_atom, "waiting")
  CAF_ADD_ATOM(signoff, signoff::actors, approval_atom, "approval")
  CAF_ADD_ATOM(signoff, signoff::actors, pending_atom, "pending")
  CAF_ADD_ATOM(signoff, signoff::actors, audit_atom, "audit")
  CAF_ADD_ATOM(signoff, signoff::actors, cleanup_atom, "cleanup")
  CAF_ADD_ATOM(signoff, signoff::actors, expire_atom, "expire")
  CAF_ADD_ATOM(signoff, signoff::actors, resident_atom, "resident")
  CAF_ADD_ATOM(signoff, signoff::actors, comment_atom, "comment")
  CAF_ADD_ATOM(signoff, signoff::actors, assign_atom, "assign")
  CAF_ADD_ATOM(signoff, signoff::actors, cluster_atom, "cluster")

CAF_END_TYPE_ID_BLOCK(signoff)
