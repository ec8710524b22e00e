#include "signoff/model/audit_entry.hpp"

#include "json_fields.hpp"

namespace signoff::model {

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const audit_entry& e) {
  out = {{"key", e.key},     {"sequence", e.sequence}, {"action", e.action},
         {"actor", e.actor}, {"at", to_millis(e.at)},  {"reason", e.reason},
         {"value", e.value}};
}

boost::json::result<audit_entry>
tag_invoke(boost::json::try_value_to_tag<audit_entry>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  audit_entry e;
  if (obj == nullptr || !detail::read_field(*obj, "key", e.key)
      || !detail::read_field(*obj, "sequence", e.sequence)
      || !detail::read_field(*obj, "action", e.action)
      || !detail::read_optional_field(*obj, "actor", e.actor)
      || !detail::read_time(*obj, "at", e.at)
      || !detail::read_optional_field(*obj, "reason", e.reason))
    return detail::malformed();
  detail::read_value_field(*obj, "value", e.value);
  return e;
}

} // namespace signoff::model
