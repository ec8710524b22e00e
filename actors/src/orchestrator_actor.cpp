#include "signoff/actors/orchestrator_actor.hpp"

#include <algorithm>
#include <deque>
#include <list>
#include <optional>
#include <random>
#include <unordered_map>

#include <caf/all.hpp>

#include "cluster_gateway.hpp"
#include "engine.hpp"
#include "run_actor.hpp"
#include "signoff/model/json_text.hpp"
#include "signoff/persistence/lmdb_store.hpp"

namespace signoff::actors {

namespace {

using detail::directory_actor;
using detail::engine;
using model::execution_result;
using model::result;

using execution_reply = result<execution_result>;
using execution_promise = caf::typed_response_promise<execution_reply>;

/// Owed wakes read per poll; a full page is followed by the next at once.
constexpr std::size_t owed_wakes_per_poll = 256;

/// A run actor in memory.
struct resident_run {
  caf::actor handle;
  /// Its place among the parked runs, while it is parked.
  std::optional<std::list<std::pair<std::string, model::time_point>>::iterator>
    parked{};
  /// Asked to passivate, and neither gone nor parked again since.
  bool quitting = false;
};

struct directory_state {
  std::shared_ptr<engine> eng;
  std::unordered_map<std::string, std::shared_ptr<const workflow>> workflows;
  /// Run actors alive now. A run has at most one actor, spawned only here:
  /// that is what serializes everything a run does.
  std::unordered_map<std::string, resident_run> resident;
  /// Resident runs asked to passivate: not counted against the limit.
  std::size_t quitting = 0;
  /// Parked runs and when they parked, least recently first: the order of
  /// passivation.
  std::list<std::pair<std::string, model::time_point>> parked;
  /// Runs found running at start, waiting to be resumed.
  std::deque<std::string> to_recover;
  std::size_t recovering = 0;
  bool polling = false;
  /// The last owed wake the poll read: the next page starts after it, so
  /// keys that stay owed a while (their wake's forgetting not committed
  /// yet, their run's node down) never hide the keys behind them.
  std::string owed_read_up_to;
  /// Set once an exit arrived: the actors still to go before this one.
  std::optional<std::size_t> stopping;
  std::optional<caf::error> exit_reason;
  std::mt19937_64 ids{std::random_device{}()};

