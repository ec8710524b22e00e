#pragma once

// How records and index entries are laid out in LMDB (format 2), shared by
// the stores that read them and the journal that writes them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lmdb_env.hpp"
#include "signoff/model/approval.hpp"
#include "signoff/model/audit_entry.hpp"
#include "signoff/model/workflow_state.hpp"

namespace signoff::persistence::detail {

/// approvals: the 8-byte big-endian revision, then the record's JSON. The
/// journal compares the prefix to refuse a change made from a stale read.
[[nodiscard]] std::string encode_approval(const model::approval_record& r);

/// The revision a stored approval value starts with; nothing for a value
/// too short to hold one.
[[nodiscard]] std::optional<std::uint64_t>
stored_revision(std::string_view value) noexcept;

/// The record under `key`, decoded; a record naming another key, or whose
/// revision prefix disagrees with its JSON, is corrupt.
[[nodiscard]] model::result<model::approval_record>
decode_approval(std::string_view key, std::string_view value);

/// deadlines: when the registry must next act on the approval (its next
/// reminder or its deadline, 8 bytes) then the key.
[[nodiscard]] std::string deadline_key(model::time_point deadline,
                                       std::string_view key);
/// decided: when the approval was decided (8 bytes) then the key; none
/// for a pending approval.
[[nodiscard]] std::optional<std::string>
decided_key(const model::approval_record& r);
/// pending: the final deadline (8 bytes; past it the approval is expired
/// whatever the registry recorded) or nothing.
[[nodiscard]] std::string pending_value(const model::approval_record& r);
/// audit: the key then the entry's sequence (8 bytes).
[[nodiscard]] std::string audit_key(std::string_view key,
                                    std::uint64_t sequence);

/// runs: the header of `run` (its JSON without checkpoints, input and
/// metadata) and how many checkpoints its log holds.
[[nodiscard]] std::string
encode_run_header(const model::saved_workflow_state& run,
                  std::uint32_t checkpoints);

/// A decoded header: the run without checkpoints, input and metadata.
struct run_header {
  model::saved_workflow_state run;
  std::uint32_t checkpoints = 0;
};

[[nodiscard]] model::result<run_header>
decode_run_header(std::string_view id, std::string_view value);

/// run_inputs: `{"input": ..., "metadata": ...}`.
[[nodiscard]] std::string
encode_run_inputs(const model::saved_workflow_state& run);
/// Fills `run.input` and `run.metadata`.
[[nodiscard]] model::result<void>
decode_run_inputs(std::string_view value, model::saved_workflow_state& run);

/// checkpoints: the run id's length (1 byte), the run id, the number of the
/// checkpoint (4 bytes). A run's log is the range under its prefix.
[[nodiscard]] std::string checkpoint_prefix(std::string_view run_id);
[[nodiscard]] std::string checkpoint_key(std::string_view run_id,
                                         std::uint32_t number);
/// `{"key": step key, "result": checkpoint}`.
[[nodiscard]] std::string encode_checkpoint(const std::string& key,
                                            const model::checkpoint& result);
[[nodiscard]] model::result<void>
decode_checkpoint(std::string_view value, model::saved_workflow_state& run);

/// paused_by_name: LMDB keys cannot be empty; "" is stored as "\0".
[[nodiscard]] std::string name_key(const std::string& name);
/// finished: when the run was last updated (8 bytes) then its id.
[[nodiscard]] std::string finished_key(const model::saved_workflow_state& run);
[[nodiscard]] std::string finished_key(model::time_point updated_at,
                                       std::string_view run_id);

/// True for keys LMDB lookups can take: not empty, within the limits.
[[nodiscard]] bool storable_approval_key(std::string_view key) noexcept;
[[nodiscard]] bool storable_run_id(std::string_view id) noexcept;

} // namespace signoff::persistence::detail
