#include "run_actor.hpp"

#include <algorithm>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "engine.hpp"
#include "signoff/model/json_text.hpp"

namespace signoff::actors::detail {

namespace {

using execution_reply = model::result<model::execution_result>;
using execution_promise = caf::typed_response_promise<execution_reply>;
using wake_promise = caf::typed_response_promise<wake_report>;

/// The coroutine of a run, with what its frames reference: the workflow
/// function it came from and the step handle. Shared with a blocking job
/// in flight, which references the frame: if the actor goes first (it was
/// stopped), the job still finds all of it, and whichever lets go last
/// destroys it.
struct run_frame {
  std::shared_ptr<const workflow> fn;
  boost::json::value input;
  std::optional<signoff::step> steps;
  model::task<model::result<boost::json::value>> root;
};

/// What the run's coroutine is suspended on.
enum class waiting_for {
  /// Nothing: running, or not started.
  nothing,
  /// The shard's answer about an approval.
  reach,
  /// A pending approval: the run pauses, and parks once persisted.
  approval,
  /// A step on the step executor.
  blocking,
  /// The shards' answers to the cancels of the keys a wait on several left
  /// pending.
  cancels,
  /// A reply from another actor.
  reply,
};

using run_pointer = caf::stateful_actor<struct run_state>*;

void after_resume(run_pointer self);

/// The run actor's state, and the host of its steps.
struct run_state : request_host {
  explicit run_state(caf::event_based_actor* self) : self_(self) {}

  run_state(const run_state&) = delete;
  run_state& operator=(const run_state&) = delete;
  /// An actor that ended (an exception, a kill) while it carried an
  /// approval's creation never committed it: the shard hears so, or the key
  /// would stay busy for good.
  ~run_state() override {
    if (carried)
      caf::anon_send(eng->shard_for(carried->key), created_atom_v, carried->key,
                     model::result<void>{model::make_error(
                       model::error_type::storage_error,
                       "the run ended before committing it")});
  }

  // -- request_host ----------------------------------------------------------

  [[nodiscard]] const std::string& run_id() const noexcept override {
    return run.run_id;
  }

  [[nodiscard]] const model::checkpoint*
  saved(std::string_view key) const noexcept override;

  void keep(std::string key, model::checkpoint result) override {
    unsaved.emplace_back(std::move(key), std::move(result));
  }

  std::optional<model::approval_status>
  reach(const model::approval_request& request, model::step_waiter& w) override;

  bool reach_several(model::approval_wait& wait,
                     const model::approval_options& options,
                     model::step_waiter& w) override;

  bool cancel_pending(std::vector<std::string> keys, std::string reason,
                      model::step_waiter& w) override;

  bool run_blocking(model::blocking_job& job, model::step_waiter& w) override;

  void end_run(model::error e) override {
    ended = std::move(e);
  }

  [[nodiscard]] caf::event_based_actor& self() noexcept override {
    return *self_;
  }

  [[nodiscard]] model::duration request_timeout() const noexcept override {
    return eng->config().request_timeout;
  }

  std::uint64_t await_reply(model::step_waiter& w,
                            model::checkpoint& out) override {
    wait = waiting_for::reply;
    waiter = &w;
    reply_out = &out;
    return ++token;
  }

  void complete(std::uint64_t t, model::checkpoint result) override;

  [[nodiscard]] model::error request_error(const caf::error& e) const override {
    if (e == caf::sec::request_timeout)
      return model::make_error(model::error_type::request_timeout,
                               "no reply in time");
    return model::make_error(model::error_type::request_failed,
                             self_->system().render(e));
  }

  // -- the run ----------------------------------------------------------------

  caf::event_based_actor* self_;
  std::shared_ptr<engine> eng;
  /// The run's header and metadata; `run.checkpoints` holds what a replay
  /// reads (the stored log), and a step key used twice.
  model::saved_workflow_state run;
  /// Checkpoints kept since the last write, in the order they completed:
  /// moved into the next write, so the store holds the only copy.
  std::vector<std::pair<std::string, model::checkpoint>> unsaved;
  /// Hashes of the keys written since the run was activated: a step key
  /// used twice (keys must be unique) is looked up in the store again.
  std::vector<std::size_t> written;
  /// Whether the store holds the run, how it indexes it, and how many
  /// checkpoints its log holds.
  bool stored = false;
  persistence::run_index stored_index;
  std::uint32_t stored_checkpoints = 0;

  std::shared_ptr<run_frame> frame;
  bool started = false;
  /// A decision delivered at activation, used when the replay reaches it.
  std::unique_ptr<wake_message> early;

