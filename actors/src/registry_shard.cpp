#include "registry_shard.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include <caf/all.hpp>

#include "cluster_gateway.hpp"
#include "engine.hpp"

namespace signoff::actors::detail {

namespace {

/// Decisions computed from a record another process changed meanwhile are
/// computed again this many times before giving up.
constexpr int attempts_on_stale_write = 8;

/// Runs whose approval's creation the store refused ask again this much
/// later.
constexpr auto retry_creation_after = std::chrono::seconds{1};

using decision_reply = model::result<decision_report>;
using comment_reply = model::result<model::audit_entry>;
using assignment_reply = model::result<model::decision_outcome>;
using status_reply = model::result<model::approval_status>;

/// A resident run waiting on a key, or a run of another node.
struct waiter {
  std::string run_id;
  caf::actor run;
  /// `run` is the watcher of the run's node (see `reach_request::remote`).
  bool remote = false;
};

/// What the shard holds for one key: only while runs wait on it in memory
/// or its writes are in flight, so a million parked approvals cost nothing
/// here.
struct key_entry {
  std::vector<waiter> waiters;
  /// Writes sent to the writer and not yet durable. While any is, the
  /// key's next operations wait in `queued`, so each is computed from a
  /// durable record.
  std::uint32_t writes = 0;
  std::vector<std::function<void()>> queued;
  /// Wake rounds going on; an owed-wake poll leaves the key to them.
  std::uint32_t waking = 0;
  /// The key's creation, handed to the run that reached it to commit with
  /// its pause (counted in `writes` until the run tells how it went). Out
  /// of line: an entry lives as long as runs wait on its key in memory.
  std::unique_ptr<model::approval_record> carried;

  [[nodiscard]] bool idle() const noexcept {
    return waiters.empty() && writes == 0 && queued.empty() && waking == 0;
  }
};

struct shard_state {
  std::shared_ptr<engine> eng;
  std::unordered_map<std::string, key_entry> keys;

