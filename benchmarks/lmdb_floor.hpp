#pragma once

// The machine's floor for durable writes: what raw LMDB (no signoff, no
// actors) commits per second with fsync on, on a given filesystem.

#include <cstddef>
#include <filesystem>

namespace signoff::bench {

struct lmdb_floor {
  /// Synced transactions of one put each, per second.
  double single_put_commits_per_s = 0;
  /// Puts per second in synced transactions of `batch` puts each.
  double batched_puts_per_s = 0;
};

/// Measures in a fresh LMDB environment in `dir` (created, then removed):
/// `commits` single-put commits, then `batches` transactions of `batch`
/// puts. Values are 1 KiB, about the size of a parked run's saved state.
[[nodiscard]] lmdb_floor measure_lmdb_floor(const std::filesystem::path& dir,
                                            std::size_t commits,
                                            std::size_t batches,
                                            std::size_t batch);

} // namespace signoff::bench
