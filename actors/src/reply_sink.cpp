#include "reply_sink.hpp"

#include <caf/mailbox_element.hpp>

namespace signoff::actors::detail {

void reply_sink::enqueue(caf::mailbox_element_ptr what, caf::execution_unit*) {
  {
    std::lock_guard guard{mutex_};
    if (!reply_)
      reply_ = what->move_content_to_message();
  }
  arrived_.notify_one();
}

caf::message reply_sink::wait() {
  std::unique_lock guard{mutex_};
  arrived_.wait(guard, [this] { return reply_.has_value(); });
  return std::move(*reply_);
}

} // namespace signoff::actors::detail
