#include "run_actor.hpp"

#include <map>

#include "signoff/model/decision_rules.hpp"

#include <caf/all.hpp>

namespace signoff::actors::detail {

namespace {

using execution_reply = model::result<model::execution_result>;
using execution_promise = caf::typed_response_promise<execution_reply>;

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

/// What the step engine learns about approvals during one execution. An
/// approval nobody asked for yet is created in the same commit that saves
/// the paused run, so a crash can never leave one without the other.
class store_gate final : public model::approval_gate {
public:
  explicit store_gate(const run_state& st) : st_(st) {}

  model::result<model::approval_status>
  reach(const model::approval_request& request) override {
    const auto now = st_.rt->now();
    auto found = st_.rt->approvals().find_approval(request.key);
    if (found.is_err())
      return found.error();
    if (found.value()) {
      reached_.insert_or_assign(request.key, *found.value());
      return found.value()->status_at(now);
    }
    model::approval_spec spec{request.options.pending_reason,
                              request.options.metadata,
                              now
                                + request.options.expires_in.value_or(
                                  st_.rt->config().default_expiration),
                              request.options.quorum};
    auto fresh = model::new_approval(request.key, spec, now);
    if (fresh.is_err())
      return fresh.error();
    reached_.insert_or_assign(request.key, fresh.value());
    to_create_.insert_or_assign(request.key, std::move(spec));
    return model::approval_status{};
  }

  /// Approvals to create with the next save.
  [[nodiscard]] const std::map<std::string, model::approval_spec>&
  to_create() const noexcept {
    return to_create_;
  }

