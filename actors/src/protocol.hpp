#pragma once

// The private messages between signoff's own actors: never part of the
// public protocol, so their atoms carry a prefix no program is likely to
// use for its own.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/type_id.hpp>

#include "signoff/actors/messages.hpp"
#include "signoff/model/approval.hpp"
#include "signoff/model/step.hpp"
#include "signoff/persistence/journal.hpp"

namespace signoff::actors::detail {

/// A run asks the shard owning `request.key` for the approval: its status,
/// creating it pending (and registering the run as a waiter) if needed.
struct reach_request {
  std::string run_id{};
  std::string workflow_name{};
  /// The run's actor, woken directly while it stays resident.
  caf::actor run{};
  std::string key{};
  /// How to create the approval if nobody asked for it yet.
  model::approval_spec spec{};
  /// The run lives on another node of the cluster: `run` is that node's
  /// watcher, woken with a `routed_wake` naming the run.
  bool remote = false;
};

/// The status of a decided approval, sent to each run waiting on it.
struct wake_message {
  std::string key{};
  model::approval_status status{};
};

/// A wake the shard could not deliver to a resident run: the directory
/// re-activates the run from the store and delivers it.
struct routed_wake {
  std::string run_id{};
  wake_message wake{};
};

/// How a run took a wake.
struct wake_report {
  /// True if the run was waiting on the key and went on with the decision.
  bool resumed = false;
  /// True if the run could not be woken (its workflow is not registered,
  /// the store failed): its key stays owed a wake, to be tried again.
  bool failed = false;
};

/// An instant, wrapped so our messages never declare a std type.
struct deadline {
  model::time_point at{};
};

} // namespace signoff::actors::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(signoff::actors::detail::reach_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(signoff::actors::detail::wake_message)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(signoff::actors::detail::routed_wake)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(signoff::actors::detail::wake_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(signoff::actors::detail::deadline)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(signoff::persistence::write_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(signoff::model::result<void>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
  signoff::model::result<signoff::model::approval_status>)

// Not a type-ID block of its own: CAF 0.17 atoms are values, and these only
// need names that no public or user message shares.
CAF_ADD_ATOM(signoff, signoff::actors::detail, start_atom, "so_start")
CAF_ADD_ATOM(signoff, signoff::actors::detail, wake_atom, "so_wake")
CAF_ADD_ATOM(signoff, signoff::actors::detail, reach_atom, "so_reach")
CAF_ADD_ATOM(signoff, signoff::actors::detail, reach_carrying_atom, "so_reachc")
CAF_ADD_ATOM(signoff, signoff::actors::detail, created_atom, "so_created")
CAF_ADD_ATOM(signoff, signoff::actors::detail, retry_atom, "so_retry")
CAF_ADD_ATOM(signoff, signoff::actors::detail, forget_atom, "so_forget")
CAF_ADD_ATOM(signoff, signoff::actors::detail, passivate_atom, "so_passiv")
CAF_ADD_ATOM(signoff, signoff::actors::detail, parked_atom, "so_parked")
CAF_ADD_ATOM(signoff, signoff::actors::detail, finished_atom, "so_finish")
CAF_ADD_ATOM(signoff, signoff::actors::detail, step_done_atom, "so_stepend")
CAF_ADD_ATOM(signoff, signoff::actors::detail, commit_atom, "so_commit")
CAF_ADD_ATOM(signoff, signoff::actors::detail, settle_atom, "so_settle")
CAF_ADD_ATOM(signoff, signoff::actors::detail, flush_atom, "so_flush")
CAF_ADD_ATOM(signoff, signoff::actors::detail, settle_flush_atom, "so_sflush")
CAF_ADD_ATOM(signoff, signoff::actors::detail, committed_atom, "so_commitd")
CAF_ADD_ATOM(signoff, signoff::actors::detail, tick_atom, "so_tick")
CAF_ADD_ATOM(signoff, signoff::actors::detail, watch_atom, "so_watch")
CAF_ADD_ATOM(signoff, signoff::actors::detail, owed_atom, "so_owed")
CAF_ADD_ATOM(signoff, signoff::actors::detail, sweep_atom, "so_sweep")
