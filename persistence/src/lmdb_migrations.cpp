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

model::result<void> approvals_gain_revisions(MDB_txn* txn,
                                             const lmdb_dbs& dbs) {
  for (auto& [key, value] : all_of(txn, dbs.approvals)) {
    auto record = decode<model::approval_record>(value, key);
    if (record.is_err())
      return record.error();
    auto length = get(txn, dbs.audit_length, key);
    record->revision = length ? from_be64(*length) : 0;
    put(txn, dbs.approvals, key, encode_approval(record.value()));
  }
  for (auto& [key, value] : all_of(txn, dbs.audit_length))
    del(txn, dbs.audit_length, key);
  return model::ok();
}

model::result<void> runs_split_into_logs(MDB_txn* txn, const lmdb_dbs& dbs) {
  for (auto& [id, value] : all_of(txn, dbs.runs)) {
    auto run = decode<model::saved_workflow_state>(value, "run " + id);
    if (run.is_err())
      return run.error();
    put(txn, dbs.runs, id,
        encode_run_header(run.value(),
                          static_cast<std::uint32_t>(run->checkpoints.size())));
    put(txn, dbs.run_inputs, id, encode_run_inputs(run.value()));
    std::uint32_t number = 0;
    for (const auto& [key, saved] : run->checkpoints)
      put(txn, dbs.checkpoints, checkpoint_key(id, number++),
          encode_checkpoint(key, saved));
  }
  return model::ok();
}

} // namespace

model::result<void> migrate_format_2_to_3(MDB_txn* txn, const lmdb_dbs& dbs) {
  for (auto& [key, value] : all_of(txn, dbs.approvals)) {
    auto record = decode_approval(key, value);
    if (record.is_err())
      return record.error();
    if (auto decided = decided_key(record.value()))
      put(txn, dbs.decided, *decided, {});
  }
  return model::ok();
}

model::result<void> migrate_format_1_to_2(MDB_txn* txn, const lmdb_dbs& dbs) {
  if (auto done = approvals_gain_revisions(txn, dbs); done.is_err())
    return done;
  return runs_split_into_logs(txn, dbs);
}

} // namespace signoff::persistence::detail
