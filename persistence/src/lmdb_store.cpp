#include "signoff/persistence/lmdb_store.hpp"

#include "lmdb_stores.hpp"

namespace signoff::persistence {

model::result<lmdb_stores> open_lmdb_stores(const lmdb_options& options) {
  auto env = detail::lmdb_env::open(options);
  if (env.is_err())
    return env.error();
  auto journal = std::make_shared<detail::lmdb_journal>(env.value());
  return lmdb_stores{
    detail::make_lmdb_approval_store(env.value(), journal),
    detail::make_lmdb_workflow_state_store(env.value(), journal), journal,
    detail::make_lmdb_outbox(env.value())};
}

} // namespace signoff::persistence
