#include "run_actor.hpp"

#include <map>

#include <caf/all.hpp>

namespace signoff::actors::detail {

namespace {

struct run_state {
  std::shared_ptr<const runtime> rt;
  approval_registry_actor registry;
  model::workflow fn;
  model::saved_workflow_state saved;
  /// False until the run was first written, so a new run is stored as
  /// `running` before its first step has any effect.
  bool stored = false;

  static inline const char* name = "signoff.run";
};

using run_pointer = run_actor::stateful_pointer<run_state>;

/// Asks the approval store for approvals as the step engine reaches them,
/// remembering each record for the notifications sent after the pause is
/// persisted.
class store_gate final : public model::approval_gate {
public:
  explicit store_gate(run_pointer self) : self_(self) {}

  model::result<model::approval_status>
  reach(const model::approval_request& request) override {
    const auto& st = self_->state;
    const auto now = st.rt->now();
    model::approval_spec spec{request.options.pending_reason,
                              request.options.metadata,
                              now
                                + request.options.expires_in.value_or(
                                  st.rt->config().default_expiration),
                              request.options.quorum};
    auto found = st.rt->approvals().create_approval(
      request.key, spec, "run:" + st.saved.run_id, now);
    if (found.is_err())
      return found.error();
    const auto& record = found->record;
    if (found->created && record.spec.expires_at)
      self_->send(st.registry, watch_atom_v, *record.spec.expires_at);
    reached_.insert_or_assign(request.key, record);
    return record.status_at(now);
  }

  /// The record last seen for `key`, if the gate reached it.
  [[nodiscard]] const model::approval_record*
  reached(const std::string& key) const {
    auto it = reached_.find(key);
    return it == reached_.end() ? nullptr : &it->second;
  }

private:
  run_pointer self_;
  std::map<std::string, model::approval_record> reached_;
};

/// True if any approval the paused run waits on is no longer pending (or
/// has vanished), so executing again makes progress.
bool has_news(const run_state& st) {
  const auto now = st.rt->now();
  for (const auto& key : st.saved.pending_approvals) {
    auto record = st.rt->approvals().find_approval(key);
    if (record.is_err() || !record.value()
        || !record.value()->status_at(now).is_pending())
      return true;
  }
  return false;
}

model::result<void> persist(run_state& st) {
  auto saved = st.rt->runs().save(st.saved);
  if (saved.is_ok())
    st.stored = true;
  return saved;
}

model::result<model::execution_result> execute(run_pointer self) {
  auto& st = self->state;
  if (!st.stored) {
    if (auto saved = persist(st); saved.is_err())
      return saved.error();
  }
  store_gate gate{self};
  model::run_workflow(st.fn, st.saved, gate, st.rt->now());
  if (auto saved = persist(st); saved.is_err())
    return saved.error();
  for (const auto& key : st.saved.pending_approvals) {
    const auto* record = gate.reached(key);
    if (record == nullptr)
      continue;
    auto event = make_event(*record, record->status);
    event.run_id = st.saved.run_id;
    event.workflow_name = st.saved.workflow_name;
    st.rt->approval_needed(event);
  }
  if (model::is_finished(st.saved.status))
    st.rt->log("run '" + st.saved.run_id + "' "
               + std::string{to_string(st.saved.status)});
  return model::execution_result::of(st.saved);
}

model::result<model::execution_result> cancel(run_pointer self,
                                              std::string reason) {
  auto& st = self->state;
  if (st.saved.status != model::run_status::paused)
    return model::make_error(model::error_type::invalid_run_state,
                             "run '" + st.saved.run_id + "' is "
                               + std::string{to_string(st.saved.status)}
                               + "; only a paused run can be cancelled");
  auto previous = st.saved;
  auto waited_on = st.saved.pending_approvals;
  st.saved.status = model::run_status::cancelled;
  st.saved.pending_approvals.clear();
  st.saved.pending_reason.clear();
  st.saved.updated_at = st.rt->now();
  st.saved.outcome = model::err(model::make_error(
    model::error_type::approval_cancelled,
    reason.empty() ? "the run was cancelled" : std::move(reason)));
  if (auto saved = persist(st); saved.is_err()) {
    st.saved = std::move(previous);
    return saved.error();
  }
  auto reply = model::execution_result::of(st.saved);
  reply.pending_approvals = std::move(waited_on);
  return reply;
}

run_actor::behavior_type
run_behavior(run_pointer self, std::shared_ptr<const runtime> rt,
             approval_registry_actor registry, model::workflow fn,
             model::saved_workflow_state state, bool stored) {
  auto& st = self->state;
  st.rt = std::move(rt);
  st.registry = std::move(registry);
  st.fn = std::move(fn);
  st.saved = std::move(state);
  st.stored = stored;
  return {
    [self](run_atom) -> model::result<model::execution_result> {
      const auto& saved = self->state.saved;
      if (model::is_finished(saved.status)
          || (saved.status == model::run_status::paused
              && !has_news(self->state)))
        return model::execution_result::of(saved);
      return execute(self);
    },
    [self](cancel_run_atom, std::string& reason) {
      return cancel(self, std::move(reason));
    },
    [self](passivate_atom) { self->quit(); },
  };
}

} // namespace

run_actor spawn_run(caf::actor_system& system,
                    std::shared_ptr<const runtime> rt,
                    approval_registry_actor registry, model::workflow fn,
                    model::saved_workflow_state state, bool stored) {
  return system.spawn(run_behavior, std::move(rt), std::move(registry),
                      std::move(fn), std::move(state), stored);
}

} // namespace signoff::actors::detail
