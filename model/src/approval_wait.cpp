#include "signoff/model/approval_wait.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_set>

#include "json_fields.hpp"
#include "signoff/model/decision_rules.hpp"

namespace signoff::model {

bool approval_wait::over() const noexcept {
  auto decided = [](const approval_status& s) {
    return !s.is_pending();
  };
  switch (rule) {
    case wait_rule::first:
      return std::any_of(statuses.begin(), statuses.end(), decided);
    case wait_rule::all:
      return std::all_of(statuses.begin(), statuses.end(), decided);
    case wait_rule::all_granted:
      return std::all_of(statuses.begin(), statuses.end(), decided)
             || deciding().has_value();
  }
  return false;
}

std::optional<std::size_t> approval_wait::deciding() const noexcept {
  if (rule == wait_rule::all)
    return std::nullopt;
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    const auto& s = statuses[i];
    if (s.is_pending() || (rule == wait_rule::all_granted && s.is_granted()))
      continue;
    const auto at = s.decided_at.value_or(time_point::max());
    // Strictly earlier only: on a tie the key given first stays.
    if (!found || at < statuses[*found].decided_at.value_or(time_point::max()))
      found = i;
  }
  return found;
}

std::vector<std::string> approval_wait::pending_keys() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < keys.size() && i < statuses.size(); ++i)
    if (statuses[i].is_pending())
      out.push_back(keys[i]);
  return out;
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const decided_approval& d) {
  out = {{"key", d.key}, {"status", boost::json::value_from(d.status)}};
}

boost::json::result<decided_approval>
tag_invoke(boost::json::try_value_to_tag<decided_approval>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  decided_approval d;
  if (obj == nullptr || !detail::read_field(*obj, "key", d.key)
      || !detail::read_field(*obj, "status", d.status))
    return detail::malformed();
  return d;
}

} // namespace signoff::model
