#include "signoff/actors/orchestrator_actor.hpp"

#include <deque>
#include <limits>
#include <list>
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
using decision_reply = std::function<void(result<decision_report>)>;

/// A run actor in memory and what the orchestrator knows of it.
struct resident_run {
  run_actor handle;
  /// Requests sent to it that were not answered yet.
  std::size_t in_flight = 0;
  /// Its place among the parked runs, while it is parked.
  std::optional<std::list<std::string>::iterator> parked{};
};

struct orchestrator_state {
  std::shared_ptr<const detail::runtime> rt;
  approval_registry_actor registry;
  std::unordered_map<std::string, model::workflow> workflows;
  /// Run actors alive now. A run has at most one actor, and only this
  /// actor sends to it: that is what serializes every resume of a run.
  std::unordered_map<std::string, resident_run> resident;
  /// Parked runs, least recently parked first: the order of passivation.
  std::list<std::string> parked;
  /// Runs found running at start, waiting to be resumed.
  std::deque<std::string> to_recover;
  std::size_t recovering = 0;
  /// True once the owed-wakes poll runs.
  bool polling_wakes = false;
  /// Keys of decisions this actor is committing and will wake itself; the
  /// owed-wakes poll leaves them alone so they report their own runs.
  std::unordered_map<std::string, std::size_t> deciding;
  std::mt19937_64 ids{std::random_device{}()};

  static inline const char* name = "signoff.orchestrator";
};

using orchestrator_pointer
  = orchestrator_actor::stateful_pointer<orchestrator_state>;

model::error not_found(const std::string& what) {
  return model::make_error(model::error_type::not_found, what);
}

model::error actor_failed(orchestrator_pointer self, const caf::error& e) {
  return model::make_error(model::error_type::unexpected_error,
                           self->system().render(e));
}

/// Calls `done` after being called `n` times (at once for n == 0).
std::function<void()> countdown(std::size_t n, std::function<void()> done) {
  if (n == 0) {
    done();
    return [] {
    };
  }
  auto left = std::make_shared<std::size_t>(n);
  return [left, done = std::move(done)] {
    if (--*left == 0)
      done();
  };
}

std::string new_run_id(orchestrator_state& st) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string id = "run_";
  for (int half = 0; half < 2; ++half) {
    auto bits = st.ids();
    for (int i = 0; i < 16; ++i, bits >>= 4U)
      id += hex[bits & 0xFU];
  }
  return id;
}

void unpark(orchestrator_state& st, resident_run& run) {
  if (run.parked) {
    st.parked.erase(*run.parked);
    run.parked.reset();
  }
}

/// Forgets a run's actor and lets it quit. Messages sent to it before are
/// still handled: they precede the passivate message.
void retire(orchestrator_pointer self, const std::string& run_id) {
  auto& st = self->state;
  auto it = st.resident.find(run_id);
  if (it == st.resident.end())
    return;
  unpark(st, it->second);
  self->send(it->second.handle, passivate_atom_v);
  st.resident.erase(it);
}

/// Parks an idle paused run and passivates the least recently parked runs
/// beyond the resident limit. Their state is in the store; a wake
/// re-activates them from there.
void park(orchestrator_pointer self, const std::string& run_id) {
  auto& st = self->state;
  auto& run = st.resident.at(run_id);
  unpark(st, run);
  run.parked = st.parked.insert(st.parked.end(), run_id);
  while (st.resident.size() > st.rt->config().max_resident_runs
         && !st.parked.empty()) {
    auto oldest = st.parked.front();
    retire(self, oldest);
  }
}

/// Marks a request to the run as sent.
resident_run& use(orchestrator_state& st, const std::string& run_id) {
  auto& run = st.resident.at(run_id);
  unpark(st, run);
  ++run.in_flight;
  return run;
}

/// Books the reply to a request sent with `use`.
void answered(orchestrator_pointer self, const std::string& run_id,
              const result<execution_result>& reply) {
  auto& st = self->state;
  auto it = st.resident.find(run_id);
  if (it == st.resident.end())
    return;
  --it->second.in_flight;
  // After a failure the actor's memory may be ahead of the store: drop it
  // and let the next wake start again from what is stored.
  if (reply.is_err() || model::is_finished(reply->status))
    retire(self, run_id);
  else if (it->second.in_flight == 0
           && reply->status == model::run_status::paused)
    park(self, run_id);
}

