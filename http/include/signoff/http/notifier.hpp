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
  std::vector<std::string> urls{};
  /// Signs every delivery: header `X-Signoff-Signature: sha256=<hex>` is
  /// HMAC-SHA256(secret, timestamp + "." + body), with the timestamp in
  /// `X-Signoff-Timestamp` (epoch ms) and the event id in
  /// `X-Signoff-Event-Id` (retries repeat it: deduplicate on it).
  std::string secret{};
  /// How often the outbox is read for due entries.
  model::duration poll_interval = std::chrono::milliseconds{200};
  /// Wait before the first retry; it doubles per failure up to `max_retry`.
  model::duration first_retry = std::chrono::seconds{1};
  model::duration max_retry = std::chrono::minutes{5};
  /// A receiver that takes longer than this has failed the attempt.
  model::duration timeout = std::chrono::seconds{5};
};

/// Delivers the outbox's entries by HTTP POST, retrying with backoff until
/// every receiver answered 2xx; an entry leaves the outbox only then.
class notifier {
public:
  notifier(std::shared_ptr<persistence::outbox> outbox,
           notifier_options options);
  ~notifier();
  notifier(const notifier&) = delete;
  notifier& operator=(const notifier&) = delete;

  /// Starts delivering on a thread of its own.
  void start();

  /// Stops the thread; owed entries stay in the outbox.
  void stop();

  /// One pass over the due entries; returns how many were delivered.
  model::result<std::size_t> deliver_due();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace signoff::http
