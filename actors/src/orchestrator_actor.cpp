#include "signoff/actors/orchestrator_actor.hpp"

#include <random>
#include <unordered_map>

#include <caf/all.hpp>

#include "approval_registry.hpp"
#include "run_actor.hpp"

namespace signoff::actors {

namespace {

using detail::run_actor;
using model::execution_result;
using model::result;

using run_reply = std::function<void(result<execution_result>)>;

struct orchestrator_state {
  std::shared_ptr<const detail::runtime> rt;
  approval_registry_actor registry;
  std::unordered_map<std::string, model::workflow> workflows;
  /// Run actors alive now. A run has at most one actor, and only this
  /// actor sends to it: that is what serializes every resume of a run.
  std::unordered_map<std::string, run_actor> resident;
  std::mt19937_64 ids{std::random_device{}()};

  static inline const char* name = "signoff.orchestrator";
};

using orchestrator_pointer
  = orchestrator_actor::stateful_pointer<orchestrator_state>;

model::error not_found(const std::string& what) {
  return model::make_error(model::error_type::not_found, what);
}

std::string new_run_id(orchestrator_state& st) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string id = "run_";
  for (int half = 0; half < 2; ++half) {
    auto bits = st.ids();
    for (int i = 0; i < 16; ++i, bits >>= 4)
      id += hex[bits & 0xF];
  }
  return id;
}

/// Forgets a finished run's actor and lets it quit. Messages sent to it
/// before are still handled: they precede the passivate message.
void retire(orchestrator_pointer self, const std::string& run_id) {
  auto it = self->state.resident.find(run_id);
  if (it == self->state.resident.end())
    return;
  self->send(it->second, passivate_atom_v);
  self->state.resident.erase(it);
}

/// Sends `run_atom` to the run's actor and hands the reply to `done`.
void drive(orchestrator_pointer self, const std::string& run_id,
           const run_actor& run, run_reply done) {
  self->request(run, caf::infinite, run_atom_v)
    .then(
      [self, run_id, done](result<execution_result>& reply) {
        if (reply.is_ok() && model::is_finished(reply->status))
          retire(self, run_id);
        done(std::move(reply));
      },
      [self, done](caf::error& e) {
        done(model::make_error(model::error_type::unexpected_error,
                               self->system().render(e)));
      });
}

/// The run's actor, re-activated from the store if it is not resident.
/// A finished run needs no actor: its stored state is the answer.
result<std::optional<run_actor>> activate(orchestrator_pointer self,
                                          const std::string& run_id,
                                          execution_result& finished) {
  auto& st = self->state;
  if (auto it = st.resident.find(run_id); it != st.resident.end())
    return std::optional{it->second};
  auto loaded = st.rt->runs().load(run_id);
  if (loaded.is_err())
    return loaded.error();
  if (!loaded.value())
    return not_found("no run '" + run_id + "' exists");
  auto& state = *loaded.value();
  if (model::is_finished(state.status)) {
    finished = execution_result::of(state);
    return std::optional<run_actor>{};
  }
  auto fn = st.workflows.find(state.workflow_name);
  if (fn == st.workflows.end())
    return model::make_error(model::error_type::unknown_workflow,
                             "run '" + run_id + "' belongs to workflow '"
                               + state.workflow_name
                               + "', which is not registered");
  auto run = detail::spawn_run(self->system(), st.rt, st.registry, fn->second,
                               std::move(state), true);
  st.resident.emplace(run_id, run);
  return std::optional{run};
}

/// Resumes `run_id` and hands the outcome to `done`.
void resume(orchestrator_pointer self, const std::string& run_id,
            run_reply done) {
  execution_result finished;
  auto run = activate(self, run_id, finished);
  if (run.is_err())
    done(run.error());
  else if (!run.value())
    done(std::move(finished));
  else
    drive(self, run_id, *run.value(), std::move(done));
}

/// Resumes every run waiting on `key`; `done` gets the ids that resumed.
void wake_waiting(orchestrator_pointer self, const std::string& key,
                  std::function<void(std::vector<std::string>)> done) {
  auto waiting = self->state.rt->runs().find_by_pending_approval(key);
  if (waiting.is_err()) {
    self->state.rt->log("finding runs waiting on '" + key
                        + "' failed: " + waiting.error().message);
    waiting = std::vector<std::string>{};
  }
  if (waiting->empty()) {
    done({});
    return;
  }
  struct fan_in {
    std::size_t outstanding;
    std::vector<std::string> resumed;
    std::function<void(std::vector<std::string>)> done;
  };
  auto pending
    = std::make_shared<fan_in>(fan_in{waiting->size(), {}, std::move(done)});
  for (const auto& run_id : waiting.value())
    resume(self, run_id,
           [self, run_id, pending](result<execution_result> reply) {
             if (reply.is_ok())
               pending->resumed.push_back(run_id);
             else
               self->state.rt->log("resuming '" + run_id
                                   + "' failed: " + reply.error().message);
             if (--pending->outstanding == 0)
               pending->done(std::move(pending->resumed));
           });
}

caf::result<result<execution_result>> start(orchestrator_pointer self,
                                            execute_request& req) {
  auto& st = self->state;
  auto fn = st.workflows.find(req.workflow_name);
  if (fn == st.workflows.end())
    return result<execution_result>{model::make_error(
      model::error_type::unknown_workflow,
      "no workflow is registered as '" + req.workflow_name + "'")};
  if (req.run_id.empty())
    req.run_id = new_run_id(st);
  auto existing = st.rt->runs().load(req.run_id);
  if (existing.is_err())
    return result<execution_result>{existing.error()};
  if (existing.value() || st.resident.contains(req.run_id))
    return result<execution_result>{
      model::make_error(model::error_type::invalid_argument,
                        "a run '" + req.run_id + "' exists already")};
  model::saved_workflow_state state;
  state.run_id = req.run_id;
  state.workflow_name = req.workflow_name;
  state.input = std::move(req.input);
  state.metadata = std::move(req.metadata);
  state.started_at = state.updated_at = st.rt->now();
  auto run = detail::spawn_run(self->system(), st.rt, st.registry, fn->second,
                               std::move(state), false);
  st.resident.emplace(req.run_id, run);
  auto rp = self->make_response_promise<result<execution_result>>();
  drive(self, req.run_id, run, [rp](result<execution_result> reply) mutable {
    rp.deliver(std::move(reply));
  });
  return rp;
}

using decision_reply = std::function<void(result<decision_report>)>;

/// Commits `d` through the registry and, with `auto_resume`, resumes the
/// runs waiting on its key; `done` gets the report once they resumed.
void decide(orchestrator_pointer self, model::decision d, bool auto_resume,
            decision_reply done) {
  self
    ->request(self->state.registry, caf::infinite, decide_atom_v, std::move(d))
    .then(
      [self, auto_resume,
       done](result<model::decision_outcome>& outcome) mutable {
        if (outcome.is_err()) {
          done(outcome.error());
          return;
        }
        const auto& status = outcome->record.status;
        decision_report report{
          outcome->record,
          outcome->applied,
          status.decided_at.value_or(self->state.rt->now()),
          {}};
        // Waking also repairs a wake lost earlier, so an idempotent repeat
        // of a decision wakes the waiting runs too.
        if (!auto_resume || status.is_pending()) {
          done(std::move(report));
          return;
        }
        auto key = report.approval.key;
        wake_waiting(self, key,
                     [done, report = std::move(report)](
                       std::vector<std::string> resumed) mutable {
                       report.resumed_workflows = std::move(resumed);
                       done(std::move(report));
                     });
      },
      [self, done](caf::error& e) {
        done(model::make_error(model::error_type::unexpected_error,
                               self->system().render(e)));
      });
}

caf::result<result<execution_result>> cancel_run(orchestrator_pointer self,
                                                 const std::string& run_id,
                                                 std::string reason) {
  execution_result finished;
  auto run = activate(self, run_id, finished);
  if (run.is_err())
    return result<execution_result>{run.error()};
  if (!run.value())
    return result<execution_result>{model::make_error(
      model::error_type::invalid_run_state,
      "run '" + run_id + "' is " + std::string{to_string(finished.status)}
        + "; only a paused run can be cancelled")};
  auto rp = self->make_response_promise<result<execution_result>>();
  self->request(*run.value(), caf::infinite, cancel_run_atom_v, reason)
    .then(
      [self, rp, run_id, reason](result<execution_result>& reply) mutable {
        if (reply.is_ok())
          retire(self, run_id);
        if (reply.is_err() || reply->pending_approvals.empty()) {
          rp.deliver(std::move(reply));
          return;
        }
        // The run no longer waits, so cancelling its approvals wakes only
        // the other runs waiting on the same keys. The reply waits for
        // them.
        auto outstanding
          = std::make_shared<std::size_t>(reply->pending_approvals.size());
        for (const auto& key : reply->pending_approvals)
          decide(self, model::decision::cancel(key, reason, "run:" + run_id),
                 true,
                 [self, rp, key, outstanding,
                  reply](const result<decision_report>& r) mutable {
                   if (r.is_err())
                     self->state.rt->log("cancelling approval '" + key
                                         + "' failed: " + r.error().message);
                   if (--*outstanding == 0)
                     rp.deliver(std::move(reply));
                 });
      },
      [self, rp](caf::error& e) mutable {
        rp.deliver(result<execution_result>{model::make_error(
          model::error_type::unexpected_error, self->system().render(e))});
      });
  return rp;
}

result<cleanup_report> cleanup(orchestrator_pointer self,
                               model::duration max_age) {
  const auto& rt = *self->state.rt;
  auto old = rt.runs().finished_before(rt.now() - max_age,
                                       std::numeric_limits<std::size_t>::max());
  if (old.is_err())
    return old.error();
  cleanup_report report;
  for (const auto& run_id : old.value()) {
    auto state = rt.runs().load(run_id);
    if (state.is_err())
      return state.error();
    if (!state.value())
      continue;
    auto removed = rt.runs().remove(run_id);
    if (removed.is_err())
      return removed.error();
    retire(self, run_id);
    ++report.runs_removed;
    for (const auto& key : state.value()->approval_keys) {
      auto waiting = rt.runs().find_by_pending_approval(key);
      auto record = rt.approvals().find_approval(key);
      if (waiting.is_err() || !waiting->empty() || record.is_err()
          || !record.value() || record.value()->status.is_pending())
        continue;
      if (auto gone = rt.approvals().remove_approval(key);
          gone.is_ok() && gone.value())
        ++report.approvals_removed;
    }
  }
  return report;
}

/// Expires what is due and replies once the runs waiting on it resumed.
caf::result<result<std::vector<std::string>>>
expire_now(orchestrator_pointer self) {
  using keys_reply = result<std::vector<std::string>>;
  auto rp = self->make_response_promise<keys_reply>();
  self->request(self->state.registry, caf::infinite, expire_atom_v)
    .then(
      [self, rp](keys_reply& expired) mutable {
        if (expired.is_err() || expired->empty()) {
          rp.deliver(std::move(expired));
          return;
        }
        auto outstanding = std::make_shared<std::size_t>(expired->size());
        for (const auto& key : expired.value())
          wake_waiting(self, key,
                       [rp, outstanding,
                        expired](const std::vector<std::string>&) mutable {
                         if (--*outstanding == 0)
                           rp.deliver(expired);
                       });
      },
      [self, rp](caf::error& e) mutable {
        rp.deliver(keys_reply{model::make_error(
          model::error_type::unexpected_error, self->system().render(e))});
      });
  return rp;
}

template <class T>
result<T> found_or(result<std::optional<T>> found, const std::string& what) {
  if (found.is_err())
    return found.error();
  if (!found.value())
    return not_found(what);
  return std::move(*found.value());
}

orchestrator_actor::behavior_type
orchestrator_behavior(orchestrator_pointer self, orchestrator_config config) {
  auto& st = self->state;
  st.rt = std::make_shared<const detail::runtime>(std::move(config));
  st.registry = detail::spawn_approval_registry(
    self->system(), st.rt, caf::actor_cast<orchestrator_actor>(self));
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& [id, run] : self->state.resident)
      self->send_exit(run, msg.reason);
    self->state.resident.clear();
    self->send_exit(self->state.registry, msg.reason);
    self->quit(msg.reason);
  });
  return {
    [self](register_atom, std::string& name, model::workflow& fn) {
      self->state.workflows.insert_or_assign(std::move(name), std::move(fn));
      return true;
    },
    [self](execute_atom, execute_request& req) { return start(self, req); },
    [self](resume_atom,
           const std::string& run_id) -> caf::result<result<execution_result>> {
      auto rp = self->make_response_promise<result<execution_result>>();
      resume(self, run_id, [rp](result<execution_result> reply) mutable {
        rp.deliver(std::move(reply));
      });
      return rp;
    },
    [self](decide_atom,
           decision_request& req) -> caf::result<result<decision_report>> {
      auto rp = self->make_response_promise<result<decision_report>>();
      decide(self, std::move(req.decision), req.auto_resume,
             [rp](result<decision_report> reply) mutable {
               rp.deliver(std::move(reply));
             });
      return rp;
    },
    [self](cancel_run_atom, const std::string& run_id, std::string& reason) {
      return cancel_run(self, run_id, std::move(reason));
    },
    [self](status_atom,
           const std::string& run_id) -> result<model::saved_workflow_state> {
      return found_or(self->state.rt->runs().load(run_id),
                      "no run '" + run_id + "' exists");
    },
    [self](list_runs_atom, const std::string& workflow_name)
      -> result<std::vector<std::string>> {
      persistence::run_filter filter;
      filter.status = model::run_status::paused;
      if (!workflow_name.empty())
        filter.workflow_name = workflow_name;
      return self->state.rt->runs().list(filter);
    },
    [self](approval_atom,
           const std::string& key) -> result<model::approval_record> {
      return found_or(self->state.rt->approvals().find_approval(key),
                      "no approval '" + key + "' exists");
    },
    [self](pending_atom,
           const std::string& prefix) -> result<std::vector<std::string>> {
      const auto& rt = *self->state.rt;
      return rt.approvals().list_pending(
        prefix, rt.now(), std::numeric_limits<std::size_t>::max());
    },
    [self](audit_atom,
           const std::string& key) -> result<std::vector<model::audit_entry>> {
      return self->state.rt->approvals().audit_trail(key);
    },
    [self](cleanup_atom, model::duration max_age) {
      return cleanup(self, max_age);
    },
    [self](expire_atom) { return expire_now(self); },
    [self](wake_atom, const std::string& key) {
      wake_waiting(self, key, [](const std::vector<std::string>&) {});
    },
  };
}

} // namespace

orchestrator_actor spawn_orchestrator(caf::actor_system& system,
                                      orchestrator_config config) {
  return system.spawn(orchestrator_behavior, std::move(config));
}

} // namespace signoff::actors
