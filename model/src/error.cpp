#include "signoff/model/error.hpp"

#include <ostream>

#include "json_fields.hpp"

namespace signoff::model {

error make_error(std::string_view type, std::string message,
                 boost::json::value details) {
  return error{std::string{type}, std::move(message), std::move(details)};
}

std::ostream& operator<<(std::ostream& os, const error& e) {
  os << e.type;
  if (!e.message.empty())
    os << ": " << e.message;
  return os;
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const error& e) {
  boost::json::object obj{{"type", e.type}, {"message", e.message}};
  if (!e.details.is_null())
    obj["details"] = e.details;
  out = std::move(obj);
}

boost::json::result<error> tag_invoke(boost::json::try_value_to_tag<error>,
                                      const boost::json::value& in) {
  const auto* obj = in.if_object();
  error e;
  if (obj == nullptr || !detail::read_field(*obj, "type", e.type)
      || !detail::read_optional_field(*obj, "message", e.message))
    return detail::malformed();
  detail::read_value_field(*obj, "details", e.details);
  return e;
}

} // namespace signoff::model