  waiting_for wait = waiting_for::nothing;
  /// The step suspended on the current wait; it lives in the coroutine's
  /// frame.
  model::step_waiter* waiter = nullptr;
  /// Tells the answer to the current wait from stale ones.
  std::uint64_t token = 0;
  /// The approval waited for: the step's own request, in the suspended
  /// coroutine's frame (read only while the run waits on it).
  const model::approval_request* approval = nullptr;
  /// Or the wait on several approvals, and how they are asked for: in the
  /// suspended coroutine's frame too.
  model::approval_wait* several = nullptr;
  const model::approval_options* several_options = nullptr;
  /// The keys a wait on several left pending, to cancel with this reason.
  std::vector<std::string> to_cancel;
  std::string cancel_reason;
  model::checkpoint* reply_out = nullptr;
  /// The creation of the approval the run waits on, made by the key's
  /// shard and committed with the run's next write (its pause).
  struct carried_creation {
    std::string key;
    persistence::write_batch writes;
  };
  std::optional<carried_creation> carried;
  /// The run paused and is persisted: only a wake moves it on.
  bool parked = false;
  /// Set by `end_run`: the run ends with this error.
  std::optional<model::error> ended;

  /// Waiting for the run's next pause or its end (execute, resume).
  std::vector<execution_promise> until_pause;
  /// Waiting for the run's next suspension of any kind (wakes).
  std::vector<wake_promise> until_suspension;

