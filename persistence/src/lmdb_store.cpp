#include "signoff/persistence/lmdb_store.hpp"

#include "lmdb_stores.hpp"

namespace signoff::persistence {

namespace {

/// Group commit over the environment: every store write of `writes` joins
/// one transaction, committed (and synced) once.
class lmdb_commit_group final : public commit_group {
public:
  explicit lmdb_commit_group(std::shared_ptr<detail::lmdb_env> env)
      : env_(std::move(env)) {}

  model::result<void> commit(const std::function<void()>& writes) override {
    return env_->batch(writes);
  }

  [[nodiscard]] std::uint64_t commit_count() const override {
    return env_->commits();
  }

private:
  std::shared_ptr<detail::lmdb_env> env_;
};

} // namespace

model::result<lmdb_stores> open_lmdb_stores(const lmdb_options& options) {
  auto env = detail::lmdb_env::open(options);
  if (env.is_err())
    return env.error();
  return lmdb_stores{detail::make_lmdb_approval_store(env.value()),
                     detail::make_lmdb_workflow_state_store(env.value()),
                     std::make_shared<lmdb_commit_group>(env.value()),
                     detail::make_lmdb_outbox(env.value())};
}

} // namespace signoff::persistence
