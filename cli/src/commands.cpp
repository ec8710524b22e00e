#include "commands.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "values.hpp"

namespace signoff::cli {

namespace {

constexpr subject_syntax approval_key{"KEY", "the approval's key"};

constexpr flag_syntax by_flag{"by", "WHO",
                              "who decides (default: $USER; a server records\n"
                              "its token's identity instead)",
                              false, &check<parse_actor>};

// Each command's syntax and handler, in the order the help lists them.
const std::vector<command>& command_table() {
  static const std::vector<command> table{
    {{.name = "pending",
      .summary = "list pending approvals",
      .flags = {{"prefix", "P", "only keys that start with P"}}},
     list_pending},
    {{.name = "show",
      .summary = "show an approval and its audit trail",
      .subject = approval_key},
     show_approval},
    {{.name = "approve",
      .summary = "grant an approval",
      .subject = approval_key,
      .flags = {{"value", "JSON", "the granted value (default: null)", false,
                 &check<parse_json_value>},
                by_flag}},
     approve},
    {{.name = "reject",
      .summary = "reject an approval",
      .subject = approval_key,
      .flags = {{"reason", "R", "why, for the audit trail", true}, by_flag}},
     reject},
    {{.name = "edit",
      .summary = "grant an approval with a changed value",
      .subject = approval_key,
      .flags
      = {{"value", "JSON", "the changed value", true, &check<parse_json_value>},
         by_flag}},
     edit},
    {{.name = "cancel",
      .summary = "cancel an approval",
      .subject = approval_key,
      .flags = {{"reason", "R", "why, for the audit trail"}, by_flag}},
     cancel},
    {{.name = "comment",
      .summary = "comment on an approval, decided or not, without deciding it",
      .subject = approval_key,
      .flags = {{"text", "T", "the comment", true}, by_flag}},
     comment},
    {{.name = "reassign",
      .summary = "change who may decide a pending approval",
      .subject = approval_key,
      .flags = {{"assignees", "WHO,...",
                 "the identities who may decide (a list left\n"
                 "out is emptied; \"\" for none)",
                 false, &check<parse_names>},
                {"groups", "GROUP,...", "the groups whose members may decide",
                 false, &check<parse_names>},
                {"reason", "R", "why, for the audit trail"},
                by_flag}},
     reassign},
    {{.name = "delegate",
      .summary = "hand your place as an assignee to someone else",
      .subject = approval_key,
      .flags
      = {{"to", "WHO", "who takes your place", true, &check<parse_actor>},
         {"reason", "R", "why, for the audit trail"},
         by_flag}},
     delegate},
    {{.name = "bulk",
      .summary = "decide each approval pending under --prefix or listed in "
                 "--keys-from",
      .subject = {"ACTION", "approve, reject, edit or cancel; one decision\n"
                            "per key, at most 1000 keys"},
      .flags
      = {{"prefix", "P", "every approval pending under P"},
         {"keys-from", "FILE",
          "the keys in FILE, one per line (- reads\n"
          "standard input)"},
         {"value", "JSON", "what approve grants (default: null) or edit sets",
          false, &check<parse_json_value>},
         {"reason", "R", "why (reject needs one)"},
         by_flag}},
     bulk},
    {{.name = "runs",
      .summary = "list runs",
      .flags = {{"workflow", "NAME", "only runs of workflow NAME"},
                {"status", "S",
                 "only runs in status S: running, paused,\n"
                 "completed, failed or cancelled",
                 false, &check<parse_status>}}},
     list_runs},
    {{.name = "status",
      .summary = "show a run",
      .subject = {"RUN", "the run's id"}},
     show_run},
    {{.name = "cleanup",
      .summary = "remove finished runs older than DURATION and their decided "
                 "approvals",
      .flags = {{"older-than", "DURATION",
                 "how long since the run last changed (30d, 12h)", true,
                 &check<parse_age>}}},
     cleanup},
  };
  return table;
}

} // namespace

std::span<const command> all_commands() {
  return command_table();
}

const command* find_command(std::string_view name) {
  const auto& table = command_table();
  auto it = std::find_if(table.begin(), table.end(),
                         [&](const auto& c) { return c.syntax.name == name; });
  return it == table.end() ? nullptr : &*it;
}

model::result<std::unique_ptr<backend>> open_backend(const invocation& inv,
                                                     model::time_point now) {
  if (!inv.db.empty())
    return open_lmdb_backend(inv.db, now);
  auto url = parse_server_url(inv.server);
  if (url.is_err())
    return url.error();
  http_limits limits;
  if (!inv.timeout.empty()) {
    auto timeout = parse_timeout(inv.timeout);
    if (timeout.is_err())
      return timeout.error();
    limits = {timeout.value(), timeout.value()};
  }
  return make_server_backend(std::move(url.value()), inv.token, limits);
}

} // namespace signoff::cli
