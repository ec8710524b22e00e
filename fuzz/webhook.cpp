// Fuzzes approval_webhook_handler::handle_text over an in-memory approval
// store holding a pending approval, one halfway to its quorum, one past its
// deadline and a decided one. A refused body must leave the store exactly
// as it was; an accepted one must change only its own key, by one decision
// of the kind it asked for (or nothing, for a repeat).

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "check.hpp"
#include "signoff/model/approval.hpp"
#include "signoff/model/json_text.hpp"
#include "signoff/model/time.hpp"
#include "signoff/persistence/memory_store.hpp"
#include "signoff/webhook.hpp"

namespace {

namespace json = boost::json;
namespace m = signoff::model;
using signoff::fuzz::require;

const m::time_point now = m::from_millis(1'700'000'000'000);

const std::string plain_key = "approval:order:1";
const std::string quorum_key = "approval:expense:2";
const std::string overdue_key = "approval:deadline:3";
const std::string decided_key = "approval:done:4";

/// A fresh store with the four approvals.
std::shared_ptr<signoff::persistence::approval_store> make_store() {
  auto store = signoff::persistence::make_memory_approval_store();
  auto create = [&](const std::string& key, m::approval_spec spec) {
    require(store->create_approval(key, spec, "run:fuzz", now).is_ok(),
            "the fixture is created");
  };
  create(plain_key, {.pending_reason = "order", .metadata = {{"total", 12}}});
  create(quorum_key, {.pending_reason = "expense", .quorum = 2});
  create(overdue_key, {.expires_at = now - m::duration{1}});
  create(decided_key, {});
  require(
    store->decide(m::decision::grant(quorum_key, "first", "alice"), now).is_ok()
      && store->decide(m::decision::grant(decided_key, "ok", "bob"), now)
           .is_ok(),
    "the fixture is decided");
  return store;
}

/// What the store holds about one key: its record and audit trail.
struct key_state {
  std::optional<m::approval_record> record;
  std::vector<m::audit_entry> trail;
  friend bool operator==(const key_state&, const key_state&) = default;
};

using store_state = std::map<std::string, key_state>;

store_state read_state(const signoff::persistence::approval_store& store,
                       const std::vector<std::string>& keys) {
  store_state out;
  for (const auto& key : keys) {
    auto record = store.find_approval(key);
    auto trail = store.audit_trail(key);
    require(record.is_ok() && trail.is_ok(), "the memory store reads");
    out[key] = {record.value(), trail.value()};
  }
  return out;
}

/// The fixture's keys plus the body's own `key`, if it names one.
std::vector<std::string> keys_of_interest(std::string_view body) {
  std::vector<std::string> keys{plain_key, quorum_key, overdue_key,
                                decided_key};
  boost::system::error_code ec;
  auto doc = m::parse_json(body, ec);
  const auto* obj = ec ? nullptr : doc.if_object();
  const auto* key = obj ? obj->if_contains("key") : nullptr;
  if (key != nullptr && key->is_string())
    keys.emplace_back(key->get_string());
  return keys;
}

/// The state an accepted decision leaves when it resolves the approval.
m::approval_state resolved_state(m::decision_kind kind) {
  switch (kind) {
    case m::decision_kind::grant:
      return m::approval_state::approved;
    case m::decision_kind::edit:
      return m::approval_state::edited;
    case m::decision_kind::reject:
      return m::approval_state::rejected;
    case m::decision_kind::cancel:
      break;
    case m::decision_kind::expire:
      return m::approval_state::expired;
  }
  return m::approval_state::cancelled;
}

void check_accepted(const store_state& before, const store_state& after,
                    const m::decision& d) {
  for (const auto& [key, state] : before)
    if (key != d.key)
      require(after.at(key) == state, "a decision changes only its own key");
  const auto& was = before.at(d.key);
  const auto& is = after.at(d.key);
  require(was.record && is.record, "only an existing approval is decided");
  if (is == was)
    return; // a repeat of the decision that already stands
  require(was.record->status.is_pending(), "only a pending approval changes");
  require(is.trail.size() == was.trail.size() + 1,
          "a decision appends one audit entry");
  if (is.record->status.is_pending())
    require(is.record->grants.size() == was.record->grants.size() + 1,
            "a quorum step adds one grant");
  else
    require(is.record->status.state == resolved_state(d.kind),
            "the approval ends in the state the body asked for");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view body{reinterpret_cast<const char*>(data), // NOLINT
                              size};
  auto store = make_store();
  signoff::approval_webhook_handler handler{store, [] {
                                              return now;
                                            }};
  const auto keys = keys_of_interest(body);
  const auto before = read_state(*store, keys);
  const auto response = handler.handle_text(body);
  const auto after = read_state(*store, keys);
  require(!response.message.empty(), "every answer has a message");
  if (!response.success) {
    require(after == before, "a refused body leaves the store unchanged", body);
    return 0;
  }
  // Accepted: the body parsed and named one of the keys read above.
  boost::system::error_code ec;
  auto d = signoff::parse_webhook_body(m::parse_json(body, ec));
  require(d.is_ok(), "an accepted body is a decision");
  check_accepted(before, after, d.value());
  return 0;
}
