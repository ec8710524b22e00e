#include "lmdb_migrations.hpp"

#include <string>
#include <utility>
#include <vector>

#include "lmdb_records.hpp"

namespace signoff::persistence::detail {

namespace {

/// Every (key, value) of `dbi`, copied: the loop that rewrites them may not
/// hold a cursor over what it writes.
std::vector<std::pair<std::string, std::string>> all_of(MDB_txn* txn,
                                                        MDB_dbi dbi) {
  std::vector<std::pair<std::string, std::string>> out;
  scan_from(txn, dbi, {}, [&](std::string_view k, std::string_view v) {
    out.emplace_back(k, v);
    return true;
  });
  return out;
}

/// Formats 2 and 3 keyed a run's checkpoint by the run id's length (1
/// byte), the id and the checkpoint's number (4 bytes).
std::string legacy_checkpoint_key(std::string_view run_id,
                                  std::uint32_t number) {
  std::string k(1, static_cast<char>(run_id.size()));
  k += run_id;
  return k + be32(number);
}

model::result<void> approvals_gain_revisions(MDB_txn* txn,
                                             const lmdb_legacy_dbs& legacy) {
  for (auto& [key, value] : all_of(txn, legacy.approvals)) {
    auto record = decode<model::approval_record>(value, key);
    if (record.is_err())
      return record.error();
    auto length = get(txn, legacy.audit_length, key);
    record->revision = length ? from_be64(*length) : 0;
    put(txn, legacy.approvals, key, encode_approval(record.value()));
  }
  for (auto& [key, value] : all_of(txn, legacy.audit_length))
    del(txn, legacy.audit_length, key);
  return model::ok();
}

model::result<void> runs_split_into_logs(MDB_txn* txn,
                                         const lmdb_legacy_dbs& legacy) {
  for (auto& [id, value] : all_of(txn, legacy.runs)) {
    auto run = decode<model::saved_workflow_state>(value, "run " + id);
    if (run.is_err())
      return run.error();
    put(txn, legacy.runs, id,
        encode_run_header(run.value(),
                          static_cast<std::uint32_t>(run->checkpoints.size())));
    put(txn, legacy.run_inputs, id, encode_run_inputs(run.value()));
    std::uint32_t number = 0;
    for (const auto& [key, saved] : run->checkpoints)
      put(txn, legacy.checkpoints, legacy_checkpoint_key(id, number++),
          encode_checkpoint(key, saved));
  }
  return model::ok();
}

} // namespace

model::result<void> migrate_format_1_to_2(MDB_txn* txn, const lmdb_dbs&,
                                          const lmdb_legacy_dbs& legacy) {
  if (auto done = approvals_gain_revisions(txn, legacy); done.is_err())
    return done;
  return runs_split_into_logs(txn, legacy);
}

model::result<void> migrate_format_2_to_3(MDB_txn* txn, const lmdb_dbs& dbs,
                                          const lmdb_legacy_dbs& legacy) {
  for (auto& [key, value] : all_of(txn, legacy.approvals)) {
    auto record = decode_approval(key, value);
    if (record.is_err())
      return record.error();
    if (auto decided = decided_key(record.value()))
      put(txn, dbs.decided, *decided, {});
  }
  return model::ok();
}

model::result<void> migrate_format_3_to_4(MDB_txn* txn, const lmdb_dbs& dbs,
                                          const lmdb_legacy_dbs& legacy) {
  // A key that cannot be moved (longer than any the stores take, or too
  // short for its parts) stops the migration: nothing is changed.
  for (auto& [key, value] : all_of(txn, legacy.approvals)) {
    if (!storable_approval_key(key))
      return corrupt_index("approvals");
    put(txn, dbs.records, approval_record_key(key), value);
  }
  // An audit entry's key: the approval key, then the sequence (8 bytes).
  for (auto& [key, value] : all_of(txn, legacy.audit)) {
    const std::string_view k{key};
    if (k.size() <= 8 || !storable_approval_key(k.substr(0, k.size() - 8)))
      return corrupt_index("audit");
    put(txn, dbs.records,
        audit_key(k.substr(0, k.size() - 8), from_be64(k.substr(k.size() - 8))),
        value);
  }
  for (auto& [id, value] : all_of(txn, legacy.runs)) {
    if (!storable_run_id(id))
      return corrupt_index("runs");
    put(txn, dbs.records, run_header_key(id), value);
  }
  for (auto& [id, value] : all_of(txn, legacy.run_inputs)) {
    if (!storable_run_id(id))
      return corrupt_index("run_inputs");
    put(txn, dbs.records, run_inputs_key(id), value);
  }
  for (auto& [key, value] : all_of(txn, legacy.checkpoints)) {
    const std::string_view k{key};
    const std::size_t length = k.empty() ? 0 : static_cast<unsigned char>(k[0]);
    if (k.size() != length + 5 || !storable_run_id(k.substr(1, length)))
      return corrupt_index("checkpoints");
    put(txn, dbs.records,
        checkpoint_key(k.substr(1, length), from_be32(k.substr(1 + length))),
        value);
  }
  for (auto dbi : {legacy.approvals, legacy.audit, legacy.audit_length,
                   legacy.runs, legacy.run_inputs, legacy.checkpoints})
    if (int rc = mdb_drop(txn, dbi, 1); rc != MDB_SUCCESS)
      throw lmdb_failure{rc};
  return model::ok();
}

} // namespace signoff::persistence::detail
