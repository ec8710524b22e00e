#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "signoff/model/result.hpp"
#include "signoff/persistence/outbox.hpp"

namespace signoff::http {

/// Where and how owed notifications are delivered.
struct notifier_options {
  /// `http://host:port/path` receivers; each event goes to all of them.
  /// An event leaves the outbox once every receiver answered 2xx, so with
  /// none it leaves at once: events other processes keep (the CLI's
  /// decisions) do not pile up in a directory nobody is notified of.
  std::vector<std::string> urls{};
  /// Signs every delivery: header `X-Signoff-Signature: sha256=<hex>` is
  /// HMAC-SHA256(secret, timestamp + "." + body), with the timestamp in
  /// `X-Signoff-Timestamp` (epoch ms). The event's id is in
  /// `X-Signoff-Event-Id` and the body's `id`: no two events of one
  /// outbox share it, and every delivery of an event repeats it (a retry,
  /// or a delivery again after a restart), so it is the receiver's
  /// idempotency key.
  std::string secret{};
  /// How often the outbox is read for due entries.
  model::duration poll_interval = std::chrono::milliseconds{200};
  /// Wait before the first retry; it doubles per failure up to `max_retry`.
  model::duration first_retry = std::chrono::seconds{1};
  model::duration max_retry = std::chrono::minutes{5};
  /// An attempt that has not connected (name lookup included) after this
  /// long has failed.
  model::duration connect_timeout = std::chrono::seconds{3};
  /// An attempt whose receiver has not answered this long after the
  /// connection was made has failed.
  model::duration response_timeout = std::chrono::seconds{5};
};

/// Delivers the outbox's entries by HTTP POST, retrying with backoff until
/// every receiver answered 2xx; an entry leaves the outbox only then.
/// Each receiver gets the entries one at a time, oldest first, on its own:
/// a receiver that is down or never answers delays no other.
class notifier {
public:
  notifier(std::shared_ptr<persistence::outbox> outbox,
           notifier_options options);
  ~notifier();
  notifier(const notifier&) = delete;
  notifier& operator=(const notifier&) = delete;

  /// Starts delivering on a thread of its own.
  void start();

  /// Stops the thread without waiting for any receiver: attempts in flight
  /// are abandoned and their entries stay owed. It returns once the thread
  /// finished the step it was taking, at most one write to the outbox.
  void stop();

  /// One pass over the due entries on the calling thread, while not
  /// started: every receiver gets those it has not had. Returns how many
  /// entries every receiver has had now (and left the outbox).
  model::result<std::size_t> deliver_due();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace signoff::http
