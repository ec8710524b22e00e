#pragma once

// How a thread that is no actor asks an actor: the request's sender is a
// bare actor whose only behaviour is to take the reply. Unlike a
// scoped_actor it has no mailbox, spawns nothing and never counts as
// running, so a call costs one request and one reply. `reply_sink` hands
// the reply to a thread blocked for it; `callback_sink` hands it to a
// callback, which blocks nobody.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>
#include <caf/message_id.hpp>
#include <caf/monitorable_actor.hpp>

#include "scheduler.hpp"

namespace signoff::actors::detail {

class reply_sink final : public caf::monitorable_actor {
public:
  explicit reply_sink(caf::actor_config& cfg) : caf::monitorable_actor(cfg) {}

  void enqueue(caf::mailbox_element_ptr what, caf::execution_unit*) override;

  /// Blocks until the reply came, polling for it for `spin` first: a
  /// reply due within microseconds is taken without the kernel waking this
  /// thread (tens of microseconds on a VM).
  caf::message wait(std::chrono::microseconds spin);

private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::optional<caf::message> reply_;
  std::atomic<bool> replied_{false};
};

/// The sender of a request whose reply goes to a callback, called exactly
/// once: with the reply, on the thread that delivers it (the replying
/// actor's, or the caller's when the receiver is gone and CAF bounces the
/// request at once); or, if the request is dropped unanswered (its
/// response promise destroyed), with an empty message, on the thread that
/// dropped it. An exception the callback throws is dropped: it must not
/// reach the actor that replied.
class callback_sink final : public caf::monitorable_actor {
public:
  using callback = std::function<void(caf::message)>;

  callback_sink(caf::actor_config& cfg, callback fn)
      : caf::monitorable_actor(cfg), fn_(std::move(fn)) {}
  ~callback_sink() override;
  callback_sink(const callback_sink&) = delete;
  callback_sink& operator=(const callback_sink&) = delete;

  void enqueue(caf::mailbox_element_ptr what, caf::execution_unit*) override;

private:
  void call(caf::message reply) noexcept;

  std::atomic<bool> called_{false};
  callback fn_;
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
    ->wait(idle_spin_of(system));
}

/// Sends `xs...` to `dest` as a request and returns at once; the reply goes
/// to `then` as `callback_sink` describes (a failed request as a message
/// holding a `caf::error`, a dropped one as an empty message).
template <class Handle, class... Ts>
void ask_async(caf::actor_system& system, const Handle& dest,
               callback_sink::callback then, Ts&&... xs) {
  caf::actor_config cfg;
  auto sink = caf::make_actor<callback_sink, caf::strong_actor_ptr>(
    system.next_actor_id(), system.node(), &system, cfg, std::move(then));
  auto* receiver = caf::actor_cast<caf::abstract_actor*>(dest);
  receiver->enqueue(std::move(sink), caf::make_message_id(1),
                    caf::make_message(std::forward<Ts>(xs)...), nullptr);
}

} // namespace signoff::actors::detail
