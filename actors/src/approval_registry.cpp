#include "approval_registry.hpp"

#include <algorithm>
#include <optional>

#include <caf/all.hpp>

namespace signoff::actors::detail {

namespace {

/// How long a failing store is left alone before expiring is tried again.
constexpr auto retry_after_failure = std::chrono::seconds{1};

struct registry_state {
  std::shared_ptr<const runtime> rt;
  orchestrator_actor orchestrator;
  /// The deadline the pending timer fires at, if one is pending.
  std::optional<model::time_point> armed;
  /// Identifies the pending timer; older ticks are ignored.
  std::uint64_t timer = 0;

  static inline const char* name = "signoff.approval_registry";
};

using registry_pointer
  = approval_registry_actor::stateful_pointer<registry_state>;

using keys_reply = model::result<std::vector<std::string>>;

/// Makes sure a tick arrives no later than `deadline`.
void arm(registry_pointer self, model::time_point deadline) {
  auto& st = self->state;
  if (st.armed && *st.armed <= deadline)
    return;
  st.armed = deadline;
  auto delay = std::max(deadline - st.rt->now(), model::duration::zero());
  self->delayed_send(self, delay, tick_atom_v, ++st.timer);
}

void arm_for_next_deadline(registry_pointer self) {
  auto next = self->state.rt->approvals().next_expiry();
  if (next.is_err())
    self->state.rt->log("reading the next expiry failed: "
                        + next.error().message);
  else if (next.value())
    arm(self, *next.value());
}

void announce(const runtime& rt, const model::approval_record& record) {
  rt.approval_resolved(rt.resolved_event(record));
}

model::error writer_failed(registry_pointer self, const caf::error& e) {
  return model::make_error(model::error_type::storage_error,
                           self->system().render(e));
}

/// Expires up to one batch of due approvals in one commit, announces them,
/// and hands their keys to `then` (in this actor).
void expire_batch(registry_pointer self, std::function<void(keys_reply)> then) {
  auto rt = self->state.rt;
  struct expired_batch {
    model::result<void> outcome;
    std::vector<model::approval_record> expired;
  };
  auto slot = std::make_shared<expired_batch>();
  auto job = [rt, slot] {
    *slot = expired_batch{};
    const auto now = rt->now();
    auto due = rt->approvals().due_for_expiry(now, rt->config().expiry_batch);
    if (due.is_err()) {
      slot->outcome = due.error();
      return;
    }
    for (auto& key : due.value()) {
      model::decision d{key, model::decision_kind::expire, {}, {}, "system"};
      // A decision committed first wins the race and this one is refused.
      auto outcome = rt->approvals().decide(d, now);
      if (outcome.is_err() || !outcome->applied)
        continue;
      const auto& record = outcome->record;
      if (auto kept = rt->keep(rt->resolved_event(record), "approval.resolved");
          kept.is_err()) {
        slot->outcome = kept.error();
        return;
      }
      slot->expired.push_back(std::move(outcome->record));
    }
  };
  self
    ->request(rt->writer(), caf::infinite, write_atom_v,
              write_job{std::move(job)})
    .then(
      [self, slot, then](model::result<void>& committed) {
        if (committed.is_err())
          slot->outcome = committed.error();
        if (slot->outcome.is_err()) {
          then(slot->outcome.error());
          return;
        }
        std::vector<std::string> keys;
        for (const auto& record : slot->expired) {
          announce(*self->state.rt, record);
          keys.push_back(record.key);
        }
        then(std::move(keys));
      },
      [self, then](caf::error& e) { then(writer_failed(self, e)); });
}

/// Expires batches until none is full, then hands all keys to `then`.
void expire_all(registry_pointer self, std::vector<std::string> so_far,
                std::function<void(keys_reply)> then) {
  expire_batch(self, [self, so_far = std::move(so_far),
                      then](keys_reply expired) mutable {
    if (expired.is_err()) {
      then(std::move(expired));
      return;
    }
    const bool full = expired->size() >= self->state.rt->config().expiry_batch;
    so_far.insert(so_far.end(), expired->begin(), expired->end());
    if (full)
      expire_all(self, std::move(so_far), then);
    else
      then(std::move(so_far));
  });
}

approval_registry_actor::behavior_type
registry_behavior(registry_pointer self, std::shared_ptr<const runtime> rt,
                  orchestrator_actor orchestrator) {
  self->state.rt = std::move(rt);
  self->state.orchestrator = std::move(orchestrator);
  arm_for_next_deadline(self);
  return {
    [self](decide_atom, model::decision& d)
      -> caf::result<model::result<model::decision_outcome>> {
      using outcome_reply = model::result<model::decision_outcome>;
      auto rt = self->state.rt;
      auto rp = self->make_response_promise<outcome_reply>();
      auto slot = std::make_shared<outcome_reply>();
      auto job = [rt, d = std::move(d), slot] {
        *slot = rt->approvals().decide(d, rt->now());
        if (slot->is_err() || !slot->value().applied)
          return;
        const auto& record = slot->value().record;
        if (record.status.is_pending())
          return;
        if (auto kept
            = rt->keep(rt->resolved_event(record), "approval.resolved");
            kept.is_err())
          *slot = kept.error();
      };
      // Not awaited: decisions arriving meanwhile share the next commit.
      self
        ->request(rt->writer(), caf::infinite, write_atom_v,
                  write_job{std::move(job)})
        .then(
          [self, rp, slot](model::result<void>& committed) mutable {
            if (committed.is_err()) {
              rp.deliver(outcome_reply{committed.error()});
              return;
            }
            const auto& outcome = *slot;
            if (outcome.is_ok() && outcome->applied
                && !outcome->record.status.is_pending())
              announce(*self->state.rt, outcome->record);
            rp.deliver(outcome);
          },
          [self, rp](caf::error& e) mutable {
            rp.deliver(outcome_reply{writer_failed(self, e)});
          });
      return rp;
    },
    [self](watch_atom, model::time_point deadline) { arm(self, deadline); },
    [self](expire_atom) -> caf::result<keys_reply> {
      auto rp = self->make_response_promise<keys_reply>();
      expire_all(self, {},
                 [rp](keys_reply expired) mutable { rp.deliver(expired); });
      return rp;
    },
    [self](tick_atom, std::uint64_t timer) {
      auto& st = self->state;
      if (timer != st.timer)
        return;
      st.armed.reset();
      expire_batch(self, [self](keys_reply expired) {
        auto& st = self->state;
        if (expired.is_err()) {
          st.rt->log("expiring approvals failed: " + expired.error().message);
          arm(self, st.rt->now() + retry_after_failure);
          return;
        }
        for (const auto& key : expired.value())
          self->send(st.orchestrator, wake_atom_v, key);
        // A full batch means more may be due: come back right after the
        // messages queued meanwhile, instead of expiring a backlog at once.
        if (expired->size() >= st.rt->config().expiry_batch)
          arm(self, st.rt->now());
        else
          arm_for_next_deadline(self);
      });
    },
  };
}

} // namespace

approval_registry_actor
spawn_approval_registry(caf::actor_system& system,
                        std::shared_ptr<const runtime> rt,
                        orchestrator_actor orchestrator) {
  return system.spawn(registry_behavior, std::move(rt),
                      std::move(orchestrator));
}

} // namespace signoff::actors::detail
