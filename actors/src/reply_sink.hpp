#pragma once

// How a thread that is no actor asks an actor and blocks for the reply:
// the request's sender is a bare actor whose only behaviour is to hand the
// reply over. Unlike a scoped_actor it has no mailbox, spawns nothing and
// never counts as running, so a call costs one request and one reply.

#include <condition_variable>
#include <mutex>
#include <optional>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>
#include <caf/message_id.hpp>
#include <caf/monitorable_actor.hpp>

namespace signoff::actors::detail {

class reply_sink final : public caf::monitorable_actor {
public:
  explicit reply_sink(caf::actor_config& cfg) : caf::monitorable_actor(cfg) {}

  void enqueue(caf::mailbox_element_ptr what, caf::execution_unit*) override;

  /// Blocks until the reply came.
  caf::message wait();

private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::optional<caf::message> reply_;
};

/// Sends `xs...` to `dest` as a request and blocks for the reply; a failed
/// request (the actor is gone, it answered with an error) comes back as a
/// message holding a `caf::error`.
template <class Handle, class... Ts>
caf::message ask_blocking(caf::actor_system& system, const Handle& dest,
                          Ts&&... xs) {
  caf::actor_config cfg;
  auto sink = caf::make_actor<reply_sink, caf::strong_actor_ptr>(
    system.next_actor_id(), system.node(), &system, cfg);
  auto* receiver = caf::actor_cast<caf::abstract_actor*>(dest);
  receiver->enqueue(sink, caf::make_message_id(1),
                    caf::make_message(std::forward<Ts>(xs)...), nullptr);
  return static_cast<reply_sink*>(caf::actor_cast<caf::abstract_actor*>(sink))
    ->wait();
}

} // namespace signoff::actors::detail
