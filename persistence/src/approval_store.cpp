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
  const bool resolves = !after.status.is_pending();
  change.owe_wake = resolves;
  if (!options.event)
    return change;
  if (resolves) {
    change.event = model::event_json(
      model::approval_event::of(after, std::move(options.waiting)),
      model::approval_resolved, now);
  } else if (!change.before) {
    change.event = model::event_json(model::approval_event::of(after),
                                     model::approval_needed, now);
  }
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

model::result<model::decision_outcome>
approval_store::decide(const model::decision& d, model::time_point now) {
  for (int attempt = 0; attempt < attempts_on_stale_write; ++attempt) {
    auto stored = find_approval(d.key);
    if (stored.is_err())
      return stored.error();
    auto& current = stored.value();
    auto transition
      = model::apply_decision(current ? &*current : nullptr, d, now);
    if (transition.is_err())
      return transition.error();
    if (!transition->applied)
      return model::decision_outcome{std::move(transition->record), false};
    auto record = transition->record;
    auto written = apply(make_approval_change(
      current ? std::optional{approval_index::of(*current)} : std::nullopt,
      std::move(transition.value()), now));
    if (written.is_ok())
      return model::decision_outcome{std::move(record), true};
    if (!written.error().is(model::error_type::stale_write))
      return written.error();
  }
  return gave_up(d.key);
}

} // namespace signoff::persistence
