#pragma once

// The expiry timer reads the durable deadline index: it keeps one timer,
// for the earliest time an approval is due (a reminder, an escalation, an
// expiry), and on firing sends the due approvals' expiry to the shards that
// own them, a batch at a time, so reminders go out, approvals escalate and
// runs wait on their timeout branch with nobody calling anything.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "protocol.hpp"

namespace signoff::actors::detail {

class engine;

using expiry_timer_actor = caf::typed_actor<
  // An approval with this deadline now exists: fire no later than it.
  caf::reacts_to<watch_atom, deadline>,
  // Fires everything due now (reminders, escalations, expiries); replies
  // with the keys that expired once their waiting runs reached their next
  // suspension.
  caf::replies_to<expire_atom>::with<model::result<std::vector<std::string>>>>;

[[nodiscard]] expiry_timer_actor
spawn_expiry_timer(caf::actor_system& system, std::shared_ptr<engine> eng);

} // namespace signoff::actors::detail
