#pragma once

// The steps that rewrite an LMDB directory of one format into the next,
// run inside the write transaction that opens it (see `lmdb_env`).

#include <lmdb.h>

#include "lmdb_env.hpp"

namespace signoff::persistence::detail {

/// Format 1 to 2: approvals gain their revision (the length of their audit
/// trail, until then kept apart in `audit_length`), written ahead of the
/// record; a run's checkpoints, input and metadata move out of its record
/// into a log of one record per step and a record written once.
[[nodiscard]] model::result<void>
migrate_format_1_to_2(MDB_txn* txn, const lmdb_dbs& dbs,
                      const lmdb_legacy_dbs& legacy);

/// Format 2 to 3: approvals no longer pending are indexed by when they were
/// decided (`lmdb_dbs::decided`).
[[nodiscard]] model::result<void>
migrate_format_2_to_3(MDB_txn* txn, const lmdb_dbs& dbs,
                      const lmdb_legacy_dbs& legacy);

/// Format 3 to 4: approvals with their audit trails, and runs with their
/// inputs and checkpoint logs, move into `records` side by side, and the
/// databases that held them apart are deleted.
[[nodiscard]] model::result<void>
migrate_format_3_to_4(MDB_txn* txn, const lmdb_dbs& dbs,
                      const lmdb_legacy_dbs& legacy);

} // namespace signoff::persistence::detail
