#include "runtime.hpp"

#include <exception>
#include <string>

#include <caf/all.hpp>

#include "signoff/persistence/memory_store.hpp"

namespace signoff::actors::detail {

namespace {

void call_hook(const runtime& rt, const char* name,
               const std::function<void(const approval_event&)>& hook,
               const approval_event& event) noexcept {
  if (!hook)
    return;
  try {
    hook(event);
  } catch (const std::exception& e) {
    rt.log(std::string{name} + " hook failed for '" + event.key
           + "': " + e.what());
  } catch (...) {
    rt.log(std::string{name} + " hook failed for '" + event.key + "'");
  }
}

} // namespace

runtime::runtime(caf::actor_system& system, orchestrator_config config)
    : config_(std::move(config)) {
  if (!config_.approval_store)
    config_.approval_store = persistence::make_memory_approval_store();
  if (!config_.workflow_state_store)
    config_.workflow_state_store
      = persistence::make_memory_workflow_state_store();
  if (!config_.clock)
    config_.clock = model::system_now;
  if (!config_.commit_group)
    config_.commit_group = persistence::make_immediate_commit_group();
  if (config_.expiry_batch == 0)
    config_.expiry_batch = 1;
  if (config_.recovery_concurrency == 0)
    config_.recovery_concurrency = 1;
  writer_ = spawn_store_writer(system, config_.commit_group);
}

model::result<void> runtime::keep(const approval_event& event,
                                  std::string_view type) const {
  if (!config_.outbox)
    return model::ok();
  const auto at = now();
  return config_.outbox->append(event_json(event, type, at), at);
}

void runtime::log(std::string_view line) const noexcept {
  if (!config_.logger)
    return;
  try {
    config_.logger(line);
  } catch (...) { // NOLINT(bugprone-empty-catch): a logger must not kill us
  }
}

approval_event
runtime::resolved_event(const model::approval_record& record) const {
  auto event = make_event(record, record.status);
  // Read before the runs are woken: they still wait on the key.
  if (auto waiting = runs().find_by_pending_approval(record.key);
      waiting.is_ok() && !waiting->empty()) {
    event.run_ids = std::move(waiting.value());
    event.run_id = event.run_ids.front();
    if (auto run = runs().load(event.run_id); run.is_ok() && run.value())
      event.workflow_name = run.value()->workflow_name;
  }
  return event;
}

void runtime::approval_needed(const approval_event& event) const noexcept {
  log("run '" + event.run_id + "' waits for approval '" + event.key + "'");
  call_hook(*this, "on_approval_needed", config_.hooks.on_approval_needed,
            event);
}

void runtime::approval_resolved(const approval_event& event) const noexcept {
  log("approval '" + event.key + "' "
      + std::string{to_string(event.status.state)}
      + (event.status.decided_by.empty() ? ""
                                         : " by " + event.status.decided_by));
  call_hook(*this, "on_approval_resolved", config_.hooks.on_approval_resolved,
            event);
}

} // namespace signoff::actors::detail

namespace signoff::actors {

boost::json::value event_json(const approval_event& event,
                              std::string_view type, model::time_point at) {
  return {
    {"type", type},
    {"key", event.key},
    {"status", boost::json::value_from(event.status)},
    {"runId", event.run_id},
    {"workflowName", event.workflow_name},
    {"runIds",
     boost::json::value_from(event.run_ids.empty() && !event.run_id.empty()
                               ? std::vector<std::string>{event.run_id}
                               : event.run_ids)},
    {"pendingReason", event.pending_reason},
    {"metadata", event.metadata},
    {"expiresAt", event.expires_at
                    ? boost::json::value(model::to_millis(*event.expires_at))
                    : boost::json::value{}},
    {"at", model::to_millis(at)}};
}

} // namespace signoff::actors

namespace signoff::actors::detail {

approval_event make_event(const model::approval_record& record,
                          const model::approval_status& status) {
  approval_event event;
  event.key = record.key;
  event.status = status;
  event.pending_reason = record.spec.pending_reason;
  event.metadata = record.spec.metadata;
  event.expires_at = record.spec.expires_at;
  return event;
}

} // namespace signoff::actors::detail
