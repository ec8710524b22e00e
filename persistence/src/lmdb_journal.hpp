#pragma once

#include <memory>

#include "lmdb_env.hpp"
#include "signoff/persistence/journal.hpp"

namespace signoff::persistence::detail {

/// The journal of one LMDB environment: changes encoded into puts and
/// deletes of format 4 records, committed in one write transaction with a
/// nested transaction per batch, so a batch that fails (a stale revision,
/// a key LMDB cannot hold) rolls back alone.
class lmdb_journal final : public journal {
public:
  explicit lmdb_journal(std::shared_ptr<lmdb_env> env);

  void encode(const approval_change& change, write_batch& out) const override;
  void encode(const run_change& change, write_batch& out) const override;
  void encode_wakes_settled(const std::vector<std::string>& keys,
                            write_batch& out) const override;

  std::vector<model::result<void>>
  commit(std::span<const write_batch> batches) override;

  [[nodiscard]] std::uint64_t commit_count() const noexcept override;

  /// Commits one batch in a transaction of its own: the stores' `apply`.
  model::result<void> commit_one(const write_batch& batch);

private:
  std::shared_ptr<lmdb_env> env_;
};

} // namespace signoff::persistence::detail
