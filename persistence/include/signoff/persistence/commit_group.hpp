#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "signoff/model/result.hpp"

namespace signoff::persistence {

/// Makes many store writes one durable commit (group commit). The actors
/// hand every write to a writer that runs all writes queued at a moment
/// inside one `commit` call: each store write made by `writes` joins that
/// commit, and each is durable once `commit` returns ok.
///
/// Thread safety: `commit` may be called from any thread, one call at a
/// time per thread; the store writes inside it must come from that thread.
class commit_group {
public:
  virtual ~commit_group() = default;

  /// Runs `writes` and commits every store write it made, durably. On an
  /// error nothing `writes` did is kept. `writes` may be run more than once
  /// (after the store grew its map), so it must only call store operations.
  virtual model::result<void> commit(const std::function<void()>& writes) = 0;

  /// Commits made so far (for measuring how well writes are grouped).
  [[nodiscard]] virtual std::uint64_t commit_count() const = 0;
};

/// For stores whose every write is complete when it returns (the in-memory
/// stores): runs the writes and counts the call as one commit.
[[nodiscard]] std::shared_ptr<commit_group> make_immediate_commit_group();

} // namespace signoff::persistence