  /// The record last seen (or about to be created) for `key`.
  [[nodiscard]] const model::approval_record*
  reached(const std::string& key) const {
    auto it = reached_.find(key);
    return it == reached_.end() ? nullptr : &it->second;
  }

private:
  const run_state& st_;
  std::map<std::string, model::approval_record> reached_;
  std::map<std::string, model::approval_spec> to_create_;
};

/// The results of one persist job, filled in by the store writer.
struct persisted {
  model::result<void> outcome;
  /// Approvals the job created (their deadlines go to the registry).
  std::vector<model::approval_record> created;
  /// An approval to create was decided already (a decision came first).
  bool decided_meanwhile = false;
};

/// Writes `state` (and creates `to_create`) in the next group commit and
/// calls `then` in this actor once it is durable; no other message of the
/// run is handled in between.
void persist(run_pointer self, model::saved_workflow_state state,
             std::map<std::string, model::approval_spec> to_create,
             std::function<void(const persisted&)> then) {
  auto rt = self->state.rt;
  auto slot = std::make_shared<persisted>();
  auto job
    = [rt, state = std::move(state), to_create = std::move(to_create), slot] {
        *slot = persisted{};
        const auto now = rt->now();
        const auto actor = "run:" + state.run_id;
        for (const auto& [key, spec] : to_create) {
          auto made = rt->approvals().create_approval(key, spec, actor, now);
          if (made.is_err()) {
            slot->outcome = made.error();
            return;
          }
          if (made->created)
            slot->created.push_back(made->record);
          else if (!made->record.status_at(now).is_pending())
            slot->decided_meanwhile = true;
        }
        for (const auto& record : slot->created) {
          auto event = make_event(record, record.status);
          event.run_id = state.run_id;
          event.workflow_name = state.workflow_name;
          if (auto kept = rt->keep(event, "approval.needed"); kept.is_err()) {
            slot->outcome = kept.error();
            return;
          }
        }
        auto stored = state;
        // The run goes on at once; stored as running, recovery resumes it
        // should the process die first.
        if (slot->decided_meanwhile)
          stored.status = model::run_status::running;
        slot->outcome = rt->runs().save(stored);
      };
  self
    ->request(rt->writer(), caf::infinite, write_atom_v,
              write_job{std::move(job)})
    .await(
      [self, slot, then](model::result<void>& committed) {
        if (committed.is_err())
          slot->outcome = committed.error();
        if (slot->outcome.is_ok())
          self->state.stored = true;
        then(*slot);
      },
      [self, slot, then](caf::error& e) {
        slot->outcome = model::make_error(model::error_type::storage_error,
                                          self->system().render(e));
        then(*slot);
      });
}

void announce_pause(run_state& st, const store_gate& gate) {
  for (const auto& key : st.saved.pending_approvals) {
    const auto* record = gate.reached(key);
    if (record == nullptr)
      continue;
    auto event = make_event(*record, record->status);
    event.run_id = st.saved.run_id;
    event.workflow_name = st.saved.workflow_name;
    st.rt->approval_needed(event);
  }
}

/// Executes the workflow once, persists the outcome and delivers it to
/// `rp`; executes again at once if an approval it paused on turned out to
/// be decided already.
void execute_into(run_pointer self, execution_promise rp) {
  auto& st = self->state;
  if (!st.stored) {
    persist(self, st.saved, {}, [self, rp](const persisted& p) mutable {
      if (p.outcome.is_err())
        rp.deliver(execution_reply{p.outcome.error()});
      else
        execute_into(self, rp);
    });
    return;
  }
  auto gate = std::make_shared<store_gate>(st);
  model::run_workflow(st.fn, st.saved, *gate, st.rt->now());
  persist(self, st.saved, gate->to_create(),
          [self, rp, gate](const persisted& p) mutable {
            auto& st = self->state;
            if (p.outcome.is_err()) {
              rp.deliver(execution_reply{p.outcome.error()});
              return;
            }
            for (const auto& record : p.created)
              if (record.spec.expires_at)
                self->send(st.registry, watch_atom_v, *record.spec.expires_at);
            if (p.decided_meanwhile) {
              execute_into(self, rp);
              return;
            }
            announce_pause(st, *gate);
            if (model::is_finished(st.saved.status))
              st.rt->log("run '" + st.saved.run_id + "' "
                         + std::string{to_string(st.saved.status)});
            rp.deliver(execution_reply{model::execution_result::of(st.saved)});
          });
}

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

caf::result<execution_reply> cancel(run_pointer self, std::string reason) {
  auto& st = self->state;
  if (st.saved.status != model::run_status::paused)
    return execution_reply{
      model::make_error(model::error_type::invalid_run_state,
                        "run '" + st.saved.run_id + "' is "
                          + std::string{to_string(st.saved.status)}
                          + "; only a paused run can be cancelled")};
  auto cancelled = st.saved;
  cancelled.status = model::run_status::cancelled;
  cancelled.pending_approvals.clear();
  cancelled.pending_reason.clear();
  cancelled.updated_at = st.rt->now();
  cancelled.outcome = model::err(model::make_error(
    model::error_type::approval_cancelled,
    reason.empty() ? "the run was cancelled" : std::move(reason)));
  auto rp = self->make_response_promise<execution_reply>();
  persist(self, cancelled, {},
          [self, rp, cancelled](const persisted& p) mutable {
            if (p.outcome.is_err()) {
              rp.deliver(execution_reply{p.outcome.error()});
              return;
            }
            auto waited_on = std::move(self->state.saved.pending_approvals);
            self->state.saved = cancelled;
            auto reply = model::execution_result::of(cancelled);
            reply.pending_approvals = std::move(waited_on);
            rp.deliver(execution_reply{std::move(reply)});
          });
  return rp;
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
    [self](run_atom) -> caf::result<execution_reply> {
      const auto& saved = self->state.saved;
      if (model::is_finished(saved.status)
          || (saved.status == model::run_status::paused
              && !has_news(self->state)))
        return execution_reply{model::execution_result::of(saved)};
      auto rp = self->make_response_promise<execution_reply>();
      execute_into(self, rp);
      return rp;
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
