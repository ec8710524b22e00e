#pragma once

/// @file
/// Everything signoff offers, in one include, and the glossary of its
/// public types.
///
/// Model (`signoff::model`, target signoff::model)
/// - `result<T>`, `ok()`, `err()`: a value or an `error`.
/// - `error`, `error_type::...`: stable codes such as `APPROVAL_REJECTED`.
/// - `approval_state`, `approval_status`: pending / approved / edited /
///   rejected / expired / cancelled, with who, when, why and the value.
/// - `approval_record`, `approval_spec`, `approval_grant`: an approval as
///   stored: deadline, quorum and the grants so far.
/// - `decision`, `decision_kind`: a grant, edit, reject, cancel or expiry.
/// - `audit_entry`: one change in an approval's trail.
/// - `saved_workflow_state`, `run_status`, `checkpoint`: a run between two
///   executions; `execution_result`: what execute and resume answer.
/// - `task`, `approval_options`, `approval_step`: writing workflows whose
///   completed steps are never run twice; `decided_approval`: what a wait
///   on several approvals returns, one key and its status.
/// - `approval_event`, `event_json()`: what approvers are notified of.
/// - `parse_json()`: reads JSON text with every number exact, as stored.
///
/// Persistence (`signoff::persistence`, target signoff::persistence)
/// - `approval_store`, `workflow_state_store`: the storage interfaces;
///   `approval_change`, `run_change`: the changes they apply; `journal`:
///   the group-committed write path of a durable store.
/// - `make_memory_approval_store()`, `make_memory_workflow_state_store()`;
///   `open_lmdb_stores()` (`signoff/persistence/lmdb_store.hpp`).
///
/// Actors (`signoff::actors`, target signoff::actors)
/// - `orchestrator_actor`: the typed protocol of the orchestrator actor;
///   `spawn_orchestrator()`, `orchestrator_config` (its `use_lmdb_stores()`
///   takes what `open_lmdb_stores()` opened), `notification_hooks`.
/// - `workflow_registration`, `execute_request`, `decision_request`,
///   `decision_report`, `cancel_run_request`, `cleanup_request`,
///   `cleanup_report`: the messages' payloads.
///
/// Workflows and the blocking API (`signoff`)
/// - `workflow`, `step`, `task`: a workflow coroutine and its steps,
///   including `step.request` to any actor.
/// - `orchestrator`: thread-safe calls with the reference's names.
/// - `approval_webhook_handler`, `parse_webhook_body`, `approval_checker`.

#include "signoff/actors/messages.hpp"
#include "signoff/actors/orchestrator_actor.hpp"
#include "signoff/model/approval.hpp"
#include "signoff/model/approval_event.hpp"
#include "signoff/model/approval_wait.hpp"
#include "signoff/model/audit_entry.hpp"
#include "signoff/model/decision_rules.hpp"
#include "signoff/model/error.hpp"
#include "signoff/model/json_text.hpp"
#include "signoff/model/result.hpp"
#include "signoff/model/step.hpp"
#include "signoff/model/task.hpp"
#include "signoff/model/time.hpp"
#include "signoff/model/workflow_state.hpp"
#include "signoff/orchestrator.hpp"
#include "signoff/persistence/approval_store.hpp"
#include "signoff/persistence/journal.hpp"
#include "signoff/persistence/memory_store.hpp"
#include "signoff/persistence/workflow_state_store.hpp"
#include "signoff/step.hpp"
#include "signoff/webhook.hpp"
