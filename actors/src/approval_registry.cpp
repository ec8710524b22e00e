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

/// Expires up to `limit` due approvals and notifies about each; returns
/// the keys it expired.
model::result<std::vector<std::string>> expire_due(registry_pointer self,
                                                   std::size_t limit) {
  const auto& rt = *self->state.rt;
  const auto now = rt.now();
  auto due = rt.approvals().due_for_expiry(now, limit);
  if (due.is_err())
    return due.error();
  std::vector<std::string> expired;
  for (auto& key : due.value()) {
    model::decision d{key, model::decision_kind::expire, {}, {}, "system"};
    auto outcome = rt.approvals().decide(d, now);
    if (outcome.is_err()) {
      // A decision that committed first wins the race; nothing to do.
      rt.log("expiring '" + key + "' skipped: " + outcome.error().message);
      continue;
    }
    if (outcome->applied) {
      rt.approval_resolved(make_event(outcome->record, outcome->record.status));
      expired.push_back(std::move(key));
    }
  }
  return expired;
}

approval_registry_actor::behavior_type
registry_behavior(registry_pointer self, std::shared_ptr<const runtime> rt,
                  orchestrator_actor orchestrator) {
  self->state.rt = std::move(rt);
  self->state.orchestrator = std::move(orchestrator);
  arm_for_next_deadline(self);
  return {
    [self](decide_atom,
           const model::decision& d) -> model::result<model::decision_outcome> {
      const auto& rt = *self->state.rt;
      auto outcome = rt.approvals().decide(d, rt.now());
      if (outcome.is_ok() && outcome->applied
          && !outcome->record.status.is_pending())
        rt.approval_resolved(
          make_event(outcome->record, outcome->record.status));
      return outcome;
    },
    [self](watch_atom, model::time_point deadline) { arm(self, deadline); },
    [self](expire_atom) -> model::result<std::vector<std::string>> {
      std::vector<std::string> all;
      const auto batch = self->state.rt->config().expiry_batch;
      for (;;) {
        auto expired = expire_due(self, batch);
        if (expired.is_err())
          return expired.error();
        all.insert(all.end(), expired->begin(), expired->end());
        if (expired->size() < batch)
          return all;
      }
    },
    [self](tick_atom, std::uint64_t timer) {
      auto& st = self->state;
      if (timer != st.timer)
        return;
      st.armed.reset();
      const auto batch = st.rt->config().expiry_batch;
      auto expired = expire_due(self, batch);
      if (expired.is_ok())
        for (const auto& key : expired.value())
          self->send(st.orchestrator, wake_atom_v, key);
      if (expired.is_err()) {
        st.rt->log("expiring approvals failed: " + expired.error().message);
        arm(self, st.rt->now() + retry_after_failure);
      } else if (expired->size() == batch) {
        // More may be due: come back right after the messages queued
        // meanwhile, instead of expiring a whole backlog at once.
        arm(self, st.rt->now());
      } else {
        arm_for_next_deadline(self);
      }
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