/// Sends `run_atom` to the resident run and hands the reply to `done`.
void drive(orchestrator_pointer self, const std::string& run_id,
           run_reply done) {
  auto& run = use(self->state, run_id);
  self->request(run.handle, caf::infinite, run_atom_v)
    .then(
      [self, run_id, done](result<execution_result>& reply) {
        answered(self, run_id, reply);
        done(std::move(reply));
      },
      [self, run_id, done](caf::error& e) {
        result<execution_result> reply = actor_failed(self, e);
        answered(self, run_id, reply);
        done(std::move(reply));
      });
}

/// Makes the run resident, re-activating it from the store if needed.
/// Returns false for a finished run, which needs no actor: its stored
/// state, put in `finished`, is the answer.
result<bool> activate(orchestrator_pointer self, const std::string& run_id,
                      execution_result& finished) {
  auto& st = self->state;
  if (st.resident.contains(run_id))
    return true;
  auto loaded = st.rt->runs().load(run_id);
  if (loaded.is_err())
    return loaded.error();
  if (!loaded.value())
    return not_found("no run '" + run_id + "' exists");
  auto& state = *loaded.value();
  if (model::is_finished(state.status)) {
    finished = execution_result::of(state);
    return false;
  }
  auto fn = st.workflows.find(state.workflow_name);
  if (fn == st.workflows.end())
    return model::make_error(model::error_type::unknown_workflow,
                             "run '" + run_id + "' belongs to workflow '"
                               + state.workflow_name
                               + "', which is not registered");
  auto handle = detail::spawn_run(self->system(), st.rt, st.registry,
                                  fn->second, std::move(state), true);
  st.resident.emplace(run_id, resident_run{std::move(handle)});
  return true;
}

/// Resumes `run_id` and hands the outcome to `done`.
void resume(orchestrator_pointer self, const std::string& run_id,
            run_reply done) {
  execution_result finished;
  auto active = activate(self, run_id, finished);
  if (active.is_err())
    done(active.error());
  else if (!active.value())
    done(std::move(finished));
  else
    drive(self, run_id, std::move(done));
}

/// Resumes every run waiting on `key`; `done` gets the ids that resumed
/// (a run that failed to resume is logged and left out).
void wake_waiting(orchestrator_pointer self, const std::string& key,
                  std::function<void(std::vector<std::string>)> done) {
  auto waiting = self->state.rt->runs().find_by_pending_approval(key);
  if (waiting.is_err()) {
    self->state.rt->log("finding runs waiting on '" + key
                        + "' failed: " + waiting.error().message);
    waiting = std::vector<std::string>{};
  }
  auto resumed = std::make_shared<std::vector<std::string>>();
  auto one_done = countdown(waiting->size(),
                            [resumed, done] { done(std::move(*resumed)); });
  for (const auto& run_id : waiting.value())
    resume(self, run_id,
           [self, run_id, resumed, one_done](result<execution_result> reply) {
             if (reply.is_err())
               self->state.rt->log("resuming '" + run_id
                                   + "' failed: " + reply.error().message);
             // A run cancelled (by cancel_run) between the lookup above and
             // this wake did not go on with the decision, so it is not
             // reported as resumed. Only cancel_run makes a run `cancelled`.
             else if (reply->status != model::run_status::cancelled)
               resumed->push_back(run_id);
             one_done();
           });
}

/// Resumes queued recoveries, a few at a time, so a process that died with
/// many runs in flight does not wake them all at once.
void recover_next(orchestrator_pointer self) {
  auto& st = self->state;
  while (st.recovering < st.rt->config().recovery_concurrency
         && !st.to_recover.empty()) {
    auto run_id = std::move(st.to_recover.front());
    st.to_recover.pop_front();
    if (st.resident.contains(run_id))
      continue;
    ++st.recovering;
    resume(self, run_id, [self, run_id](result<execution_result> reply) {
      if (reply.is_err())
        self->state.rt->log("recovering '" + run_id
                            + "' failed: " + reply.error().message);
      --self->state.recovering;
      recover_next(self);
    });
  }
}

