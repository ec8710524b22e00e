#include "signoff/model/audit_entry.hpp"

#include "field_sinks.hpp"
#include "json_fields.hpp"

namespace signoff::model {

namespace {

template <class Sink>
void write_fields(const audit_entry& e, Sink& f) {
  f.string("key", e.key);
  f.number("sequence", e.sequence);
  f.string("action", e.action);
  f.string("actor", e.actor);
  f.number("at", to_millis(e.at));
  f.string("reason", e.reason);
  f.json("value", e.value);
}

} // namespace

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const audit_entry& e) {
  detail::value_sink sink;
  write_fields(e, sink);
  out = std::move(sink).take();
}

void append_json(std::string& out, const audit_entry& e) {
  detail::text_sink::write_object(out, [&e](auto& f) { write_fields(e, f); });
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
