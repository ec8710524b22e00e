// The commands that decide an approval: approve, reject, edit, cancel. Each
// is one decision, refused for a key nobody asked for.

#include <utility>

#include "commands.hpp"
#include "values.hpp"

namespace signoff::cli {

namespace {

model::result<std::string> actor_of(const context& ctx, const invocation& inv) {
  if (auto by = inv.flag("by"))
    return parse_actor(*by);
  return ctx.default_actor;
}

/// The `--value` JSON; null when it is not given.
model::result<boost::json::value> value_of(const invocation& inv) {
  if (auto text = inv.flag("value"))
    return parse_json_value(*text);
  return boost::json::value{};
}

model::result<report> decide(const context& ctx, model::decision d) {
  d.require_existing = true;
  auto decided = ctx.target.decide(std::move(d));
  if (decided.is_err())
    return decided.error();
  return report{std::move(decided.value())};
}

/// Grants or edits (`make` is `decision::grant` or `decision::edit`).
model::result<report> decide_value(const context& ctx, const invocation& inv,
                                   model::decision (*make)(std::string,
                                                           boost::json::value,
                                                           std::string)) {
  auto value = value_of(inv);
  if (value.is_err())
    return value.error();
  auto actor = actor_of(ctx, inv);
  if (actor.is_err())
    return actor.error();
  return decide(
    ctx, make(inv.subject, std::move(value.value()), std::move(actor.value())));
}

/// Rejects or cancels (`make` is `decision::reject` or `decision::cancel`).
model::result<report>
decide_reason(const context& ctx, const invocation& inv,
              model::decision (*make)(std::string, std::string, std::string)) {
  auto actor = actor_of(ctx, inv);
  if (actor.is_err())
    return actor.error();
  return decide(ctx, make(inv.subject, inv.flag("reason").value_or(""),
                          std::move(actor.value())));
}

} // namespace

model::result<report> approve(const context& ctx, const invocation& inv) {
  return decide_value(ctx, inv, &model::decision::grant);
}

model::result<report> edit(const context& ctx, const invocation& inv) {
  return decide_value(ctx, inv, &model::decision::edit);
}

model::result<report> reject(const context& ctx, const invocation& inv) {
  return decide_reason(ctx, inv, &model::decision::reject);
}

model::result<report> cancel(const context& ctx, const invocation& inv) {
  return decide_reason(ctx, inv, &model::decision::cancel);
}

} // namespace signoff::cli