  static inline const char* name = "signoff.orchestrator";
};

using directory_pointer = directory_actor::stateful_pointer<directory_state>;

model::error not_found(const std::string& what) {
  return model::make_error(model::error_type::not_found, what);
}

model::error stopping_error() {
  return model::make_error(model::error_type::unexpected_error,
                           "the orchestrator is stopping");
}

std::string new_run_id(directory_state& st) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string id = "run_";
  for (int half = 0; half < 2; ++half) {
    auto bits = st.ids();
    for (int i = 0; i < 16; ++i, bits >>= 4U)
      id += hex[bits & 0xFU];
  }
  return id;
}

/// Tells the metrics how many runs are in memory and how many of them are
/// parked (or on their way out to passivation): set wherever they change.
void publish_residents(const directory_state& st) {
  auto& counted = st.eng->counters();
  counted.resident_runs.store(st.resident.size(), std::memory_order_relaxed);
  counted.parked_runs.store(st.parked.size() + st.quitting,
                            std::memory_order_relaxed);
}

void unpark(directory_state& st, resident_run& run) {
  if (run.parked) {
    st.parked.erase(*run.parked);
    run.parked.reset();
  }
}

/// Forgets a resident run: it is gone.
void erase_resident(
  directory_state& st,
  std::unordered_map<std::string, resident_run>::iterator it) {
  unpark(st, it->second);
  if (it->second.quitting)
    --st.quitting;
  st.resident.erase(it);
  publish_residents(st);
}

/// Asks the least recently parked run to quit (it does if still idle).
void passivate_oldest(directory_pointer self) {
  auto& st = self->state;
  auto run_id = std::move(st.parked.front().first);
  st.parked.pop_front();
  auto it = st.resident.find(run_id);
  if (it == st.resident.end())
    return;
  it->second.parked.reset();
  if (!it->second.quitting) {
    it->second.quitting = true;
    ++st.quitting;
  }
  caf::anon_send(it->second.handle, detail::passivate_atom_v);
}

/// A run is in memory, or re-activated from the store; nothing for a
/// finished run, whose stored state (in `finished`) is the answer.
result<std::optional<caf::actor>> activate(directory_pointer self,
                                           const std::string& run_id,
                                           execution_result* finished) {
  auto& st = self->state;
  if (auto it = st.resident.find(run_id); it != st.resident.end())
    return std::optional{it->second.handle};
  auto loaded = st.eng->runs().load(run_id);
  if (loaded.is_err())
    return loaded.error();
  if (!loaded.value())
    return not_found("no run '" + run_id + "' exists");
  auto& state = *loaded.value();
  if (model::is_finished(state.status)) {
    if (finished != nullptr)
      *finished = execution_result::of(state);
    return std::optional<caf::actor>{};
  }
  auto fn = st.workflows.find(state.workflow_name);
  if (fn == st.workflows.end())
    return model::make_error(model::error_type::unknown_workflow,
                             "run '" + run_id + "' belongs to workflow '"
                               + state.workflow_name
                               + "', which is not registered");
  auto handle = detail::spawn_run(self->system(), st.eng,
                                  {std::move(state), true, fn->second});
  st.resident.emplace(run_id, resident_run{handle});
  publish_residents(st);
  return std::optional{handle};
}

/// Forgets a run actor that is gone (it bounced a request).
void forget_gone(directory_state& st, const std::string& run_id,
                 const caf::actor& handle) {
  auto it = st.resident.find(run_id);
  if (it != st.resident.end() && it->second.handle == handle)
    erase_resident(st, it);
}

/// Where the answer of a run's actor goes: its reply, or why there is
/// none, or the stored state of a run that finished already.
template <class Reply>
struct run_answer {
  std::function<void(Reply)> reply;
  std::function<void(model::error)> failed;
  std::function<void(const execution_result&)> finished;
};

/// How often `ask_run` re-activates a run whose actor quit before reading
/// the request. Each time it quit, it had left memory with its state
/// stored (passivated, or finished after a contender's wake), so the next
/// activation finds something newer; the bound only stops an actor that
/// dies at once from being spawned forever.
constexpr int max_reactivations = 8;

/// Sends `xs...` to the run's actor (re-activated as needed) and hands the
/// outcome to `to`; a run that quit meanwhile is re-activated again, up to
/// `reactivations` times.
template <class Reply, class... Ts>
void ask_run(directory_pointer self, const std::string& run_id,
             run_answer<Reply> to, int reactivations, Ts... xs) {
  execution_result finished;
  auto active = activate(self, run_id, &finished);
  if (active.is_err()) {
    to.failed(active.error());
    return;
  }
  if (!active.value()) {
    to.finished(finished);
    return;
  }
  auto handle = *active.value();
  self->request(handle, caf::infinite, xs...)
    .then([to](Reply& reply) { to.reply(std::move(reply)); },
          [self, run_id, handle, to, reactivations, xs...](caf::error& e) {
            if (e == caf::sec::request_receiver_down && reactivations > 0) {
              forget_gone(self->state, run_id, handle);
              ask_run<Reply>(self, run_id, to, reactivations - 1, xs...);
              return;
            }
            to.failed(model::make_error(model::error_type::unexpected_error,
                                        self->system().render(e)));
          });
}

/// Answers for a request that replies with the run's execution result.
run_answer<execution_reply> execution_answer(execution_promise rp) {
  return {[rp](execution_reply r) mutable { rp.deliver(std::move(r)); },
          [rp](model::error e) mutable { rp.deliver(execution_reply{e}); },
          [rp](const execution_result& finished) mutable {
            rp.deliver(execution_reply{finished});
          }};
}

/// Resumes queued recoveries, a few at a time, so a process that died with
/// many runs in flight does not wake them all at once.
void recover_next(directory_pointer self) {
  auto& st = self->state;
  while (st.recovering < st.eng->config().recovery_concurrency
         && !st.to_recover.empty()) {
    auto run_id = std::move(st.to_recover.front());
    st.to_recover.pop_front();
    if (st.resident.contains(run_id))
      continue;
    ++st.recovering;
    auto next = [self] {
      --self->state.recovering;
      recover_next(self);
    };
    auto failed = [self, run_id, next](const model::error& e) {
      self->state.eng->log("recovering '" + run_id + "' failed: " + e.message);
      next();
    };
    ask_run<execution_reply>(self, run_id,
                             {[failed, next](execution_reply r) {
                                if (r.is_err())
                                  failed(r.error());
                                else
                                  next();
                              },
                              failed,
                              [next](const execution_result&) {
                                next();
                              }},
                             max_reactivations, detail::start_atom_v);
  }
}

/// Queues the runs of `workflow_name` that were running when the process
/// last stopped (runs of this process are resident and skipped).
void recover(directory_pointer self, const std::string& workflow_name) {
  auto& st = self->state;
  persistence::run_filter filter;
  filter.workflow_name = workflow_name;
  filter.status = model::run_status::running;
  auto running = st.eng->runs().list(filter);
  if (running.is_err()) {
    st.eng->log("listing runs to recover failed: " + running.error().message);
    return;
  }
  for (auto& run_id : running.value())
    if (!st.resident.contains(run_id))
      st.to_recover.push_back(std::move(run_id));
  recover_next(self);
}

caf::result<execution_reply> start(directory_pointer self,
                                   execute_request& req) {
  auto& st = self->state;
  auto fn = st.workflows.find(req.workflow_name);
  if (fn == st.workflows.end())
    return execution_reply{model::make_error(
      model::error_type::unknown_workflow,
      "no workflow is registered as '" + req.workflow_name + "'")};
  if (req.run_id.empty())
    req.run_id = new_run_id(st);
  model::saved_workflow_state state;
  state.run_id = req.run_id;
  state.workflow_name = req.workflow_name;
  if (auto valid = model::validate_run_identity(state); valid.is_err())
    return execution_reply{valid.error()};
  if (!model::is_storable(req.input) || !model::is_storable(req.metadata))
    return execution_reply{model::make_error(
      model::error_type::invalid_argument,
      "the input and metadata must not hold NaN or an infinity")};
  auto existing = st.eng->runs().load(req.run_id);
  if (existing.is_err())
    return execution_reply{existing.error()};
  if (existing.value() || st.resident.contains(req.run_id))
    return execution_reply{
      model::make_error(model::error_type::invalid_argument,
                        "a run '" + req.run_id + "' exists already")};
  state.input = std::move(req.input);
  state.metadata = std::move(req.metadata);
  state.started_at = state.updated_at = st.eng->now();
  auto handle = detail::spawn_run(self->system(), st.eng,
                                  {std::move(state), false, fn->second});
  st.resident.emplace(req.run_id, resident_run{handle});
  publish_residents(st);
  auto rp = self->make_response_promise<execution_reply>();
  rp.delegate(handle, detail::start_atom_v);
  return rp;
}

caf::result<execution_reply> cancel_run(directory_pointer self,
                                        cancel_run_request& req) {
  auto rp = self->make_response_promise<execution_reply>();
  // Resolved here, once, so the run and its approvals' audit trail name
  // the same actor.
  if (req.actor.empty())
    req.actor = "run:" + req.run_id;
  auto done = [self, rp, actor = req.actor,
               reason = req.reason](execution_reply reply) mutable {
    if (reply.is_err()) {
      rp.deliver(std::move(reply));
      return;
    }
    // The run no longer waits, so cancelling its approvals wakes only the
    // other runs waiting on the same keys. The reply waits for them.
    const auto& keys = reply->pending_approvals;
    if (keys.empty()) {
      rp.deliver(std::move(reply));
      return;
    }
    auto left = std::make_shared<std::size_t>(keys.size());
    for (const auto& key : keys)
      self
        ->request(
          self->state.eng->shard_for(key), caf::infinite, decide_atom_v,
          decision_request{model::decision::cancel(key, reason, actor), true})
        .then(
          [self, rp, reply, left, key](result<decision_report>& r) mutable {
            if (r.is_err())
              self->state.eng->log("cancelling approval '" + key
                                   + "' failed: " + r.error().message);
            if (--*left == 0)
              rp.deliver(reply);
          },
          [rp, reply, left](caf::error&) mutable {
            if (--*left == 0)
              rp.deliver(reply);
          });
  };
  auto run_id = req.run_id;
  ask_run<execution_reply>(
    self, run_id,
    {done, [done](model::error e) mutable { done(execution_reply{e}); },
     [rp, run_id](const execution_result& finished) mutable {
       rp.deliver(execution_reply{model::make_error(
         model::error_type::invalid_run_state,
         "run '" + run_id + "' is " + std::string{to_string(finished.status)}
           + "; only a paused run can be cancelled")});
     }},
    max_reactivations, cancel_run_atom_v, std::move(req));
  return rp;
}

void schedule_poll(directory_pointer self, bool soon) {
  const auto interval = self->state.eng->config().wake_poll_interval;
  if (interval <= model::duration::zero())
    return;
  if (soon)
    self->send(self, detail::tick_atom_v);
  else
    self->delayed_send(self, interval, detail::tick_atom_v);
}

/// Hands the next page of keys the store says are owed a wake to their
/// shards; after the last page, starts again from the first.
void poll_owed_wakes(directory_pointer self) {
  auto& st = self->state;
  const auto& eng = *st.eng;
  auto owed
    = eng.approvals().owed_wakes(owed_wakes_per_poll, st.owed_read_up_to);
  if (owed.is_err()) {
    eng.log("reading owed wakes failed: " + owed.error().message);
    schedule_poll(self, false);
    return;
  }
  for (const auto& key : owed.value())
    self->send(eng.shard_for(key), detail::owed_atom_v, key);
  const bool full = owed->size() == owed_wakes_per_poll;
  st.owed_read_up_to = full ? owed->back() : std::string{};
  schedule_poll(self, full);
}

void schedule_sweep(directory_pointer self) {
  const auto idle = self->state.eng->config().idle_passivation;
  if (idle > model::duration::zero())
    self->delayed_send(self, std::max(idle / 4, model::duration{1}),
                       detail::sweep_atom_v);
}

/// Passivates the runs parked for longer than the idle time.
void sweep(directory_pointer self) {
  auto& st = self->state;
  const auto cutoff = st.eng->now() - st.eng->config().idle_passivation;
  while (!st.parked.empty() && st.parked.front().second <= cutoff)
    passivate_oldest(self);
  publish_residents(st);
  schedule_sweep(self);
}

/// Reads `key` on the node owning it: a call of `kind` ("approval",
/// "audit") carrying the key.
template <class T>
caf::typed_response_promise<result<T>> ask_owner(directory_pointer self,
                                                 const std::string& key,
                                                 std::string_view kind) {
  auto rp = self->make_response_promise<result<T>>();
  const auto& eng = *self->state.eng;
  detail::ask_node<T>(self, eng, eng.owner_of(key), kind,
                      boost::json::value(key),
                      [rp](result<T> r) mutable { rp.deliver(std::move(r)); });
  return rp;
}

/// The names of `nodes`, quoted, for a message.
std::string quoted(const std::vector<std::string>& nodes) {
  std::string out;
  for (const auto& node : nodes)
    out += (out.empty() ? "'" : ", '") + node + "'";
  return out;
}

/// Adds every other node's answer to a listing call of `kind` carrying
/// `body` to `here`, this node's list, and replies the whole in order. A
/// node that does not answer fails the listing with UNAVAILABLE naming it
/// (in the error's details too): a partial list would read as "nothing
/// else there".
caf::typed_response_promise<result<std::vector<std::string>>>
list_everywhere(directory_pointer self, std::string_view kind,
                const boost::json::value& body, std::vector<std::string> here) {
  using listing = result<std::vector<std::string>>;
  auto rp = self->make_response_promise<listing>();
  const auto& eng = *self->state.eng;
  struct gathering {
    std::vector<std::string> items;
    std::vector<std::string> silent;
    std::size_t left = 0;
  };
  auto g = std::make_shared<gathering>();
  g->items = std::move(here);
  const auto& nodes = eng.config().cluster->nodes;
  g->left = nodes.size();
  auto one_done = [rp, g]() mutable {
    if (--g->left > 0)
      return;
    if (!g->silent.empty()) {
      rp.deliver(listing{model::make_error(
        model::error_type::unavailable,
        "node " + quoted(g->silent) + " cannot be reached; the list is partial",
        boost::json::value_from(g->silent))});
      return;
    }
    std::sort(g->items.begin(), g->items.end());
    g->items.erase(std::unique(g->items.begin(), g->items.end()),
                   g->items.end());
    rp.deliver(listing{std::move(g->items)});
  };
  for (const auto& node : nodes) {
    if (node == eng.node_name()) {
      one_done();
      continue;
    }
    detail::ask_node<std::vector<std::string>>(
      self, eng, node, kind, body, [g, node, one_done](listing r) mutable {
        if (r.is_ok())
          g->items.insert(g->items.end(), r.value().begin(), r.value().end());
        else
          g->silent.push_back(node);
        one_done();
      });
  }
  return rp;
}

/// The run `run_id`, which is not here: asks every other node, since a run
/// lives where it started. NOT_FOUND if no node has it; UNAVAILABLE if
/// none of those that answered has it and some did not answer.
caf::typed_response_promise<result<model::saved_workflow_state>>
find_run_elsewhere(directory_pointer self, const std::string& run_id) {
  using found = result<model::saved_workflow_state>;
  auto rp = self->make_response_promise<found>();
  const auto& eng = *self->state.eng;
  struct gathering {
    std::optional<model::saved_workflow_state> run;
    std::vector<std::string> silent;
    std::size_t left = 0;
  };
  auto g = std::make_shared<gathering>();
  g->left = eng.config().cluster->nodes.size() - 1;
  auto one_done = [rp, g, run_id]() mutable {
    if (--g->left > 0)
      return;
    if (g->run)
      rp.deliver(found{std::move(*g->run)});
    else if (!g->silent.empty())
      rp.deliver(found{model::make_error(
        model::error_type::unavailable,
        "run '" + run_id + "' is not on the nodes that answered; node "
          + quoted(g->silent) + " cannot be reached",
        boost::json::value_from(g->silent))});
    else
      rp.deliver(found{not_found("no run '" + run_id + "' exists")});
  };
  if (g->left == 0) {
    rp.deliver(found{not_found("no run '" + run_id + "' exists")});
    return rp;
  }
  for (const auto& node : eng.config().cluster->nodes) {
    if (node == eng.node_name())
      continue;
    detail::ask_node<model::saved_workflow_state>(
      self, eng, node, detail::call_kind::status, boost::json::value(run_id),
      [g, node, one_done](found r) mutable {
        if (r.is_ok())
          g->run = std::move(r.value());
        else if (!r.error().is(model::error_type::not_found))
          g->silent.push_back(node);
        one_done();
      });
  }
  return rp;
}

/// Stops every actor of the orchestrator; quits once they all have.
void stop(directory_pointer self, const caf::exit_msg& msg) {
  auto& st = self->state;
  if (st.stopping)
    return;
  st.exit_reason = msg.reason;
  std::vector<caf::actor> children;
  for (auto& [id, run] : st.resident)
    children.push_back(run.handle);
  const auto& eng = *st.eng;
  for (const auto& shard : eng.shards())
    children.push_back(caf::actor_cast<caf::actor>(shard));
  children.push_back(caf::actor_cast<caf::actor>(eng.timer()));
  if (eng.writer())
    children.push_back(caf::actor_cast<caf::actor>(eng.writer()));
  for (auto& actor : eng.cluster_actors())
    children.push_back(std::move(actor));
  st.resident.clear();
  st.quitting = 0;
  st.parked.clear();
  st.to_recover.clear();
  publish_residents(st);
  st.stopping = children.size();
  for (auto& child : children) {
    self->monitor(child);
    self->send_exit(child, msg.reason);
  }
}

void child_down(directory_pointer self) {
  auto& st = self->state;
  if (!st.stopping || --*st.stopping > 0)
    return;
  // Every actor is gone; the executor may still run blocking steps, which
  // reference their coroutines: wait for them before saying we are done.
  st.eng->stop();
  self->quit(*st.exit_reason);
}

directory_actor::behavior_type directory_behavior(directory_pointer self,
                                                  std::shared_ptr<engine> eng) {
  auto& st = self->state;
  st.eng = std::move(eng);
  self->set_exit_handler([self](caf::exit_msg& msg) { stop(self, msg); });
  self->set_down_handler([self](caf::down_msg&) { child_down(self); });
  schedule_sweep(self);
  return {
    [self](register_atom, workflow_registration& reg) {
      auto& st = self->state;
      if (!reg.fn || st.stopping)
        return false;
      st.workflows.insert_or_assign(
        reg.name, std::make_shared<const workflow>(std::move(reg.fn)));
      recover(self, reg.name);
      // Owed wakes need their workflows: read them once one is registered.
      if (!st.polling) {
        st.polling = true;
        schedule_poll(self, true);
      }
      return true;
    },
    [self](execute_atom, execute_request& req) -> caf::result<execution_reply> {
      if (self->state.stopping)
        return execution_reply{stopping_error()};
      return start(self, req);
    },
    [self](resume_atom,
           const std::string& run_id) -> caf::result<execution_reply> {
      if (self->state.stopping)
        return execution_reply{stopping_error()};
      auto rp = self->make_response_promise<execution_reply>();
      ask_run<execution_reply>(self, run_id, execution_answer(rp),
                               max_reactivations, resume_atom_v);
      return rp;
    },
    [self](decide_atom,
           decision_request& req) -> caf::result<result<decision_report>> {
      auto rp = self->make_response_promise<result<decision_report>>();
      rp.delegate(self->state.eng->shard_for(req.decision.key), decide_atom_v,
                  std::move(req));
      return rp;
    },
    [self](comment_atom,
           comment_request& req) -> caf::result<result<model::audit_entry>> {
      auto rp = self->make_response_promise<result<model::audit_entry>>();
      const auto& shard = self->state.eng->shard_for(req.key);
      rp.delegate(shard, comment_atom_v, std::move(req));
      return rp;
    },
    [self](assign_atom, model::assignment_change& change)
      -> caf::result<result<model::decision_outcome>> {
      auto rp = self->make_response_promise<result<model::decision_outcome>>();
      const auto& shard = self->state.eng->shard_for(change.key);
      rp.delegate(shard, assign_atom_v, std::move(change));
      return rp;
    },
    [self](cancel_run_atom,
           cancel_run_request& req) -> caf::result<execution_reply> {
      if (self->state.stopping)
        return execution_reply{stopping_error()};
      return cancel_run(self, req);
    },
    [self](status_atom, const std::string& run_id)
      -> caf::result<result<model::saved_workflow_state>> {
      const auto& eng = *self->state.eng;
      auto here = eng.runs().load(run_id);
      if (eng.config().cluster && here.is_ok() && !here.value())
        return find_run_elsewhere(self, run_id);
      return model::found_or(std::move(here), "no run '" + run_id + "' exists");
    },
    [self](list_runs_atom, const persistence::run_filter& filter)
      -> caf::result<result<std::vector<std::string>>> {
      const auto& eng = *self->state.eng;
      auto here = eng.runs().list(filter);
      if (!eng.config().cluster || here.is_err())
        return here;
      return list_everywhere(self, detail::call_kind::runs,
                             boost::json::value_from(filter),
                             std::move(here.value()));
    },
    [self](waiting_atom, const std::string& key)
      -> caf::result<result<std::vector<std::string>>> {
      const auto& eng = *self->state.eng;
      auto here = eng.runs().find_by_pending_approval(key);
      if (!eng.config().cluster || here.is_err())
        return here;
      return list_everywhere(self, detail::call_kind::waiting,
                             boost::json::value(key), std::move(here.value()));
    },
    [self](approval_atom, const std::string& key)
      -> caf::result<result<model::approval_record>> {
      const auto& eng = *self->state.eng;
      if (!eng.owns(key))
        return ask_owner<model::approval_record>(self, key,
                                                 detail::call_kind::approval);
      return model::found_or(eng.approvals().find_approval(key),
                             "no approval '" + key + "' exists");
    },
    [self](pending_atom, const std::string& prefix)
      -> caf::result<result<std::vector<std::string>>> {
      const auto& eng = *self->state.eng;
      auto here = eng.approvals().list_pending(
        prefix, eng.now(), std::numeric_limits<std::size_t>::max());
      if (!eng.config().cluster || here.is_err())
        return here;
      return list_everywhere(self, detail::call_kind::pending,
                             boost::json::value(prefix),
                             std::move(here.value()));
    },
    [self](audit_atom, const std::string& key)
      -> caf::result<result<std::vector<model::audit_entry>>> {
      const auto& eng = *self->state.eng;
      if (!eng.owns(key))
        return ask_owner<std::vector<model::audit_entry>>(
          self, key, detail::call_kind::audit);
      return eng.approvals().audit_trail(key);
    },
    [self](cleanup_atom, const cleanup_request& req) -> result<cleanup_report> {
      const auto& eng = *self->state.eng;
      return persistence::remove_finished_runs(
        eng.approvals(), eng.runs(),
        persistence::cleanup_cutoff(eng.now(), req.max_age));
    },
    [self](expire_atom) -> caf::result<result<std::vector<std::string>>> {
      auto rp = self->make_response_promise<result<std::vector<std::string>>>();
      rp.delegate(self->state.eng->timer(), expire_atom_v);
      return rp;
    },
    [self](resident_atom) { return self->state.resident.size(); },
    [self](cluster_atom) { return self->state.eng->gateway(); },
    [self](detail::parked_atom, const std::string& run_id) {
      auto& st = self->state;
      auto it = st.resident.find(run_id);
      if (it == st.resident.end())
        return;
      unpark(st, it->second);
      if (it->second.quitting) {
        // It was not idle when asked to passivate, and parked again since.
        it->second.quitting = false;
        --st.quitting;
      }
      it->second.parked
        = st.parked.insert(st.parked.end(), {run_id, st.eng->now()});
      const auto limit = st.eng->config().max_resident_runs;
      // Runs asked to quit are on their way out: counting them again would
      // passivate one more run for each of them.
      const auto staying = st.resident.size() - st.quitting;
      auto over = staying > limit ? staying - limit : 0;
      while (over-- > 0 && !st.parked.empty())
        passivate_oldest(self);
      publish_residents(st);
    },
    [self](detail::finished_atom, const std::string& run_id) {
      auto& st = self->state;
      if (auto it = st.resident.find(run_id); it != st.resident.end())
        erase_resident(st, it);
    },
    [self](detail::wake_atom,
           detail::routed_wake& routed) -> caf::result<detail::wake_report> {
      // Stopping: nothing is re-activated; the key stays owed.
      if (self->state.stopping)
        return detail::wake_report{false, true};
      auto rp = self->make_response_promise<detail::wake_report>();
      ask_run<detail::wake_report>(
        self, routed.run_id,
        {[rp](detail::wake_report r) mutable { rp.deliver(r); },
         [self, rp, run_id = routed.run_id](model::error e) mutable {
           self->state.eng->log("waking run '" + run_id
                                + "' failed: " + e.message);
           rp.deliver(detail::wake_report{false, true});
         },
         [rp](const execution_result&) mutable {
           rp.deliver(detail::wake_report{});
         }},
        max_reactivations, detail::wake_atom_v, std::move(routed.wake));
      return rp;
    },
    [self](detail::tick_atom) { poll_owed_wakes(self); },
    [self](detail::sweep_atom) { sweep(self); },
  };
}

} // namespace

orchestrator_config&
orchestrator_config::use_lmdb_stores(const persistence::lmdb_stores& stores,
                                     bool keep_events) {
  approval_store = stores.approvals;
  workflow_state_store = stores.runs;
  journal = stores.journal;
  if (keep_events)
    outbox = stores.notifications;
  return *this;
}

orchestrator_actor spawn_orchestrator(caf::actor_system& system,
                                      orchestrator_config config) {
  return detail::spawn_orchestrator_engine(system, std::move(config)).first;
}

namespace detail {

std::pair<orchestrator_actor, std::shared_ptr<const engine>>
spawn_orchestrator_engine(caf::actor_system& system,
                          orchestrator_config config) {
  auto eng = std::make_shared<engine>(std::move(config),
                                      system.scheduler().num_workers());
  auto dir = system.spawn(directory_behavior, eng);
  eng->start(system, dir, eng);
  return {dir, eng};
}

} // namespace detail

} // namespace signoff::actors
