#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <boost/json/value.hpp>

#include "signoff/model/result.hpp"
#include "signoff/model/time.hpp"

namespace signoff::persistence {

/// A notification owed to the outside world.
struct outbox_entry {
  /// Given in increasing order and never twice by one outbox (an LMDB
  /// outbox: in its directory's life, across restarts and after it was
  /// empty; a memory outbox: in its own life). Every delivery of the entry
  /// carries it, so receivers drop repeats by it.
  std::uint64_t id = 0;
  boost::json::value event{};
  std::uint32_t attempts = 0;
  /// Not to be tried before this.
  model::time_point next_attempt{};
};

/// Notifications kept until delivered. The orchestrator appends an event
/// in the same commit as the change it reports, so a crash can delay a
/// notification but never lose one; a deliverer takes due entries and
/// removes each once delivered.
///
/// Thread safety: every call may come from any thread.
class outbox {
public:
  virtual ~outbox() = default;

  /// Queues `event` as due at `now`.
  virtual model::result<void> append(const boost::json::value& event,
                                     model::time_point now)
    = 0;

  /// Entries due at `now`, oldest first, at most `limit`.
  virtual model::result<std::vector<outbox_entry>>
  due(model::time_point now, std::size_t limit) const = 0;

  /// Forgets a delivered entry.
  virtual model::result<void> remove(std::uint64_t id) = 0;

  /// Records a failed attempt and when to try again.
  virtual model::result<void>
  retry_later(std::uint64_t id, std::uint32_t attempts, model::time_point at)
    = 0;

  /// How many entries are kept (not delivered yet, due or waiting for a
  /// retry). For metrics, read on every scrape, so it must not grow with
  /// the backlog. The default answers nothing (unknown), and the metric is
  /// left out.
  [[nodiscard]] virtual model::result<std::optional<std::uint64_t>>
  count() const {
    return std::optional<std::uint64_t>{};
  }
};

/// An outbox in memory (lost at exit).
[[nodiscard]] std::shared_ptr<outbox> make_memory_outbox();

} // namespace signoff::persistence
