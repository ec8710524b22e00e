// The commands that decide approvals: approve, reject, edit, cancel (one
// decision each, refused for a key nobody asked for) and bulk (one such
// decision per key of a list or a prefix); comment, which discusses one
// without deciding it; reassign and delegate, which change who may decide.

#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli_error.hpp"
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

/// The decision of kind `kind` on `key` the flags describe: `--value`
/// (null when not given), `--reason`, `--by` (else the default actor). It
/// must find its approval: a typo must not create one.
model::result<model::decision> decision_from(const context& ctx,
                                             const invocation& inv,
                                             model::decision_kind kind,
                                             std::string key) {
  auto value = value_of(inv);
  if (value.is_err())
    return value.error();
  auto actor = actor_of(ctx, inv);
  if (actor.is_err())
    return actor.error();
  model::decision d;
  d.key = std::move(key);
  d.kind = kind;
  d.value = std::move(value.value());
  d.reason = inv.flag("reason").value_or("");
  d.actor = std::move(actor.value());
  d.require_existing = true;
  return d;
}

/// One decision of kind `kind` on the command's KEY.
model::result<report> decide(const context& ctx, const invocation& inv,
                             model::decision_kind kind) {
  auto d = decision_from(ctx, inv, kind, inv.subject);
  if (d.is_err())
    return d.error();
  auto decided = ctx.target.decide(std::move(d.value()));
  if (decided.is_err())
    return decided.error();
  return report{std::move(decided.value())};
}

/// The decision kind a `bulk` ACTION names.
std::optional<model::decision_kind> bulk_action(std::string_view name) {
  if (name == "approve")
    return model::decision_kind::grant;
  if (name == "edit")
    return model::decision_kind::edit;
  if (name == "reject")
    return model::decision_kind::reject;
  if (name == "cancel")
    return model::decision_kind::cancel;
  return std::nullopt;
}

/// The keys of `--keys-from`: one per line of the file ("-" for standard
/// input); blank lines are skipped.
model::result<std::vector<std::string>> keys_from(const std::string& path) {
  std::ifstream file;
  if (path != "-") {
    file.open(path);
    if (!file)
      return make_usage_error("cannot read keys from '" + path + "'");
  }
  std::istream& in = path == "-" ? std::cin : file;
  std::vector<std::string> keys;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (!line.empty())
      keys.push_back(std::move(line));
  }
  if (in.bad())
    return make_usage_error("cannot read keys from '" + path + "'");
  return keys;
}

} // namespace

model::result<report> bulk(const context& ctx, const invocation& inv) {
  const auto kind = bulk_action(inv.subject);
  if (!kind)
    return make_usage_error("unknown action '" + inv.subject
                            + "'; expected approve, reject, edit or cancel");
  const auto prefix = inv.flag("prefix");
  const auto list = inv.flag("keys-from");
  if (prefix.has_value() == list.has_value())
    return make_usage_error("bulk needs either --prefix P or --keys-from FILE");
  if (*kind == model::decision_kind::reject
      && inv.flag("reason").value_or("").empty())
    return make_usage_error("bulk reject needs --reason R");
  if (*kind == model::decision_kind::edit && !inv.flag("value"))
    return make_usage_error("bulk edit needs --value JSON");
  auto d = decision_from(ctx, inv, *kind, {});
  if (d.is_err())
    return d.error();
  bulk_target which;
  which.prefix = prefix;
  if (list) {
    auto keys = keys_from(*list);
    if (keys.is_err())
      return keys.error();
    which.keys = std::move(keys.value());
  }
  auto decided = ctx.target.decide_bulk(which, std::move(d.value()));
  if (decided.is_err())
    return decided.error();
  return report{std::move(decided.value())};
}

model::result<report> comment(const context& ctx, const invocation& inv) {
  auto actor = actor_of(ctx, inv);
  if (actor.is_err())
    return actor.error();
  auto said = ctx.target.comment(inv.subject, inv.flag("text").value_or(""),
                                 actor.value());
  if (said.is_err())
    return said.error();
  return report{std::move(said.value())};
}

model::result<report> approve(const context& ctx, const invocation& inv) {
  return decide(ctx, inv, model::decision_kind::grant);
}

model::result<report> edit(const context& ctx, const invocation& inv) {
  return decide(ctx, inv, model::decision_kind::edit);
}

model::result<report> reject(const context& ctx, const invocation& inv) {
  return decide(ctx, inv, model::decision_kind::reject);
}

model::result<report> cancel(const context& ctx, const invocation& inv) {
  return decide(ctx, inv, model::decision_kind::cancel);
}

model::result<report> reassign(const context& ctx, const invocation& inv) {
  const auto assignees = inv.flag("assignees");
  const auto groups = inv.flag("groups");
  // A list left out is emptied: asking for neither would open the approval
  // to anyone by accident.
  if (!assignees && !groups)
    return make_usage_error("reassign needs --assignees or --groups (\"\" "
                            "for none)");
  auto actor = actor_of(ctx, inv);
  if (actor.is_err())
    return actor.error();
  auto people = parse_names(assignees.value_or(""));
  if (people.is_err())
    return people.error();
  auto teams = parse_names(groups.value_or(""));
  if (teams.is_err())
    return teams.error();
  auto change = model::assignment_change::reassign(
    inv.subject, std::move(people.value()), std::move(teams.value()),
    std::move(actor.value()));
  change.reason = inv.flag("reason").value_or("");
  auto changed = ctx.target.change_assignment(std::move(change));
  if (changed.is_err())
    return changed.error();
  return report{std::move(changed.value())};
}

model::result<report> delegate(const context& ctx, const invocation& inv) {
  auto actor = actor_of(ctx, inv);
  if (actor.is_err())
    return actor.error();
  auto to = parse_actor(inv.flag("to").value_or(""));
  if (to.is_err())
    return make_usage_error("--to must name who takes your place");
  auto change = model::assignment_change::delegate(
    inv.subject, std::move(to.value()), std::move(actor.value()));
  change.reason = inv.flag("reason").value_or("");
  auto changed = ctx.target.change_assignment(std::move(change));
  if (changed.is_err())
    return changed.error();
  return report{std::move(changed.value())};
}

} // namespace signoff::cli