/// Queues the runs of `workflow_name` that were running when the process
/// last stopped (runs of this process are resident and skipped).
void recover(orchestrator_pointer self, const std::string& workflow_name) {
  auto& st = self->state;
  persistence::run_filter filter;
  filter.workflow_name = workflow_name;
  filter.status = model::run_status::running;
  auto running = st.rt->runs().list(filter);
  if (running.is_err()) {
    st.rt->log("listing runs to recover failed: " + running.error().message);
    return;
  }
  for (auto& run_id : running.value())
    if (!st.resident.contains(run_id))
      st.to_recover.push_back(std::move(run_id));
  recover_next(self);
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
  model::saved_workflow_state state;
  state.run_id = req.run_id;
  state.workflow_name = req.workflow_name;
  if (auto valid = model::validate_run_identity(state); valid.is_err())
    return result<execution_result>{valid.error()};
  auto existing = st.rt->runs().load(req.run_id);
  if (existing.is_err())
    return result<execution_result>{existing.error()};
  if (existing.value() || st.resident.contains(req.run_id))
    return result<execution_result>{
      model::make_error(model::error_type::invalid_argument,
                        "a run '" + req.run_id + "' exists already")};
  state.input = std::move(req.input);
  state.metadata = std::move(req.metadata);
  state.started_at = state.updated_at = st.rt->now();
  auto handle = detail::spawn_run(self->system(), st.rt, st.registry,
                                  fn->second, std::move(state), false);
  st.resident.emplace(req.run_id, resident_run{std::move(handle)});
  auto rp = self->make_response_promise<result<execution_result>>();
  drive(self, req.run_id, [rp](result<execution_result> reply) mutable {
    rp.deliver(std::move(reply));
  });
  return rp;
}

/// Commits `d` through the registry and, with `auto_resume`, resumes the
/// runs waiting on its key; `done` gets the report once they resumed.
void decide(orchestrator_pointer self, model::decision d, bool auto_resume,
            decision_reply done) {
  ++self->state.deciding[d.key];
  done = [self, key = d.key,
          done = std::move(done)](result<decision_report> r) {
    auto& deciding = self->state.deciding;
    if (auto it = deciding.find(key); it != deciding.end() && --it->second == 0)
      deciding.erase(it);
    done(std::move(r));
  };
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
      [self, done](caf::error& e) { done(actor_failed(self, e)); });
}

caf::result<result<execution_result>> cancel_run(orchestrator_pointer self,
                                                 const std::string& run_id,
                                                 std::string reason) {
  execution_result finished;
  auto active = activate(self, run_id, finished);
  if (active.is_err())
    return result<execution_result>{active.error()};
  if (!active.value())
    return result<execution_result>{model::make_error(
      model::error_type::invalid_run_state,
      "run '" + run_id + "' is " + std::string{to_string(finished.status)}
        + "; only a paused run can be cancelled")};
  auto rp = self->make_response_promise<result<execution_result>>();
  auto& run = use(self->state, run_id);
  self->request(run.handle, caf::infinite, cancel_run_atom_v, reason)
    .then(
      [self, rp, run_id, reason](result<execution_result>& reply) mutable {
        answered(self, run_id, reply);
        if (reply.is_err()) {
          rp.deliver(std::move(reply));
          return;
        }
        // The run no longer waits, so cancelling its approvals wakes only
        // the other runs waiting on the same keys. The reply waits for them.
        auto one_done = countdown(reply->pending_approvals.size(),
                                  [rp, reply]() mutable { rp.deliver(reply); });
        for (const auto& key : reply->pending_approvals)
          decide(self, model::decision::cancel(key, reason, "run:" + run_id),
                 true, [self, key, one_done](const result<decision_report>& r) {
                   if (r.is_err())
                     self->state.rt->log("cancelling approval '" + key
                                         + "' failed: " + r.error().message);
                   one_done();
                 });
      },
      [self, rp, run_id](caf::error& e) mutable {
        result<execution_result> reply = actor_failed(self, e);
        answered(self, run_id, reply);
        rp.deliver(std::move(reply));
      });
  return rp;
}

/// Removes old finished runs and the decided approvals no waiting run
/// needs, in one commit.
caf::result<result<cleanup_report>> cleanup(orchestrator_pointer self,
                                            model::duration max_age) {
  auto rt = self->state.rt;
  using cleanup_reply = result<cleanup_report>;
  auto slot = std::make_shared<cleanup_reply>();
  auto cutoff = persistence::cleanup_cutoff(rt->now(), max_age);
  auto job = [rt, slot, cutoff] {
    *slot
      = persistence::remove_finished_runs(rt->approvals(), rt->runs(), cutoff);
  };
  auto rp = self->make_response_promise<cleanup_reply>();
  self
    ->request(rt->writer(), caf::infinite, write_atom_v,
              detail::write_job{std::move(job)})
    .then(
      [self, rp, slot](model::result<void>& committed) mutable {
        if (committed.is_err()) {
          rp.deliver(cleanup_reply{committed.error()});
          return;
        }
        if (slot->is_ok())
          for (const auto& run_id : slot->value().runs)
            retire(self, run_id);
        rp.deliver(*slot);
      },
      [self, rp](caf::error& e) mutable {
        rp.deliver(cleanup_reply{actor_failed(self, e)});
      });
  return rp;
}

