#pragma once

#include <memory>

#include "lmdb_env.hpp"
#include "lmdb_journal.hpp"
#include "signoff/persistence/approval_store.hpp"
#include "signoff/persistence/outbox.hpp"
#include "signoff/persistence/workflow_state_store.hpp"

namespace signoff::persistence::detail {

[[nodiscard]] std::shared_ptr<approval_store>
make_lmdb_approval_store(std::shared_ptr<lmdb_env> env,
                         std::shared_ptr<lmdb_journal> journal);

[[nodiscard]] std::shared_ptr<workflow_state_store>
make_lmdb_workflow_state_store(std::shared_ptr<lmdb_env> env,
                               std::shared_ptr<lmdb_journal> journal);

[[nodiscard]] std::shared_ptr<outbox>
make_lmdb_outbox(std::shared_ptr<lmdb_env> env);

} // namespace signoff::persistence::detail
