#include "signoff/http/action_links.hpp"

#include <boost/json.hpp>

#include "signoff/http/crypto.hpp"

namespace signoff::http {

namespace {

model::error forged() {
  return model::make_error(model::error_type::invalid_argument,
                           "the action link is malformed or forged");
}

} // namespace

std::string sign_action_link(const action_link& link, std::string_view secret) {
  const auto payload = boost::json::serialize(
    boost::json::value{{"k", link.key},
                       {"a", model::to_string(link.action)},
                       {"u", link.approver},
                       {"e", model::to_millis(link.expires_at)}});
  auto encoded = base64url_encode(payload);
  return encoded + "." + hmac_sha256_hex(secret, encoded);
}

model::result<action_link> verify_action_link(std::string_view token,
                                              std::string_view secret,
                                              model::time_point now) {
  auto dot = token.find('.');
  if (dot == std::string_view::npos)
    return forged();
  auto encoded = token.substr(0, dot);
  if (!constant_time_equal(hmac_sha256_hex(secret, encoded),
                           token.substr(dot + 1)))
    return forged();
  boost::system::error_code ec;
  auto payload = boost::json::parse(base64url_decode(encoded), ec);
  const auto* obj = payload.if_object();
  if (ec || obj == nullptr)
    return forged();
  const auto* key = obj->if_contains("k");
  const auto* action = obj->if_contains("a");
  const auto* approver = obj->if_contains("u");
  const auto* expires = obj->if_contains("e");
  if (key == nullptr || !key->is_string() || action == nullptr
      || !action->is_string() || approver == nullptr || !approver->is_string()
      || expires == nullptr || !expires->is_int64())
    return forged();
  auto kind = model::parse_decision_kind(action->get_string());
  if (!kind)
    return forged();
  action_link link{std::string{key->get_string()}, *kind,
                   std::string{approver->get_string()},
                   model::from_millis(expires->get_int64())};
  if (now >= link.expires_at)
    return model::make_error(model::error_type::approval_expired,
                             "the action link has expired");
  return link;
}

} // namespace signoff::http
