// Fuzzes the JSON decoding of every persisted and wire model type. The
// first byte picks the type; the rest is parsed as JSON and decoded. What
// decodes must survive the trip through its encoding as it is stored
// (value_from, serialize, parse, try_value_to) unchanged, and the decision
// rules must keep their invariants on any record that decodes.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include <boost/json.hpp>

#include "check.hpp"
#include "signoff/model/approval.hpp"
#include "signoff/model/audit_entry.hpp"
#include "signoff/model/decision_rules.hpp"
#include "signoff/model/error.hpp"
#include "signoff/model/json_text.hpp"
#include "signoff/model/result.hpp"
#include "signoff/model/workflow_state.hpp"
#include "signoff/webhook.hpp"

namespace {

namespace json = boost::json;
namespace m = signoff::model;
using signoff::fuzz::require;

/// As the stores parse records (keys may hold any bytes), with every number
/// read exactly.
json::parse_options record_parsing() {
  json::parse_options options;
  options.allow_invalid_utf8 = true;
  return options;
}

/// Serializes `v` and parses it back, as a store writes and reads it.
json::value through_text(const json::value& v) {
  const auto text = json::serialize(v);
  boost::system::error_code ec;
  auto parsed = m::parse_json(text, ec, record_parsing());
  require(!ec, "an encoded value parses", text);
  return parsed;
}

/// decode(encode(x)) == x for everything that decodes.
template <class T>
void check_round_trip(const json::value& doc) {
  auto decoded = json::try_value_to<T>(doc);
  if (!decoded)
    return;
  const auto encoded = json::value_from(*decoded);
  auto again = json::try_value_to<T>(through_text(encoded));
  require(again.has_value(), "the encoding of a decoded value decodes",
          json::serialize(encoded));
  require(*again == *decoded, "decoding the encoding gives the same value",
          json::serialize(doc) + "\nre-encoded: " + json::serialize(encoded));
}

/// What a decision may do to a record: a decided record only repeats; a
/// pending one gains one grant or gets decided, keeping its key and spec.
void check_transition(const m::approval_record& before, const m::decision& d,
                      m::time_point now) {
  auto t = m::apply_decision(&before, d, now);
  if (t.is_err())
    return;
  const auto& after = t->record;
  require(after.key == before.key && after.spec == before.spec
            && after.created_at == before.created_at,
          "a decision keeps the key, spec and creation time");
  if (!t->applied) {
    require(after == before, "an idempotent repeat changes nothing");
    return;
  }
  require(before.status.is_pending(), "only a pending approval changes");
  require(!t->audit.empty() && t->audit.back().sequence == after.revision
            && after.revision == before.revision + t->audit.size(),
          "an applied decision appends audit entries numbered to its "
          "revision");
  if (after.status.is_pending())
    require(after.grants.size() == before.grants.size() + 1,
            "a quorum step adds exactly one grant");
}

/// `t` moved by `ms`, or `t` itself where that leaves the representable range.
m::time_point shifted(m::time_point t, std::int64_t ms) {
  std::int64_t out = 0;
  return __builtin_add_overflow(m::to_millis(t), ms, &out)
           ? t
           : m::from_millis(out);
}

void check_decision_rules(const json::value& doc) {
  auto record = json::try_value_to<m::approval_record>(doc);
  if (!record)
    return;
  const auto& r = *record;
  // Before, at and after the deadline (or creation when there is none).
  const auto base = r.spec.expires_at.value_or(r.created_at);
  const std::array<m::time_point, 3> instants{shifted(base, -1), base,
                                              shifted(base, 1)};
  for (auto now : instants) {
    (void)r.status_at(now);
    check_transition(r, m::decision::grant(r.key, 1, "fuzz-a"), now);
    check_transition(r, m::decision::edit(r.key, 2, "fuzz-b"), now);
    check_transition(r, m::decision::reject(r.key, "no", "fuzz-a"), now);
    check_transition(r, m::decision::cancel(r.key, {}, "fuzz-c"), now);
    check_transition(r, {r.key, m::decision_kind::expire, {}, {}, "system"},
                     now);
  }
}

/// The webhook body a decision is made from: the inverse of
/// `parse_webhook_body` for the kinds it accepts.
json::value webhook_body(const m::decision& d) {
  constexpr std::array<const char*, 4> actions{"approve", "edit", "reject",
                                               "cancel"};
  return {{"key", d.key},
          {"action", actions.at(static_cast<std::size_t>(d.kind))},
          {"value", d.value},
          {"reason", d.reason},
          {"actorId", d.actor}};
}

void check_webhook_body(const json::value& doc) {
  auto d = signoff::parse_webhook_body(doc);
  if (d.is_err()) {
    require(d.error().is(m::error_type::invalid_argument),
            "a refused body is INVALID_ARGUMENT");
    return;
  }
  require(!d->key.empty(), "a decision names a key");
  require(d->kind != m::decision_kind::expire, "a body cannot expire");
  require(d->kind != m::decision_kind::reject || !d->reason.empty(),
          "a rejection has a reason");
  require(d->require_existing, "webhook decisions need an existing approval");
  auto again = signoff::parse_webhook_body(webhook_body(*d));
  require(again.is_ok() && again->key == d->key && again->kind == d->kind
            && again->value == d->value && again->reason == d->reason
            && again->actor == d->actor,
          "a decision's body decides the same");
}

using checker = void (*)(const json::value&);

constexpr std::array<checker, 12> checkers{
  check_round_trip<m::approval_record>,
  check_round_trip<m::approval_status>,
  check_round_trip<m::approval_grant>,
  check_round_trip<m::approval_state>,
  check_round_trip<m::audit_entry>,
  check_round_trip<m::saved_workflow_state>,
  check_round_trip<m::execution_result>,
  check_round_trip<m::run_status>,
  check_round_trip<m::error>,
  check_round_trip<m::result<json::value>>,
  check_decision_rules,
  check_webhook_body,
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  signoff::fuzz::input_reader in{data, size};
  const auto& check = checkers.at(in.byte() % checkers.size());
  boost::system::error_code ec;
  auto doc = m::parse_json(in.rest(), ec, record_parsing());
  if (!ec)
    check(doc);
  return 0;
}
