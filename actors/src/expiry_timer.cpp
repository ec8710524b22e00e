#include "expiry_timer.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <unordered_map>

#include <caf/all.hpp>

#include "engine.hpp"

namespace signoff::actors::detail {

namespace {

/// How long a failing store is left alone before expiring is tried again.
constexpr auto retry_after_failure = std::chrono::seconds{1};
/// How long a due approval whose firing failed is left alone, so that the
/// keys due after it fire meanwhile (one record the store keeps refusing
/// must not hold back every expiry behind it). Longer than the retry after
/// a failed batch, so that the retry reads past the keys that failed.
constexpr auto hold_after_failure = std::chrono::seconds{10};

using keys_reply = model::result<std::vector<std::string>>;

/// The timer's own tick (its number tells stale timers apart) stays out of
/// its handle.
using timer_impl
  = expiry_timer_actor::extend<caf::reacts_to<tick_atom, std::uint64_t>>;

struct timer_state {
  std::shared_ptr<engine> eng;
  /// The deadline the pending timer fires at, if one is pending.
  std::optional<model::time_point> armed;
  std::uint64_t timer = 0;
  /// A tick's batch is being expired; `expire` requests wait for it, so
  /// their reply also covers the runs that batch wakes.
  bool ticking = false;
  std::vector<std::function<void()>> after_tick;
  /// Due approvals whose firing failed, and until when they are left
  /// alone.
  std::unordered_map<std::string, model::time_point> held;

  static inline const char* name = "signoff.expiry_timer";
};

using timer_pointer = timer_impl::stateful_pointer<timer_state>;

/// Makes sure a tick arrives no later than `at`.
void arm(timer_pointer self, model::time_point at) {
  auto& st = self->state;
  if (st.armed && *st.armed <= at)
    return;
  st.armed = at;
  st.eng->armed_for(at);
  auto delay = std::max(at - st.eng->now(), model::duration::zero());
  self->delayed_send(self, delay, tick_atom_v, ++st.timer);
}

/// Arms for the next deadline. One already past while keys are held may be
/// a held key's, tried again when its hold ends, or another's that a
/// failure kept from its tick: the timer looks again within a second.
void arm_for_next_deadline(timer_pointer self) {
  const auto& st = self->state;
  const auto& eng = *st.eng;
  auto next = eng.approvals().next_expiry();
  if (next.is_err()) {
    eng.log("reading the next expiry failed: " + next.error().message);
    arm(self, eng.now() + retry_after_failure);
  } else if (next.value() && *next.value() <= eng.now() && !st.held.empty()) {
    const auto first_end = std::min_element(st.held.begin(), st.held.end(),
                                            [](const auto& a, const auto& b) {
                                              return a.second < b.second;
                                            })
                             ->second;
    arm(self, std::min(first_end, eng.now() + retry_after_failure));
  } else if (next.value()) {
    arm(self, *next.value());
  }
}

/// A batch being fired: each key's shard answers in its own time; the keys
/// are reported in deadline order all the same.
struct batch_progress {
  explicit batch_progress(std::vector<std::string> due)
      : keys(std::move(due)), expired(keys.size(), false), left(keys.size()) {}