  static inline const char* name = "signoff.registry_shard";
};

/// The shard's own messages stay out of its public handle.
using shard_impl
  = registry_shard_actor::extend<caf::reacts_to<retry_atom, std::string>>;

using shard_pointer = shard_impl::stateful_pointer<shard_state>;

/// Forgets `key`'s entry once nothing needs it.
void release(shard_pointer self, const std::string& key) {
  auto& keys = self->state.keys;
  if (auto it = keys.find(key); it != keys.end() && it->second.idle())
    keys.erase(it);
}

/// True if a write of `key` is in flight: its next operations wait.
bool busy(shard_pointer self, const std::string& key) {
  auto it = self->state.keys.find(key);
  return it != self->state.keys.end() && it->second.writes > 0;
}

/// Runs `op` once no write of `key` is in flight (call only when busy).
void after_writes(shard_pointer self, const std::string& key,
                  std::function<void()> op) {
  self->state.keys[key].queued.push_back(std::move(op));
}

/// Runs `op` now if no write of `key` is in flight, else once none is, so
/// every operation on a key is computed from its durable record. Only an
/// operation that has to wait is type-erased (and allocated).
template <class Op>
void when_idle(shard_pointer self, const std::string& key, Op op) {
  if (busy(self, key)) {
    after_writes(self, key, std::function<void()>{std::move(op)});
    return;
  }
  op();
  release(self, key);
}

/// Registers `w` as waiting on `key`, replacing an older registration of
/// the same run (a run re-activated since has a new actor).
void register_waiter(shard_pointer self, const std::string& key, waiter w) {
  auto& waiters = self->state.keys[key].waiters;
  auto same
    = std::find_if(waiters.begin(), waiters.end(),
                   [&](const waiter& x) { return x.run_id == w.run_id; });
  if (same != waiters.end())
    *same = std::move(w);
  else
    waiters.push_back(std::move(w));
}

/// A write of `key` became durable (or failed): runs what waited for it.
void written(shard_pointer self, const std::string& key) {
  auto& keys = self->state.keys;
  auto it = keys.find(key);
  if (it == keys.end())
    return;
  --it->second.writes;
  while (it->second.writes == 0 && !it->second.queued.empty()) {
    auto& queued = it->second.queued;
    auto op = std::move(queued.front());
    queued.erase(queued.begin());
    op();
    // `op` may have added keys, or released this one (a repeated decision
    // with nobody to wake ends its round at once).
    it = keys.find(key);
    if (it == keys.end())
      return;
  }
  release(self, key);
}

/// Writes `change` and calls `then(outcome, record)` once it is durable (at
/// once, for a store that applies changes itself), with the record it
/// wrote handed back, so nobody copies it meanwhile.
template <class Then>
void write(shard_pointer self, persistence::approval_change change, Then then) {
  const auto& eng = *self->state.eng;
  auto* journal = eng.journal();
  if (journal == nullptr) {
    auto record = change.after;
    auto events = std::move(change.events);
    auto applied = eng.approvals().apply(std::move(change));
    if (applied.is_ok())
      for (const auto& event : events)
        eng.keep_event(event);
    then(std::move(applied), std::move(record));
    return;
  }
  const auto key = change.after.key;
  ++self->state.keys[key].writes;
  persistence::write_batch batch;
  journal->encode(change, batch);
  // Shared by the two handlers below, so neither copies the continuation
  // (and the decision, record and names it holds).
  struct pending_write {
    Then then;
    model::approval_record record;
  };
  auto pending = std::make_shared<pending_write>(
    pending_write{std::move(then), std::move(change.after)});
  self->request(eng.writer(), caf::infinite, commit_atom_v, std::move(batch))
    .then(
      [self, key, pending](model::result<void>& committed) {
        pending->then(std::move(committed), std::move(pending->record));
        written(self, key);
      },
      [self, key, pending](caf::error& e) {
        pending->then(model::make_error(model::error_type::storage_error,
                                        self->system().render(e)),
                      std::move(pending->record));
        written(self, key);
      });
}

/// Forgets the owed wake of `key`: riding on the next commit, since a
/// crash that loses it only costs one wake too many.
void settle(shard_pointer self, const std::string& key) {
  const auto& eng = *self->state.eng;
  if (auto* journal = eng.journal()) {
    persistence::write_batch batch;
    journal->encode_wakes_settled({key}, batch);
    self->send(eng.writer(), settle_atom_v, std::move(batch));
  } else if (auto done = eng.approvals().wakes_done({key}); done.is_err()) {
    eng.log("forgetting the owed wake of '" + key
            + "' failed: " + done.error().message);
  }
}

/// The runs to wake for a key, and how far the round got.
struct wake_round {
  std::string key;
  wake_message wake;
  /// A resident run's actor, or null for a run the directory re-activates.
  std::vector<waiter> targets;
  std::size_t next = 0;
  std::size_t pending = 0;
  std::vector<std::string> resumed;
  bool failed = false;
  std::function<void(std::vector<std::string>)> done;
};

void wake_next(shard_pointer self, std::shared_ptr<wake_round> round);

void woken(shard_pointer self, const std::shared_ptr<wake_round>& round,
           const std::string& run_id, const wake_report& report) {
  auto& counted = self->state.eng->counters();
  bump(report.failed    ? counted.wakes_failed
       : report.resumed ? counted.wakes_resumed
                        : counted.wakes_stale);
  if (report.resumed)
    round->resumed.push_back(run_id);
  if (report.failed)
    round->failed = true;
  --round->pending;
  wake_next(self, round);
}

void wake_through_directory(shard_pointer self,
                            const std::shared_ptr<wake_round>& round,
                            const std::string& run_id) {
  const auto& eng = *self->state.eng;
  self
    ->request(eng.directory(), caf::infinite, wake_atom_v,
              routed_wake{run_id, round->wake})
    .then([self, round,
           run_id](wake_report& report) { woken(self, round, run_id, report); },
          [self, round, run_id](caf::error& e) {
            self->state.eng->log("waking run '" + run_id
                                 + "' failed: " + self->system().render(e));
            woken(self, round, run_id, wake_report{false, true});
          });
}

/// Wakes a run of another node through its node's watcher. A run that
/// could not be woken (its node is down) stays registered: the key stays
/// owed, and the next try reaches it (the node also asks again for its
/// runs' keys when it comes back).
void wake_remote(shard_pointer self, const std::shared_ptr<wake_round>& round,
                 waiter target) {
  self
    ->request(target.run, caf::infinite, wake_atom_v,
              routed_wake{target.run_id, round->wake})
    .then(
      [self, round, target](wake_report& report) {
        if (report.failed)
          register_waiter(self, round->key, target);
        woken(self, round, target.run_id, report);
      },
      [self, round, target](caf::error&) {
        register_waiter(self, round->key, target);
        woken(self, round, target.run_id, wake_report{false, true});
      });
}

/// Sends the next wakes of the round, keeping at most `wakes_in_flight`
/// unanswered, and ends it once every target answered.
void wake_next(shard_pointer self, std::shared_ptr<wake_round> round) {
  const auto& eng = *self->state.eng;
  const auto limit = eng.config().wakes_in_flight;
  while (round->pending < limit && round->next < round->targets.size()) {
    auto target = round->targets[round->next++];
    ++round->pending;
    if (!target.run) {
      wake_through_directory(self, round, target.run_id);
      continue;
    }
    if (target.remote) {
      wake_remote(self, round, std::move(target));
      continue;
    }
    self->request(target.run, caf::infinite, wake_atom_v, round->wake)
      .then([self, round, run_id = target.run_id](
              wake_report& report) { woken(self, round, run_id, report); },
            // The run passivated or ended since it registered: the directory
            // finds it in the store.
            [self, round, run_id = target.run_id](caf::error&) {
              wake_through_directory(self, round, run_id);
            });
  }
  if (round->pending > 0 || round->next < round->targets.size())
    return;
  auto& entry = self->state.keys[round->key];
  --entry.waking;
  if (!round->failed)
    settle(self, round->key);
  release(self, round->key);
  if (round->done)
    round->done(std::move(round->resumed));
}

/// Wakes every run waiting on `key` with `status`: those registered in
/// memory directly, and those the store lists (passivated, or from before a
/// restart) through the directory. `done` gets the runs that went on.
void wake_all(shard_pointer self, const std::string& key,
              model::approval_status status,
              std::function<void(std::vector<std::string>)> done) {
  const auto& eng = *self->state.eng;
  auto& entry = self->state.keys[key];
  ++entry.waking;
  auto round = std::make_shared<wake_round>();
  round->key = key;
  round->wake = wake_message{key, std::move(status)};
  round->done = std::move(done);
  round->targets = std::move(entry.waiters);
  entry.waiters.clear();
  std::unordered_set<std::string> known;
  for (const auto& w : round->targets)
    known.insert(w.run_id);
  auto stored = eng.runs().find_by_pending_approval(key);
  if (stored.is_err()) {
    eng.log("finding the runs waiting on '" + key
            + "' failed: " + stored.error().message);
    round->failed = true;
  } else {
    for (auto& run_id : stored.value())
      if (known.insert(run_id).second)
        round->targets.push_back({std::move(run_id), {}});
  }
  wake_next(self, std::move(round));
}

void decide(shard_pointer self, decision_request req,
            caf::typed_response_promise<decision_reply> rp, int attempt);

/// Counts a decision that was taken, changing the approval or not.
void count_decision(const engine& eng, const model::decision& d, bool applied) {
  eng.counters().decisions.count(d.kind, applied, {});
}

/// Counts a decision refused with `e`.
void count_decision(const engine& eng, const model::decision& d,
                    const model::error& e) {
  eng.counters().decisions.count(d.kind, false, e.type);
}

/// The runs waiting on `key`, in id order: those registered here and those
/// the store lists. Named in the key's `approval.resolved` event.
std::vector<std::string> waiting_runs(shard_pointer self,
                                      const std::string& key) {
  std::vector<std::string> out;
  if (auto stored = self->state.eng->runs().find_by_pending_approval(key);
      stored.is_ok())
    out = std::move(stored.value());
  if (auto it = self->state.keys.find(key); it != self->state.keys.end())
    for (const auto& w : it->second.waiters)
      out.push_back(w.run_id);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

/// Computes and writes the decision; the key has no write in flight.
void decide_now(shard_pointer self, decision_request req,
                caf::typed_response_promise<decision_reply> rp, int attempt) {
  const auto& eng = *self->state.eng;
  const auto now = eng.now();
  const auto key = req.decision.key;
  auto stored = eng.approvals().find_approval(key);
  if (stored.is_err()) {
    count_decision(eng, req.decision, stored.error());
    rp.deliver(decision_reply{stored.error()});
    return;
  }
  auto& current = stored.value();
  const auto before
    = current ? std::optional{persistence::approval_index::of(*current)}
              : std::nullopt;
  auto transition
    = model::apply_decision(std::move(current), req.decision, now);
  if (transition.is_err()) {
    count_decision(eng, req.decision, transition.error());
    rp.deliver(decision_reply{transition.error()});
    return;
  }
  const bool resolved = !transition->record.status.is_pending();
  if (!transition->applied) {
    count_decision(eng, req.decision, false);
    auto status = transition->record.status;
    decision_report report{std::move(transition->record),
                           false,
                           status.decided_at.value_or(now),
                           {}};
    // An idempotent repeat wakes the waiting runs too: that repairs a wake
    // lost earlier.
    if (resolved && req.auto_resume)
      wake_all(self, key, std::move(status),
               [rp, report = std::move(report)](
                 std::vector<std::string> resumed) mutable {
                 report.resumed_workflows = std::move(resumed);
                 rp.deliver(decision_reply{std::move(report)});
               });
    else
      rp.deliver(decision_reply{std::move(report)});
    return;
  }
  // The runs waiting on the key, named in the event and the hook: looked
  // up only when somebody reads them.
  auto waiting = resolved && (eng.keeps_events() || eng.tells_resolutions())
                   ? waiting_runs(self, key)
                   : std::vector<std::string>{};
  // Reminders and escalations (the timer's, or those a late decision
  // caught up with) are told once committed, like resolutions.
  auto notices = transition->notices;
  auto change = persistence::make_approval_change(
    before, std::move(transition.value()), now, {eng.keeps_events(), waiting});
  change.owe_wake = change.owe_wake && req.auto_resume;
  write(self, std::move(change),
        [self, req = std::move(req), rp, attempt, now,
         waiting = std::move(waiting),
         notices = std::move(notices)](model::result<void> committed,
                                       model::approval_record record) mutable {
          if (committed.is_err()) {
            if (committed.error().is(model::error_type::stale_write)
                && attempt + 1 < attempts_on_stale_write)
              decide(self, std::move(req), rp, attempt + 1);
            else {
              count_decision(*self->state.eng, req.decision, committed.error());
              rp.deliver(decision_reply{committed.error()});
            }
            return;
          }
          const auto& eng = *self->state.eng;
          count_decision(eng, req.decision, true);
          for (const auto& notice : notices)
            eng.approval_noticed(notice);
          const bool pending = record.status.is_pending();
          if (!pending && eng.tells_resolutions())
            eng.approval_resolved(record, std::move(waiting));
          const auto decided_at = record.status.decided_at.value_or(now);
          if (pending || !req.auto_resume) {
            rp.deliver(decision_reply{
              decision_report{std::move(record), true, decided_at, {}}});
            return;
          }
          // The wake carries its own copy of the status to every run.
          auto status = record.status;
          const auto key = record.key;
          decision_report report{std::move(record), true, decided_at, {}};
          wake_all(self, key, std::move(status),
                   [rp, report = std::move(report)](
                     std::vector<std::string> resumed) mutable {
                     report.resumed_workflows = std::move(resumed);
                     rp.deliver(decision_reply{std::move(report)});
                   });
        });
}

void decide(shard_pointer self, decision_request req,
            caf::typed_response_promise<decision_reply> rp, int attempt) {
  const auto key = req.decision.key;
  when_idle(self, key, [self, req = std::move(req), rp, attempt]() mutable {
    decide_now(self, std::move(req), rp, attempt);
  });
}

/// Writes a change that decides nothing (a comment, a change of
/// assignment) once no write of `key` is in flight: `rule(current, now)`
/// computes its transition from the durable record, `answer(transition)`
/// the reply. Nobody is woken; receivers are told what the transition's
/// notice says. A change computed from a record another process changed
/// meanwhile is computed again.
template <class Reply, class Rule, class Answer>
void amend(shard_pointer self, std::string key, Rule rule, Answer answer,
           caf::typed_response_promise<Reply> rp, int attempt) {
  auto op = [self, key, rule, answer, rp, attempt]() mutable {
    const auto& eng = *self->state.eng;
    const auto now = eng.now();
    auto stored = eng.approvals().find_approval(key);
    if (stored.is_err()) {
      rp.deliver(Reply{stored.error()});
      return;
    }
    auto& current = stored.value();
    const auto before
      = current ? std::optional{persistence::approval_index::of(*current)}
                : std::nullopt;
    auto transition = rule(std::move(current), now);
    if (transition.is_err()) {
      rp.deliver(Reply{transition.error()});
      return;
    }
    auto reply = answer(transition.value());
    if (!transition->applied) {
      rp.deliver(std::move(reply));
      return;
    }
    write(self,
          persistence::make_approval_change(before,
                                            std::move(transition.value()), now,
                                            {eng.keeps_events(), {}}),
          [self, key = std::move(key), rule = std::move(rule),
           answer = std::move(answer), rp, attempt, reply = std::move(reply)](
            model::result<void> committed, model::approval_record) mutable {
            if (committed.is_ok()) {
              rp.deliver(std::move(reply));
              return;
            }
            if (committed.error().is(model::error_type::stale_write)
                && attempt + 1 < attempts_on_stale_write)
              amend(self, std::move(key), std::move(rule), std::move(answer),
                    rp, attempt + 1);
            else
              rp.deliver(Reply{committed.error()});
          });
  };
  const auto k = key;
  when_idle(self, k, std::move(op));
}

/// The creation of an approval was committed (or failed): a durable one
/// announces itself and arms its deadline. On a failure the waiting runs
/// ask again (a wake with a pending status): at once if another process
/// made the key meanwhile (they find its approval), else (the store
/// failed) a while later, so a store that keeps failing is not asked in a
/// loop.
void created(shard_pointer self, const model::result<void>& outcome,
             const model::approval_record& record) {
  const auto& eng = *self->state.eng;
  if (outcome.is_ok()) {
    eng.approval_needed(record);
    if (const auto due = record.next_due())
      eng.watch_deadline(*due);
    return;
  }
  eng.log("creating approval '" + record.key
          + "' failed: " + outcome.error().message);
  if (outcome.error().is(model::error_type::stale_write))
    wake_all(self, record.key, {}, {});
  else
    self->delayed_send(self, retry_creation_after, retry_atom_v, record.key);
}

/// A run's first reach of a key nobody asked for: creates it pending. The
/// run is told at once. The creation is committed with the run's own pause:
/// in `carry` when the run takes it (its pause commits both, and it tells
/// the shard how that went), else by the shard, before the run's pause
/// reaches the writer.
status_reply create_for(shard_pointer self, const reach_request& req,
                        persistence::write_batch* carry) {
  const auto& eng = *self->state.eng;
  const auto now = eng.now();
  auto transition
    = model::create_approval(req.key, req.spec, "run:" + req.run_id, now);
  if (transition.is_err())
    return status_reply{transition.error()};
  register_waiter(self, req.key, {req.run_id, req.run, req.remote});
  // The timer learns of the deadline now, and again once the approval is
  // durable: had it fired in between, it read the store without this
  // approval and may have armed for a later one.
  const auto due = transition->record.next_due();
  if (due)
    eng.watch_deadline(*due);
  auto change = persistence::make_approval_change(
    std::nullopt, std::move(transition.value()), now, {eng.keeps_events(), {}});
  if (carry != nullptr && eng.journal() != nullptr) {
    eng.journal()->encode(change, *carry);
    auto& entry = self->state.keys[req.key];
    ++entry.writes;
    entry.carried
      = std::make_unique<model::approval_record>(std::move(change.after));
  } else {
    write(self, std::move(change),
          [self](model::result<void> done, model::approval_record record) {
            created(self, done, record);
          });
  }
  return status_reply{model::approval_status{}};
}

/// The run that reached `key` as its creation was carried reports its
/// commit.
void carried_written(shard_pointer self, const std::string& key,
                     const model::result<void>& outcome) {
  auto it = self->state.keys.find(key);
  if (it == self->state.keys.end() || !it->second.carried)
    return;
  const auto record = std::move(it->second.carried);
  created(self, outcome, *record);
  written(self, key);
}

/// The status of `key` for a run reaching it; see `create_for` for `carry`.
status_reply reach_now(shard_pointer self, const reach_request& req,
                       persistence::write_batch* carry) {
  const auto& eng = *self->state.eng;
  auto stored = eng.approvals().find_approval(req.key);
  if (stored.is_err())
    return status_reply{stored.error()};
  if (!stored.value())
    return create_for(self, req, carry);
  auto status = stored.value()->status_at(eng.now());
  if (status.is_pending())
    register_waiter(self, req.key, {req.run_id, req.run, req.remote});
  return status_reply{std::move(status)};
}

/// Answers a run reaching `req.key` through `answer`, with the creation's
/// writes in `carry` if it is made now and the run takes them. A key of
/// another node is asked of its owner, which keeps the run as a waiter
/// (through this node's watcher), even once the run passivates here.
template <class Answer>
void reach(shard_pointer self, reach_request req, bool carry, Answer answer) {
  const auto key = req.key;
  const auto& eng = *self->state.eng;
  if (!eng.owns(key)) {
    ask_node<model::approval_status>(
      self, eng, eng.owner_of(key), call_kind::reach,
      boost::json::value_from(
        remote_reach{req.run_id, req.key, std::move(req.spec)}),
      [answer](status_reply r) mutable {
        answer(std::move(r), persistence::write_batch{});
      });
    return;
  }
  when_idle(self, key, [self, req = std::move(req), carry, answer]() mutable {
    persistence::write_batch creation;
    auto status = reach_now(self, req, carry ? &creation : nullptr);
    answer(std::move(status), std::move(creation));
  });
}

/// Wakes the runs of a key the store says are owed a wake.
void repair_owed(shard_pointer self, const std::string& key) {
  auto& entry = self->state.keys[key];
  if (entry.waking > 0)
    return; // a round is on it and settles it
  const auto& eng = *self->state.eng;
  auto stored = eng.approvals().find_approval(key);
  if (stored.is_err()) {
    eng.log("reading owed approval '" + key
            + "' failed: " + stored.error().message);
    return;
  }
  if (!stored.value() || stored.value()->status.is_pending()) {
    settle(self, key);
    return;
  }
  wake_all(self, key, stored.value()->status, {});
}

/// Forwards a call on `key`, which another node owns, to that node: the
/// owner applies it and `rp` gets its answer (UNAVAILABLE, changing
/// nothing, while the owner cannot be reached).
template <class T>
void forward(shard_pointer self, const std::string& key, std::string_view kind,
             const boost::json::value& body,
             caf::typed_response_promise<model::result<T>> rp) {
  const auto& eng = *self->state.eng;
  ask_node<T>(self, eng, eng.owner_of(key), kind, body,
              [rp](model::result<T> r) mutable { rp.deliver(std::move(r)); });
}

shard_impl::behavior_type shard_behavior(shard_pointer self,
                                         std::shared_ptr<engine> eng) {
  self->state.eng = std::move(eng);
  return {
    [self](decide_atom, decision_request& req) -> caf::result<decision_reply> {
      auto rp = self->make_response_promise<decision_reply>();
      if (!self->state.eng->owns(req.decision.key))
        forward(self, req.decision.key, call_kind::decide,
                boost::json::value_from(req), rp);
      else
        decide(self, std::move(req), rp, 0);
      return rp;
    },
    [self](comment_atom, comment_request& req) -> caf::result<comment_reply> {
      auto rp = self->make_response_promise<comment_reply>();
      const auto key = req.key;
      if (!self->state.eng->owns(key)) {
        forward(self, key, call_kind::comment, boost::json::value_from(req),
                rp);
        return rp;
      }
      amend(
        self, key,
        [req = std::move(req)](std::optional<model::approval_record> current,
                               model::time_point now) {
          return model::apply_comment(std::move(current), req.key, req.actor,
                                      req.text, now);
        },
        [](const model::approval_transition& t) {
          return comment_reply{t.audit.back()};
        },
        rp, 0);
      return rp;
    },
    [self](assign_atom,
           model::assignment_change& change) -> caf::result<assignment_reply> {
      auto rp = self->make_response_promise<assignment_reply>();
      const auto key = change.key;
      if (!self->state.eng->owns(key)) {
        forward(self, key, call_kind::assign, boost::json::value_from(change),
                rp);
        return rp;
      }
      amend(
        self, key,
        [change
         = std::move(change)](std::optional<model::approval_record> current,
                              model::time_point now) {
          return model::apply_assignment(std::move(current), change, now);
        },
        [](const model::approval_transition& t) {
          return assignment_reply{model::decision_outcome{t.record, t.applied}};
        },
        rp, 0);
      return rp;
    },
    [self](reach_atom, reach_request& req) -> caf::result<status_reply> {
      auto rp = self->make_response_promise<status_reply>();
      reach(self, std::move(req), false,
            [rp](status_reply r, persistence::write_batch) mutable {
              rp.deliver(std::move(r));
            });
      return rp;
    },
    [self](reach_carrying_atom, reach_request& req)
      -> caf::result<status_reply, persistence::write_batch> {
      auto rp
        = self->make_response_promise<status_reply, persistence::write_batch>();
      reach(self, std::move(req), true,
            [rp](status_reply r, persistence::write_batch creation) mutable {
              rp.deliver(std::move(r), std::move(creation));
            });
      return rp;
    },
    [self](created_atom, const std::string& key, model::result<void>& outcome) {
      carried_written(self, key, outcome);
    },
    [self](forget_atom, const std::string& key, const std::string& run_id) {
      auto& keys = self->state.keys;
      auto it = keys.find(key);
      if (it == keys.end())
        return;
      std::erase_if(it->second.waiters,
                    [&](const waiter& w) { return w.run_id == run_id; });
      release(self, key);
    },
    [self](retry_atom, const std::string& key) {
      when_idle(self, key, [self, key] { wake_all(self, key, {}, {}); });
    },
    [self](owed_atom, const std::string& key) {
      when_idle(self, key, [self, key] { repair_owed(self, key); });
    },
  };
}

} // namespace

registry_shard_actor spawn_registry_shard(caf::actor_system& system,
                                          std::shared_ptr<engine> eng) {
  return system.spawn(shard_behavior, std::move(eng));
}

} // namespace signoff::actors::detail