/// Expires what is due and replies once the runs waiting on it resumed.
caf::result<result<std::vector<std::string>>>
expire_now(orchestrator_pointer self) {
  using keys_reply = result<std::vector<std::string>>;
  auto rp = self->make_response_promise<keys_reply>();
  self->request(self->state.registry, caf::infinite, expire_atom_v)
    .then(
      [self, rp](keys_reply& expired) mutable {
        if (expired.is_err()) {
          rp.deliver(std::move(expired));
          return;
        }
        auto one_done = countdown(
          expired->size(), [rp, expired]() mutable { rp.deliver(expired); });
        for (const auto& key : expired.value())
          wake_waiting(self, key, [one_done](const std::vector<std::string>&) {
            one_done();
          });
      },
      [self, rp](caf::error& e) mutable {
        rp.deliver(keys_reply{actor_failed(self, e)});
      });
  return rp;
}

/// Owed wakes handled per round; a full round is followed by another.
constexpr std::size_t wakes_per_round = 256;

void schedule_wake_poll(orchestrator_pointer self, bool at_once) {
  const auto interval = self->state.rt->config().wake_poll_interval;
  if (interval <= model::duration::zero())
    return;
  if (at_once)
    self->send(self, tick_atom_v);
  else
    self->delayed_send(self, interval, tick_atom_v);
}

/// Wakes the runs of every decision the store says is owed a wake, then
/// forgets those in one commit.
void poll_owed_wakes(orchestrator_pointer self) {
  auto rt = self->state.rt;
  auto owed = rt->approvals().owed_wakes(wakes_per_round);
  if (owed.is_err()) {
    rt->log("reading owed wakes failed: " + owed.error().message);
    schedule_wake_poll(self, false);
    return;
  }
  if (owed->empty()) {
    schedule_wake_poll(self, false);
    return;
  }
  std::erase_if(
    *owed, [&](const auto& key) { return self->state.deciding.contains(key); });
  auto keys = std::make_shared<std::vector<std::string>>(std::move(*owed));
  auto forget = [self, rt, keys] {
    // A key stays owed while a run still waits on it (its workflow is not
    // registered, or its store failed): the next round tries again.
    std::vector<std::string> woken;
    for (const auto& key : *keys)
      if (auto waiting = rt->runs().find_by_pending_approval(key);
          waiting.is_ok() && waiting->empty())
        woken.push_back(key);
    auto job = [rt, woken = std::move(woken)] {
      if (auto done = rt->approvals().wakes_done(woken); done.is_err())
        rt->log("forgetting owed wakes failed: " + done.error().message);
    };
    self
      ->request(rt->writer(), caf::infinite, write_atom_v,
                detail::write_job{std::move(job)})
      .then(
        [self, keys](model::result<void>&) {
          schedule_wake_poll(self, keys->size() >= wakes_per_round);
        },
        [self](caf::error&) { schedule_wake_poll(self, false); });
  };
  auto one_done = countdown(keys->size(), std::move(forget));
  for (const auto& key : *keys)
    wake_waiting(self, key,
                 [one_done](const std::vector<std::string>&) { one_done(); });
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
  st.rt = std::make_shared<const detail::runtime>(self->system(),
                                                  std::move(config));
  st.registry = detail::spawn_approval_registry(
    self->system(), st.rt, caf::actor_cast<orchestrator_actor>(self));
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    for (auto& [id, run] : st.resident)
      self->send_exit(run.handle, msg.reason);
    st.resident.clear();
    st.parked.clear();
    self->send_exit(st.registry, msg.reason);
    self->send_exit(st.rt->writer(), msg.reason);
    self->quit(msg.reason);
  });
  return {
    [self](register_atom, std::string& name, model::workflow& fn) {
      auto& st = self->state;
      st.workflows.insert_or_assign(name, std::move(fn));
      recover(self, name);
      // Owed wakes need their workflows: start reading them once the
      // first one is registered.
      if (!st.polling_wakes) {
        st.polling_wakes = true;
        schedule_wake_poll(self, true);
      }
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
    [self](list_runs_atom, const persistence::run_filter& filter)
      -> result<std::vector<std::string>> {
      return self->state.rt->runs().list(filter);
    },
    [self](waiting_atom,
           const std::string& key) -> result<std::vector<std::string>> {
      return self->state.rt->runs().find_by_pending_approval(key);
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
    [self](resident_atom) { return self->state.resident.size(); },
    [self](wake_atom, const std::string& key) {
      wake_waiting(self, key, [](const std::vector<std::string>&) {});
    },
    [self](tick_atom) { poll_owed_wakes(self); },
  };
}

} // namespace

orchestrator_actor spawn_orchestrator(caf::actor_system& system,
                                      orchestrator_config config) {
  return system.spawn(orchestrator_behavior, std::move(config));
}

} // namespace signoff::actors