  std::vector<std::string> keys;
  std::vector<bool> expired;
  std::size_t left;
  bool still_pending = false;
  std::size_t failed = 0;
  std::string failure;
};

/// Key `i` of the batch could not be fired: it is left alone a while.
void held_after_failure(timer_pointer self, batch_progress& p, std::size_t i,
                        std::string failure) {
  auto& st = self->state;
  ++p.failed;
  p.failure = std::move(failure);
  st.held[p.keys[i]] = st.eng->now() + hold_after_failure;
}

/// Fires one batch of due approvals through their shards (each does what
/// it has due: a reminder, an escalation or its expiry) and hands the keys
/// that expired to `then`, once their runs reached their next suspension.
/// `more` tells whether more may be due: the batch was full, or an
/// approval fired and is still pending (its next level may be due too). A
/// batch of which nothing fired (the store refuses every write: a full
/// disk) is an error, so the timer tries again later instead of reading
/// the same batch at once, again and again. Keys whose firing failed are
/// held (`hold_after_failure`): with `skip_held` (the timer's own ticks),
/// batches read past them meanwhile.
void expire_batch(timer_pointer self, bool skip_held,
                  std::function<void(keys_reply, bool more)> then) {
  auto& st = self->state;
  const auto& eng = *st.eng;
  const auto now = eng.now();
  std::erase_if(st.held, [now](const auto& h) { return h.second <= now; });
  const auto limit = eng.config().expiry_batch;
  const auto skipped = skip_held ? st.held.size() : 0;
  auto due = eng.approvals().due_for_expiry(now, limit + skipped);
  if (due.is_err()) {
    then(due.error(), false);
    return;
  }
  bool full = due->size() >= limit + skipped;
  if (skip_held)
    std::erase_if(
      *due, [&st](const std::string& key) { return st.held.contains(key); });
  if (due->size() > limit) {
    due->resize(limit);
    full = true;
  }
  if (due->empty()) {
    then(std::vector<std::string>{}, full);
    return;
  }
  auto p = std::make_shared<batch_progress>(std::move(*due));
  auto one_done = [p, then, full] {
    if (--p->left > 0)
      return;
    if (p->failed == p->keys.size()) {
      then(
        model::make_error(model::error_type::storage_error,
                          "none of " + std::to_string(p->keys.size())
                            + " due approvals could be fired: " + p->failure),
        false);
      return;
    }
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < p->keys.size(); ++i)
      if (p->expired[i])
        keys.push_back(std::move(p->keys[i]));
    then(std::move(keys), full || p->still_pending);
  };
  for (std::size_t i = 0; i < p->keys.size(); ++i) {
    const auto& key = p->keys[i];
    model::decision d{key, model::decision_kind::expire, {}, {}, "system"};
    self
      ->request(eng.shard_for(key), caf::infinite, decide_atom_v,
                decision_request{std::move(d), true})
      .then(
        [self, p, i, one_done](model::result<decision_report>& report) {
          // A decision committed first wins the race, and this one is
          // refused: not expired by us. A reminder or an escalation leaves
          // the approval pending.
          // Refused because it was decided or removed meanwhile, the key
          // moved on; any other refusal leaves it due.
          if (report.is_err()
              && !report.error().is(model::error_type::approval_conflict)
              && !report.error().is(model::error_type::not_found))
            held_after_failure(self, *p, i, report.error().message);
          if (report.is_ok() && report->applied) {
            if (report->approval.status.is_pending())
              p->still_pending = true;
            else
              p->expired[i] = true;
          }
          one_done();
        },
        [self, p, i, one_done](caf::error& e) {
          held_after_failure(self, *p, i, self->system().render(e));
          one_done();
        });
  }
}

/// Fires batches until nothing more may be due, then hands every key that
/// expired to `then`; held keys are tried too, as the caller asks for all
/// that is due now. Ends: each round fires a key, which moves its approval
/// on for good, or fails as a whole.
void expire_all(timer_pointer self, std::vector<std::string> so_far,
                std::function<void(keys_reply)> then) {
  expire_batch(self, false,
               [self, so_far = std::move(so_far), then](keys_reply expired,
                                                        bool more) mutable {
                 if (expired.is_err() && so_far.empty()) {
                   then(std::move(expired));
                   return;
                 }
                 if (expired.is_err()) {
                   // What expired before the failure did expire: the caller
                   // hears of it.
                   self->state.eng->log("expiring approvals failed: "
                                        + expired.error().message);
                   then(std::move(so_far));
                   return;
                 }
                 so_far.insert(so_far.end(), expired->begin(), expired->end());
                 if (more)
                   expire_all(self, std::move(so_far), then);
                 else
                   then(std::move(so_far));
               });
}

timer_impl::behavior_type timer_behavior(timer_pointer self,
                                         std::shared_ptr<engine> eng) {
  self->state.eng = std::move(eng);
  arm_for_next_deadline(self);
  return {
    [self](watch_atom, deadline d) { arm(self, d.at); },
    [self](expire_atom) -> caf::result<keys_reply> {
      auto rp = self->make_response_promise<keys_reply>();
      auto run = [self, rp]() mutable {
        expire_all(self, {},
                   [rp](keys_reply expired) mutable { rp.deliver(expired); });
      };
      if (self->state.ticking)
        self->state.after_tick.push_back(std::move(run));
      else
        run();
      return rp;
    },
    [self](tick_atom, std::uint64_t timer) {
      auto& st = self->state;
      if (timer != st.timer)
        return;
      st.armed.reset();
      st.eng->armed_for(model::time_point::max());
      st.ticking = true;
      expire_batch(self, true, [self](keys_reply expired, bool more) {
        auto& st = self->state;
        st.ticking = false;
        for (auto& waiting : std::exchange(st.after_tick, {}))
          waiting();
        const auto& eng = *st.eng;
        if (expired.is_err()) {
          eng.log("expiring approvals failed: " + expired.error().message);
          arm(self, eng.now() + retry_after_failure);
        } else if (more) {
          // More may be due: come back after the messages queued meanwhile,
          // instead of firing a whole backlog at once.
          arm(self, eng.now());
        } else {
          arm_for_next_deadline(self);
        }
      });
    },
  };
}

} // namespace

expiry_timer_actor spawn_expiry_timer(caf::actor_system& system,
                                      std::shared_ptr<engine> eng) {
  return system.spawn(timer_behavior, std::move(eng));
}

} // namespace signoff::actors::detail
