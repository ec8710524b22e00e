#pragma once

#include <memory>

#include "signoff/persistence/approval_store.hpp"
#include "signoff/persistence/workflow_state_store.hpp"

namespace signoff::persistence {

/// An approval store in memory: indexed, thread-safe, gone at exit. For
/// tests and for embedding where durability is not wanted.
[[nodiscard]] std::shared_ptr<approval_store> make_memory_approval_store();

/// A workflow state store in memory, with the same properties.
[[nodiscard]] std::shared_ptr<workflow_state_store>
make_memory_workflow_state_store();

} // namespace signoff::persistence
