#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "signoff/model/result.hpp"
#include "signoff/persistence/changes.hpp"

namespace signoff::persistence {

/// One operation of a `write_batch`, in the encoding of the journal that
/// made it (its tables, keys and values are that journal's business).
struct write_op {
  std::uint8_t kind = 0;
  std::uint8_t table = 0;
  std::string key{};
  std::string value{};
};

/// Writes prepared by one owner, committed atomically as a whole.
struct write_batch {
  std::vector<write_op> ops{};

  [[nodiscard]] bool empty() const noexcept {
    return ops.empty();
  }
};

/// The durable write path of a store whose commits are expensive (an fsync
/// each): owners encode their changes on their own threads, and one writer
/// commits whatever is queued in a single durable transaction (group
/// commit), so it does nothing but commit.
///
/// Thread safety: `encode` may be called from any thread at any time;
/// `commit` from one thread at a time.
class journal {
public:
  virtual ~journal() = default;

  /// Appends the writes of `change` to `out`. Never fails: what cannot be
  /// written is refused by `commit`.
  virtual void encode(const approval_change& change,
                      write_batch& out) const = 0;
  virtual void encode(const run_change& change, write_batch& out) const = 0;

  /// Appends the writes that forget the owed wakes of `keys` (their
  /// waiting runs were all woken).
  virtual void encode_wakes_settled(const std::vector<std::string>& keys,
                                    write_batch& out) const = 0;

  /// Commits `batches` durably in one transaction, each batch atomically
  /// on its own: one result per batch, in order. A batch fails alone with
  /// STALE_WRITE (an approval changed since its owner read it) or
  /// INVALID_ARGUMENT (a record the store cannot hold); if the commit
  /// itself fails, every batch fails with STORAGE_ERROR.
  virtual std::vector<model::result<void>>
  commit(std::span<const write_batch> batches) = 0;

  /// Durable commits made so far (for measuring how well writes group).
  [[nodiscard]] virtual std::uint64_t commit_count() const noexcept = 0;
};

} // namespace signoff::persistence
