#include "reply_sink.hpp"

#include <thread>

#include <caf/mailbox_element.hpp>

namespace signoff::actors::detail {

void reply_sink::enqueue(caf::mailbox_element_ptr what, caf::execution_unit*) {
  {
    std::lock_guard guard{mutex_};
    if (!reply_)
      reply_ = what->move_content_to_message();
  }
  replied_.store(true, std::memory_order_release);
  arrived_.notify_one();
}

caf::message reply_sink::wait(std::chrono::microseconds spin) {
  const auto until = std::chrono::steady_clock::now() + spin;
  while (!replied_.load(std::memory_order_acquire)
         && std::chrono::steady_clock::now() < until)
    std::this_thread::yield();
  std::unique_lock guard{mutex_};
  arrived_.wait(guard, [this] { return reply_.has_value(); });
  return std::move(*reply_);
}

callback_sink::~callback_sink() {
  // Nobody holds the request any more, so no reply can come.
  call(caf::message{});
}

void callback_sink::enqueue(caf::mailbox_element_ptr what,
                            caf::execution_unit*) {
  call(what->move_content_to_message());
}

void callback_sink::call(caf::message reply) noexcept {
  if (called_.exchange(true))
    return;
  auto fn = std::move(fn_);
  try {
    if (fn)
      fn(std::move(reply));
  } catch (...) { // NOLINT(bugprone-empty-catch): see the class comment
  }
}

} // namespace signoff::actors::detail
