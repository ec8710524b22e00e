#include "signoff/persistence/approval_store.hpp"

#include "signoff/model/approval_event.hpp"

namespace signoff::persistence {

namespace {

/// Another writer changed the record between our read and our write (the
/// server and the CLI on one directory): read again, a few times.
constexpr int attempts_on_stale_write = 8;

model::error gave_up(const std::string& key) {
  return model::make_error(model::error_type::stale_write,
                           "approval '" + key
                             + "' kept changing while being written");
}

} // namespace

approval_change make_approval_change(std::optional<approval_index> before,
                                     model::approval_transition transition,
                                     model::time_point now,
                                     change_options options) {
  approval_change change{before, std::move(transition.record),
                         std::move(transition.audit)};
  const auto& after = change.after;
  // Only the change that ends the pending state resolves: a later one
  // (a comment) must neither tell receivers again nor wake runs again.
  const bool resolves
    = !after.status.is_pending() && (!change.before || change.before->pending);
  change.owe_wake = resolves;
  if (!options.event)
    return change;
  if (!change.before && !resolves)
    change.events.push_back(model::event_json(model::approval_event::of(after),
                                              model::approval_needed, now));
  // Reminders and escalations come before the resolution they may precede
  // in one change (a decision that catches up with levels due).
  for (const auto& notice : transition.notices)
    change.events.push_back(model::event_json(notice.event, notice.type, now));
  if (resolves)
    change.events.push_back(model::event_json(
      model::approval_event::of(after, std::move(options.waiting)),
      model::approval_resolved, now));
  return change;
}

model::result<created_approval> approval_store::create_approval(
  const std::string& key, const model::approval_spec& spec,
  const std::string& actor, model::time_point now) {
  auto transition = model::create_approval(key, spec, actor, now);
  if (transition.is_err())
    return transition.error();
  for (int attempt = 0; attempt < attempts_on_stale_write; ++attempt) {
    auto existing = find_approval(key);
    if (existing.is_err())
      return existing.error();
    if (existing.value())
      return created_approval{std::move(*existing.value()), false};
    auto record = transition->record;
    auto written
      = apply(make_approval_change(std::nullopt, transition.value(), now));
    if (written.is_ok())
      return created_approval{std::move(record), true};
    if (!written.error().is(model::error_type::stale_write))
      return written.error();
  }
  return gave_up(key);
}

namespace {

/// Computes a transition of `key` from the stored record with `rule` and
/// applies it, computing again from a fresh read when another writer got
/// in between. Returns the transition as applied (or the idempotent one
/// that wrote nothing).
template <class Rule>
model::result<model::approval_transition>
transition_stored(approval_store& store, const std::string& key,
                  model::time_point now, Rule rule) {
  for (int attempt = 0; attempt < attempts_on_stale_write; ++attempt) {
    auto stored = store.find_approval(key);
    if (stored.is_err())
      return stored.error();
    auto& current = stored.value();
    const auto before
      = current ? std::optional{approval_index::of(*current)} : std::nullopt;
    auto transition = rule(std::move(current));
    if (transition.is_err() || !transition->applied)
      return transition;
    auto written = store.apply(make_approval_change(before, *transition, now));
    if (written.is_ok())
      return transition;
    if (!written.error().is(model::error_type::stale_write))
      return written.error();
  }
  return gave_up(key);
}

} // namespace

model::result<model::decision_outcome>
approval_store::decide(const model::decision& d, model::time_point now) {
  auto transition = transition_stored(
    *this, d.key, now, [&](std::optional<model::approval_record> current) {
      return model::apply_decision(std::move(current), d, now);
    });
  if (transition.is_err())
    return transition.error();
  return model::decision_outcome{std::move(transition->record),
                                 transition->applied};
}

model::result<model::audit_entry>
approval_store::comment(const std::string& key, const std::string& actor,
                        const std::string& text, model::time_point now) {
  auto transition = transition_stored(
    *this, key, now, [&](std::optional<model::approval_record> current) {
      return model::apply_comment(std::move(current), key, actor, text, now);
    });
  if (transition.is_err())
    return transition.error();
  return std::move(transition->audit.back());
}

model::result<model::decision_outcome>
approval_store::change_assignment(const model::assignment_change& change,
                                  model::time_point now) {
  auto transition = transition_stored(
    *this, change.key, now, [&](std::optional<model::approval_record> current) {
      return model::apply_assignment(std::move(current), change, now);
    });
  if (transition.is_err())
    return transition.error();
  return model::decision_outcome{std::move(transition->record),
                                 transition->applied};
}

} // namespace signoff::persistence
