#include "commands.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "values.hpp"

namespace signoff::cli {

namespace {

constexpr flag_syntax by_flag{"by", "WHO", false, &check<parse_actor>};
constexpr flag_syntax value_flag{"value", "JSON", false,
                                 &check<parse_json_value>};

const std::vector<command>& command_table() {
  static const std::vector<command> table{
    {{"pending", {}, {{"prefix", "P"}}, "list pending approvals"},
     list_pending},
    {{"show", "KEY", {}, "show an approval and its audit trail"},
     show_approval},
    {{"approve", "KEY", {value_flag, by_flag}, "grant an approval"}, approve},
    {{"reject", "KEY", {{"reason", "R", true}, by_flag}, "reject an approval"},
     reject},
    {{"edit",
      "KEY",
      {{"value", "JSON", true, &check<parse_json_value>}, by_flag},
      "grant an approval with a changed value"},
     edit},
    {{"cancel", "KEY", {{"reason", "R"}, by_flag}, "cancel an approval"},
     cancel},
    {{"comment",
      "KEY",
      {{"text", "T", true}, by_flag},
      "comment on an approval, decided or not, without deciding it"},
     comment},
    {{"bulk",
      "ACTION",
      {{"prefix", "P"},
       {"keys-from", "FILE"},
       value_flag,
       {"reason", "R"},
       by_flag},
      "approve, reject, edit or cancel every approval pending under "
      "--prefix, or each key of --keys-from (one per line; - reads standard "
      "input): one decision per key, at most 1000"},
     bulk},
    {{"runs",
      {},
      {{"workflow", "NAME"}, {"status", "S", false, &check<parse_status>}},
      "list runs"},
     list_runs},
    {{"status", "RUN", {}, "show a run"}, show_run},
    {{"cleanup",
      {},
      {{"older-than", "DURATION", true, &check<parse_age>}},
      "remove finished runs older than DURATION and their decided approvals"},
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