  static inline const char* name = "signoff.run";
};

/// Hands the answer to the current wait to the step suspended on it
/// (`deliver` calls it), which goes on with the coroutine or ends the run.
template <class Deliver>
void go_on(run_pointer self, Deliver deliver) {
  auto& st = self->state;
  st.wait = waiting_for::nothing;
  st.parked = false;
  st.approval = nullptr;
  st.several = nullptr;
  deliver(*std::exchange(st.waiter, nullptr));
  after_resume(self);
}

void go_on(run_pointer self, model::approval_status status) {
  go_on(self,
        [&status](model::step_waiter& w) { w.decided(std::move(status)); });
}

void go_on(run_pointer self) {
  go_on(self, [](model::step_waiter& w) { w.finished(); });
}

/// The keys the run waits on: its one approval, or those of a wait on
/// several still pending.
std::vector<std::string> waited_keys(const run_state& st) {
  if (st.approval != nullptr)
    return {st.approval->key};
  if (st.several != nullptr)
    return st.several->pending_keys();
  return {};
}

/// The options of the approvals the run waits on.
const model::approval_options& waited_options(const run_state& st) {
  return st.approval != nullptr ? st.approval->options : *st.several_options;
}

/// Where `key` is among the keys of the wait on several, if there.
std::optional<std::size_t> index_in_wait(const run_state& st,
                                         const std::string& key) {
  if (st.several == nullptr)
    return std::nullopt;
  const auto& keys = st.several->keys;
  auto it = std::find(keys.begin(), keys.end(), key);
  if (it == keys.end())
    return std::nullopt;
  return static_cast<std::size_t>(it - keys.begin());
}

/// True if the parked run waits on `key`.
bool waits_on(const run_state& st, const std::string& key) {
  if (!st.parked)
    return false;
  if (st.approval != nullptr)
    return st.approval->key == key;
  auto i = index_in_wait(st, key);
  return i && st.several->statuses[*i].is_pending();
}

/// Reads the keys of `wait` still pending from the store, as decided now
/// (an approval past its deadline reads as expired). Returns true if any of
/// them is missing from the store (nobody created it, or it was removed).
bool refresh(const run_state& st, model::approval_wait& wait) {
  bool missing = false;
  const auto now = st.eng->now();
  for (std::size_t i = 0; i < wait.keys.size(); ++i) {
    if (!wait.statuses[i].is_pending())
      continue;
    if (!st.eng->owns(wait.keys[i])) {
      // Another node's key: only its owner knows; ask it again.
      missing = true;
      continue;
    }
    auto record = st.eng->approvals().find_approval(wait.keys[i]);
    if (record.is_err())
      continue; // the shard answers for it when asked
    if (!record.value())
      missing = true;
    else
      wait.statuses[i] = record.value()->status_at(now);
  }
  return missing;
}

bool run_state::run_blocking(model::blocking_job& job, model::step_waiter& w) {
  auto* executor = eng->executor();
  if (executor == nullptr) {
    job.run();
    return false;
  }
  wait = waiting_for::blocking;
  waiter = &w;
  executor->post([keep = frame, &job, run = caf::actor_cast<caf::actor>(self_),
                  t = ++token] {
    job.run();
    caf::anon_send(run, step_done_atom_v, t);
  });
  return true;
}

const model::checkpoint* run_state::saved(std::string_view key) const noexcept {
  for (const auto& [k, c] : unsaved)
    if (k == key)
      return &c;
  const std::string name{key};
  if (auto it = run.checkpoints.find(name); it != run.checkpoints.end())
    return &it->second;
  const auto h = std::hash<std::string_view>{}(key);
  if (std::find(written.begin(), written.end(), h) == written.end())
    return nullptr;
  // Written by this activation: read it back (rare; keys should be unique).
  auto stored = eng->runs().load(run.run_id);
  if (stored.is_err() || !stored.value())
    return nullptr;
  auto it = stored.value()->checkpoints.find(name);
  if (it == stored.value()->checkpoints.end())
    return nullptr;
  auto& cache = const_cast<model::saved_workflow_state&>(run).checkpoints;
  return &cache.insert_or_assign(name, std::move(it->second)).first->second;
}

void run_state::complete(std::uint64_t t, model::checkpoint result) {
  if (t != token || wait != waiting_for::reply)
    return; // the run moved on (cancelled) since it asked
  *reply_out = std::move(result);
  go_on(static_cast<run_pointer>(self_));
}

/// The run's progress since its last write; its new checkpoints move into
/// it.
persistence::run_change progress(run_state& st) {
  persistence::run_change change;
  auto& run = change.run;
  run.run_id = st.run.run_id;
  run.workflow_name = st.run.workflow_name;
  run.status = st.run.status;
  run.pending_approvals = st.run.pending_approvals;
  run.approval_keys = st.run.approval_keys;
  run.pending_reason = st.run.pending_reason;
  run.started_at = st.run.started_at;
  run.updated_at = st.run.updated_at;
  run.outcome = st.run.outcome;
  run.cancelled_by = st.run.cancelled_by;
  for (auto& [key, saved] : st.unsaved) {
    st.written.push_back(std::hash<std::string_view>{}(key));
    run.checkpoints.insert_or_assign(std::move(key), std::move(saved));
  }
  st.unsaved = {}; // and its buffer: a parked run holds no spare capacity
  change.created = !st.stored;
  if (change.created) {
    run.input = st.frame->input;
    run.metadata = st.run.metadata;
  }
  change.checkpoints_before = st.stored_checkpoints;
  change.before = st.stored_index;
  return change;
}

void persisted(run_state& st, std::uint32_t checkpoints) {
  st.stored = true;
  st.stored_index = persistence::run_index::of(st.run);
  st.stored_checkpoints += checkpoints;
}

/// Tells the shard of the approval the run carried how its commit went.
void report_carried(run_state& st, const model::result<void>& outcome) {
  if (!st.carried)
    return;
  const auto key = std::move(st.carried->key);
  st.carried.reset();
  st.self().send(st.eng->shard_for(key), created_atom_v, key, outcome);
}

/// Writes the run's progress (with the approval it carries, if any) and
/// calls `then(self, outcome)` once it is durable; no other message is
/// handled meanwhile.
template <class Then>
void persist(run_pointer self, Then then) {
  auto& st = self->state;
  st.run.updated_at = st.eng->now();
  auto change = progress(st);
  const auto checkpoints
    = static_cast<std::uint32_t>(change.run.checkpoints.size());
  auto* journal = st.eng->journal();
  if (journal == nullptr) {
    auto applied = st.eng->runs().apply(std::move(change));
    if (applied.is_ok())
      persisted(st, checkpoints);
    then(self, std::move(applied));
    return;
  }
  persistence::write_batch batch;
  journal->encode(change, batch);
  auto on_error = [self, then](caf::error& e) mutable {
    auto failed = model::make_error(model::error_type::storage_error,
                                    self->system().render(e));
    report_carried(self->state, failed);
    then(self, std::move(failed));
  };
  if (!st.carried) {
    self
      ->request(st.eng->writer(), caf::infinite, commit_atom_v,
                std::move(batch))
      .await(
        [self, then, checkpoints](model::result<void>& done) mutable {
          if (done.is_ok())
            persisted(self->state, checkpoints);
          then(self, std::move(done));
        },
        on_error);
    return;
  }
  // The approval the run waits on and the run's pause share one commit,
  // each atomic on its own: a creation refused (another process made the
  // key) fails alone, and the shard has the run ask again.
  auto creation = std::move(st.carried->writes);
  self
    ->request(st.eng->writer(), caf::infinite, commit_atom_v,
              std::move(creation), std::move(batch))
    .await(
      [self, then, checkpoints](model::result<void>& created,
                                model::result<void>& done) mutable {
        report_carried(self->state, created);
        if (done.is_ok())
          persisted(self->state, checkpoints);
        then(self, std::move(done));
      },
      on_error);
}

void answer_suspension(run_state& st, bool resumed) {
  for (auto& rp : st.until_suspension)
    rp.deliver(wake_report{resumed});
  st.until_suspension.clear();
}

void answer_pause(run_state& st, const execution_reply& reply) {
  for (auto& rp : st.until_pause)
    rp.deliver(reply);
  st.until_pause.clear();
}

/// Leaves memory: tells the shard the run no longer waits here and the
/// directory to forget its actor. The store holds everything. Called before
/// the run's callers are answered, so that what they send next finds the
/// run gone; the actor quits once the current message is handled.
void leave(run_pointer self) {
  auto& st = self->state;
  if (st.parked)
    for (auto& key : waited_keys(st))
      self->send(st.eng->shard_for(key), forget_atom_v, key, st.run.run_id);
  self->send(st.eng->directory(), finished_atom_v, st.run.run_id);
  st.frame.reset();
  self->quit();
}

/// The store could not take the run's progress: its memory is ahead of the
/// store, so it leaves, and the next wake starts again from what is stored.
void fail_write(run_pointer self, const model::error& e) {
  auto& st = self->state;
  st.eng->log("saving run '" + st.run.run_id + "' failed: " + e.message);
  st.parked = false;
  leave(self);
  answer_pause(st, e);
  answer_suspension(st, false);
}

void finish(run_pointer self, model::result<boost::json::value> outcome) {
  auto& st = self->state;
  // The coroutine is done, or ends here without being resumed (its frame
  // goes with the actor).
  st.wait = waiting_for::nothing;
  st.run.status = outcome.is_ok() ? model::run_status::completed
                                  : model::run_status::failed;
  st.run.outcome = std::move(outcome);
  st.run.pending_approvals.clear();
  st.run.pending_reason.clear();
  persist(self, [](run_pointer self, model::result<void> done) {
    auto& st = self->state;
    if (done.is_err()) {
      fail_write(self, done.error());
      return;
    }
    st.eng->log("run '" + st.run.run_id + "' "
                + std::string{to_string(st.run.status)});
    st.eng->counters().run_ended(st.run.status);
    // As for a pause: the directory hears first (see `pause`).
    leave(self);
    answer_pause(st, model::execution_result::of(st.run));
    answer_suspension(st, true);
  });
}

/// Persists the run as paused on the keys it waits on and parks it. Those
/// woken now hear `resumed` (false for a wait on several that took a
/// decision and still waits).
void pause(run_pointer self, bool resumed = true) {
  auto& st = self->state;
  st.run.status = model::run_status::paused;
  st.run.pending_approvals = waited_keys(st);
  st.run.pending_reason = waited_options(st).pending_reason;
  persist(self, [resumed](run_pointer self, model::result<void> done) {
    auto& st = self->state;
    if (done.is_err()) {
      fail_write(self, done.error());
      return;
    }
    st.parked = true;
    // The directory hears of the pause before anyone waiting for it: a
    // caller woken by the answer may send the orchestrator something at
    // once (a decision), which must find the run parked (counted, and
    // passivated as the limits say), not still working.
    self->send(st.eng->directory(), parked_atom_v, st.run.run_id);
    answer_pause(st, model::execution_result::of(st.run));
    answer_suspension(st, resumed);
  });
}

/// Stores the run as running, with its checkpoints so far, then calls
/// `then`: a restart from here resumes the run over those checkpoints.
void persist_running(run_pointer self, std::function<void(run_pointer)> then) {
  auto& st = self->state;
  st.run.status = model::run_status::running;
  st.run.pending_approvals.clear();
  st.run.pending_reason.clear();
  persist(self,
          [then = std::move(then)](run_pointer self, model::result<void> done) {
            if (done.is_err()) {
              fail_write(self, done.error());
              return;
            }
            then(self);
          });
}

/// The run awaits another actor's reply. A wake waiting for this answer
/// lets the registry forget the wake it owed the run, so the decision must
/// be durable in the run first (its checkpoint, and the run stored as
/// running, which a restart resumes): else a crash now would leave the run
/// paused on a decided approval with no wake owed.
void await_reply_durably(run_pointer self) {
  auto& st = self->state;
  if (st.until_suspension.empty() || st.unsaved.empty()) {
    answer_suspension(st, true);
    return;
  }
  persist_running(
    self, [](run_pointer self) { answer_suspension(self->state, true); });
}

/// Sends the cancels a wait on several owes, each after telling the shard
/// the run no longer waits on the key (so the cancel's wake skips it), and
/// goes on once every shard answered. A cancel refused because the key was
/// decided meanwhile, or never made, is answered all the same.
void send_cancels(run_pointer self) {
  auto& st = self->state;
  const auto t = ++st.token;
  auto left = std::make_shared<std::size_t>(st.to_cancel.size());
  auto answered = [self, t, left] {
    auto& st = self->state;
    if (--*left == 0 && t == st.token && st.wait == waiting_for::cancels)
      go_on(self);
  };
  const auto actor = "run:" + st.run.run_id;
  for (auto& key : std::exchange(st.to_cancel, {})) {
    const auto& shard = st.eng->shard_for(key);
    self->send(shard, forget_atom_v, key, st.run.run_id);
    auto cancel = model::decision::cancel(key, st.cancel_reason, actor);
    cancel.require_existing = true;
    self
      ->request(shard, caf::infinite, decide_atom_v,
                decision_request{std::move(cancel), true})
      .then(
        [self, answered, key](model::result<decision_report>& r) {
          if (r.is_err() && !r.error().is(model::error_type::approval_conflict)
              && !r.error().is(model::error_type::not_found))
            self->state.eng->log("cancelling approval '" + key
                                 + "' failed: " + r.error().message);
          answered();
        },
        [self, answered, key](caf::error& e) {
          self->state.eng->log("cancelling approval '" + key
                               + "' failed: " + self->system().render(e));
          answered();
        });
  }
}

/// The outcome of a coroutine that ran to its end.
model::result<boost::json::value> outcome_of(run_frame& frame) {
  try {
    auto outcome = frame.root.result();
    if (outcome.is_ok() && !model::is_storable(outcome.value()))
      return model::make_error(model::error_type::unexpected_error,
                               "the workflow returned a value that cannot be "
                               "saved: it holds NaN or an infinity");
    if (outcome.is_err() && !model::is_storable(outcome.error().details))
      return model::make_error(model::error_type::unexpected_error,
                               "the workflow returned an error ("
                                 + outcome.error().type
                                 + ") whose details cannot be saved: they "
                                   "hold NaN or an infinity");
    return outcome;
  } catch (const std::exception& e) {
    return model::make_error(model::error_type::unexpected_error, e.what());
  } catch (...) {
    return model::make_error(model::error_type::unexpected_error,
                             "the workflow threw a non-standard exception");
  }
}

/// Decides what comes next once the coroutine stopped running: its end, a
/// pause, or a wait. A decision that woke the run stops waiting for it at
/// an awaited reply of another actor (an async step), never for another
/// service; a blocking step holds no actor thread, so it is waited for.
void after_resume(run_pointer self) {
  auto& st = self->state;
  if (st.ended) {
    finish(self, std::move(*std::exchange(st.ended, std::nullopt)));
    return;
  }
  if (st.frame->root.done()) {
    finish(self, outcome_of(*st.frame));
    return;
  }
  switch (st.wait) {
    case waiting_for::reach:
      return; // the shard's answer continues the run
    case waiting_for::approval:
      pause(self);
      return;
    case waiting_for::blocking:
      return;
    case waiting_for::cancels:
      // The checkpoint that names the keys goes first: once it is durable, a
      // crash before the cancels are answered replays it, which cancels
      // again what is still pending.
      if (st.unsaved.empty())
        send_cancels(self);
      else
        persist_running(self, send_cancels);
      return;
    case waiting_for::reply:
      await_reply_durably(self);
      return;
    case waiting_for::nothing:
      break;
  }
  // Suspended on something no step knows: nothing would ever resume it.
  finish(self, model::make_error(model::error_type::unexpected_error,
                                 "the workflow awaited something that is not "
                                 "a signoff step or task"));
}

/// Takes the shard's answer about an approval (see `ask_shard_for`).
using status_then = std::function<void(run_pointer, model::approval_status)>;

void take_status(run_pointer self,
                 model::result<model::approval_status>& status,
                 const status_then& then) {
  if (status.is_err() && status.error().is(model::error_type::unavailable)) {
    // The key's node is down: the run waits as on a pending key. When the
    // node is back, this node hands it the runs waiting on its keys, and
    // the run is woken to ask again.
    self->state.eng->log("run '" + self->state.run.run_id
                         + "' waits for its approval's node: "
                         + status.error().message);
    then(self, model::approval_status{});
    return;
  }
  if (status.is_err()) {
    finish(self, status.error());
    return;
  }
  then(self, std::move(status.value()));
}

/// Asks the shard owning `key` for the approval (made with the options of
/// the current wait if nobody asked for it yet), and hands its status to
/// `then`; an error ends the run. Nothing else reaches the run meanwhile.
/// With `carry`, a run that pauses at once on a pending status takes the
/// approval's creation into its pause's commit (on a journal).
void ask_shard_for(run_pointer self, const std::string& key, bool carry,
                   status_then then) {
  auto& st = self->state;
  st.wait = waiting_for::reach;
  const auto& options = waited_options(st);
  const auto now = st.eng->now();
  model::approval_spec spec{
    options.pending_reason,
    options.metadata,
    now + options.expires_in.value_or(st.eng->config().default_expiration),
    options.quorum,
    st.run.run_id,
    st.run.workflow_name,
    options.assignees,
    options.candidate_groups,
    options.priority,
    options.escalations,
    options.reminders};
  reach_request req{st.run.run_id, st.run.workflow_name,
                    caf::actor_cast<caf::actor>(self), key, std::move(spec)};
  auto failed = [self](caf::error& e) {
    finish(self, model::make_error(model::error_type::storage_error,
                                   self->system().render(e)));
  };
  const auto& shard = st.eng->shard_for(key);
  if (carry && st.eng->journal() != nullptr) {
    self->request(shard, caf::infinite, reach_carrying_atom_v, std::move(req))
      .await(
        [self, key,
         then = std::move(then)](model::result<model::approval_status>& status,
                                 persistence::write_batch& creation) {
          if (!creation.empty())
            self->state.carried
              = run_state::carried_creation{key, std::move(creation)};
          take_status(self, status, then);
        },
        failed);
    return;
  }
  self->request(shard, caf::infinite, reach_atom_v, std::move(req))
    .await(
      [self,
       then = std::move(then)](model::result<model::approval_status>& status) {
        take_status(self, status, then);
      },
      failed);
}

/// Asks the shard owning the key for the one approval the run waits on: a
/// pending one pauses the run at once, so its creation is carried.
void ask_shard(run_pointer self) {
  ask_shard_for(self, self->state.approval->key, true,
                [](run_pointer self, model::approval_status status) {
                  if (status.is_pending()) {
                    self->state.wait = waiting_for::approval;
                    pause(self);
                    return;
                  }
                  go_on(self, std::move(status));
                });
}

/// A wait on several is over: the step goes on with what the store says of
/// every key still pending, so that of decisions made meanwhile the
/// earliest counts, whichever woke the run.
void end_wait(run_pointer self) {
  auto& st = self->state;
  refresh(st, *st.several);
  go_on(self);
}

/// Asks the shards, one key after another from `i`, for the keys of the
/// wait on several still pending, until the wait is over (the step goes
/// on) or none is left to ask (the run pauses on those still pending).
void reach_from(run_pointer self, std::size_t i) {
  auto& st = self->state;
  auto& wait = *st.several;
  while (i < wait.keys.size() && !wait.statuses[i].is_pending())
    ++i;
  if (i == wait.keys.size()) {
    st.wait = waiting_for::approval;
    pause(self);
    return;
  }
  ask_shard_for(self, wait.keys[i], false,
                [i](run_pointer self, model::approval_status status) {
                  auto& wait = *self->state.several;
                  wait.statuses[i] = std::move(status);
                  if (wait.over())
                    end_wait(self);
                  else
                    reach_from(self, i + 1);
                });
}

/// The wait on several took a decision on one of its keys (it was parked,
/// and woken, or resumed by hand): it goes on if that ends it, else parks
/// again on the keys left.
void after_decision(run_pointer self) {
  auto& st = self->state;
  refresh(st, *st.several);
  if (st.several->over()) {
    go_on(self);
    return;
  }
  st.parked = false;
  st.wait = waiting_for::approval;
  pause(self, false);
}

std::optional<model::approval_status>
run_state::reach(const model::approval_request& request,
                 model::step_waiter& w) {
  auto& keys = run.approval_keys;
  if (std::find(keys.begin(), keys.end(), request.key) == keys.end())
    keys.push_back(request.key);
  if (early && early->key == request.key && !early->status.is_pending()) {
    auto status = std::move(early->status);
    early.reset();
    return status;
  }
  approval = &request;
  several = nullptr;
  waiter = &w;
  ask_shard(static_cast<run_pointer>(self_));
  return std::nullopt;
}

bool run_state::reach_several(model::approval_wait& wait,
                              const model::approval_options& options,
                              model::step_waiter& w) {
  auto& keys = run.approval_keys;
  for (const auto& key : wait.keys)
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      keys.push_back(key);
  if (early && !early->status.is_pending()) {
    auto it = std::find(wait.keys.begin(), wait.keys.end(), early->key);
    if (it != wait.keys.end()) {
      wait.statuses[static_cast<std::size_t>(it - wait.keys.begin())]
        = std::move(early->status);
      early.reset();
    }
  }
  // Keys decided before the run got here are read, not asked for: if they
  // end the wait, the others are never made only to be cancelled.
  refresh(*this, wait);
  if (wait.over())
    return true;
  approval = nullptr;
  several = &wait;
  several_options = &options;
  waiter = &w;
  reach_from(static_cast<run_pointer>(self_), 0);
  return false;
}

bool run_state::cancel_pending(std::vector<std::string> keys,
                               std::string reason, model::step_waiter& w) {
  if (unsaved.empty()) {
    // A replay: its checkpoint is durable, and so is every approval the
    // run made before it, so only those still pending need a cancel.
    const auto now = eng->now();
    std::erase_if(keys, [&](const std::string& key) {
      if (!eng->owns(key))
        return false; // its owner answers an idempotent cancel
      auto record = eng->approvals().find_approval(key);
      return record.is_ok()
             && (!record.value()
                 || !record.value()->status_at(now).is_pending());
    });
    if (keys.empty())
      return false;
  }
  to_cancel = std::move(keys);
  cancel_reason = std::move(reason);
  wait = waiting_for::cancels;
  waiter = &w;
  return true;
}

/// Starts the coroutine: from the top, over the checkpoints of a stored run.
void start(run_pointer self) {
  auto& st = self->state;
  st.started = true;
  st.run.status = model::run_status::running;
  st.frame->steps.emplace(st);
  try {
    st.frame->root = (*st.frame->fn)(*st.frame->steps, st.frame->input);
  } catch (...) {
    // A workflow function that is no coroutine may throw when called.
    finish(
      self,
      model::detail::thrown_outcome(std::current_exception()).result.error());
    return;
  }
  if (!st.frame->root) {
    // A function that is no coroutine may return an empty task: there is
    // no coroutine to start, and resuming a null handle would crash.
    finish(self, model::make_error(model::error_type::unexpected_error,
                                   "the workflow function returned no "
                                   "coroutine (an empty task)"));
    return;
  }
  st.frame->root.start();
  after_resume(self);
}

/// A decision reached the parked run.
void take_wake(run_pointer self, wake_message wake) {
  auto& st = self->state;
  if (st.several != nullptr) {
    const auto i = *index_in_wait(st, wake.key);
    st.parked = false;
    if (wake.status.is_pending()) {
      // The shard lost the approval it was creating: ask again.
      ask_shard_for(self, wake.key, false,
                    [i](run_pointer self, model::approval_status status) {
                      self->state.several->statuses[i] = std::move(status);
                      after_decision(self);
                    });
      return;
    }
    st.several->statuses[i] = std::move(wake.status);
    after_decision(self);
    return;
  }
  if (wake.status.is_pending()) {
    // The shard lost the approval it was creating: ask again.
    st.parked = false;
    ask_shard(self);
    return;
  }
  go_on(self, std::move(wake.status));
}

caf::result<execution_reply> cancel(run_pointer self, cancel_run_request& req) {
  auto& st = self->state;
  // A run re-activated from the store only to be cancelled has not started:
  // it is paused as stored, and no shard knows its actor, so there is
  // nothing to forget when it leaves.
  const bool paused
    = st.parked || (!st.started && st.run.status == model::run_status::paused);
  if (!paused)
    return execution_reply{model::make_error(
      model::error_type::invalid_run_state,
      "run '" + st.run.run_id + "' is " + std::string{to_string(st.run.status)}
        + "; only a paused run can be cancelled")};
  auto waited_on = st.run.pending_approvals;
  st.run.status = model::run_status::cancelled;
  st.run.pending_approvals.clear();
  st.run.pending_reason.clear();
  st.run.outcome = model::err(model::make_error(
    model::error_type::approval_cancelled,
    req.reason.empty() ? "the run was cancelled" : std::move(req.reason),
    boost::json::value{{"cancelledBy", req.actor}}));
  st.run.cancelled_by = std::move(req.actor);
  auto rp = self->make_response_promise<execution_reply>();
  persist(self,
          [rp, waited_on](run_pointer self, model::result<void> done) mutable {
            auto& st = self->state;
            if (done.is_err()) {
              fail_write(self, done.error());
              rp.deliver(execution_reply{done.error()});
              return;
            }
            st.eng->counters().run_ended(st.run.status);
            auto reply = model::execution_result::of(st.run);
            reply.pending_approvals = std::move(waited_on);
            leave(self);
            rp.deliver(execution_reply{std::move(reply)});
          });
  return rp;
}

/// A manual resume: the run goes on if its approval was decided (read from
/// the store), else the answer is its state.
caf::result<execution_reply> resume(run_pointer self) {
  auto& st = self->state;
  // A promise takes the reply over from the handler: made only where the
  // answer comes later.
  auto later = [self]() {
    auto rp = self->make_response_promise<execution_reply>();
    self->state.until_pause.push_back(rp);
    return rp;
  };
  if (!st.started) {
    auto rp = later();
    start(self);
    return rp;
  }
  if (!st.parked)
    return later();
  if (st.several != nullptr) {
    if (refresh(st, *st.several)) {
      // An approval vanished (removed by hand): ask for the keys again.
      auto rp = later();
      st.parked = false;
      reach_from(self, 0);
      return rp;
    }
    if (!st.several->over())
      return execution_reply{model::execution_result::of(st.run)};
    auto rp = later();
    go_on(self);
    return rp;
  }
  // Another node's key is read by asking its owner, as for a vanished one.
  auto record = st.eng->owns(st.approval->key)
                  ? st.eng->approvals().find_approval(st.approval->key)
                  : model::result<std::optional<model::approval_record>>{};
  if (record.is_err())
    return execution_reply{record.error()};
  if (!record.value()) {
    // The approval vanished (removed by hand): ask for it again.
    auto rp = later();
    st.parked = false;
    ask_shard(self);
    return rp;
  }
  auto status = record.value()->status_at(st.eng->now());
  if (status.is_pending())
    return execution_reply{model::execution_result::of(st.run)};
  auto rp = later();
  take_wake(self, wake_message{st.approval->key, std::move(status)});
  return rp;
}

caf::behavior run_behavior(run_pointer self, std::shared_ptr<engine> eng,
                           run_start init) {
  auto& st = self->state;
  st.eng = std::move(eng);
  st.run = std::move(init.state);
  st.stored = init.stored;
  if (st.stored) {
    st.stored_index = persistence::run_index::of(st.run);
    st.stored_checkpoints
      = static_cast<std::uint32_t>(st.run.checkpoints.size());
  }
  st.frame = std::make_shared<run_frame>();
  st.frame->fn = std::move(init.fn);
  st.frame->input = std::exchange(st.run.input, {});
  // The engine's own code throwing (no memory left) ends the actor as a
  // failed write does: the run leaves for the store, and everyone waiting
  // for it hears the error instead of waiting for good.
  self->set_exception_handler([self](std::exception_ptr& thrown) {
    std::string what = "an exception";
    try {
      std::rethrow_exception(thrown);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) { // NOLINT(bugprone-empty-catch): `what` says it
    }
    fail_write(self, model::make_error(model::error_type::unexpected_error,
                                       "the run's actor failed: " + what));
    return caf::make_error(caf::sec::runtime_error, std::move(what));
  });
  return {
    [self](start_atom) -> caf::result<execution_reply> {
      auto rp = self->make_response_promise<execution_reply>();
      self->state.until_pause.push_back(rp);
      start(self);
      return rp;
    },
    [self](resume_atom) { return resume(self); },
    [self](wake_atom, wake_message& wake) -> caf::result<wake_report> {
      auto& st = self->state;
      if (!st.started) {
        // Re-activated to take this wake: the replay uses it.
        auto rp = self->make_response_promise<wake_report>();
        st.until_suspension.push_back(rp);
        st.early = std::make_unique<wake_message>(std::move(wake));
        start(self);
        return rp;
      }
      if (!waits_on(st, wake.key))
        return wake_report{false};
      auto rp = self->make_response_promise<wake_report>();
      st.until_suspension.push_back(rp);
      take_wake(self, std::move(wake));
      return rp;
    },
    [self](cancel_run_atom, cancel_run_request& req) {
      return cancel(self, req);
    },
    [self](passivate_atom) {
      auto& st = self->state;
      const bool idle
        = st.parked && st.until_pause.empty() && st.until_suspension.empty();
      if (idle)
        leave(self);
      return idle;
    },
    [self](step_done_atom, std::uint64_t t) {
      auto& st = self->state;
      if (t == st.token && st.wait == waiting_for::blocking)
        go_on(self);
    },
  };
}

} // namespace

caf::actor spawn_run(caf::actor_system& system, std::shared_ptr<engine> eng,
                     run_start start) {
  return system.spawn(run_behavior, std::move(eng), std::move(start));
}

} // namespace signoff::actors::detail
