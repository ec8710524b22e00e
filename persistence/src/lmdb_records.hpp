#pragma once

// How records and index entries are laid out in LMDB (format 4), shared by
// the stores that read them and the journal that writes them.
//
// `records` holds every record of an approval or a run under a prefix of
// its own, so that one entity's records share a page: 'a', the approval
// key's length (2 bytes) and the key; or 'r', the run id's length (1 byte)
// and the id. The length makes the prefix of one key never the prefix of
// another's records, whatever bytes the keys hold.

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

/// The approval key or run id a record of `records` belongs to (the whole
/// key if it has no valid prefix), to name it in an error.
[[nodiscard]] std::string_view
owner_of_record(std::string_view record_key) noexcept;

/// Where the approval `key` is stored: its prefix, then 'r'.
[[nodiscard]] std::string approval_record_key(std::string_view key);

/// The approval: the 8-byte big-endian revision, then the record's JSON.
/// The journal compares the prefix to refuse a change made from a stale
/// read.
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
/// An audit entry: the approval's prefix, 't', the entry's sequence (8
/// bytes); the trail is the range under `audit_prefix`.
[[nodiscard]] std::string audit_prefix(std::string_view key);
[[nodiscard]] std::string audit_key(std::string_view key,
                                    std::uint64_t sequence);

/// Where the header of run `id` is stored: its prefix, then 'h'.
[[nodiscard]] std::string run_header_key(std::string_view id);
/// The prefix every run's records start with, and the id of the run whose
/// header is stored under `record_key` (none for a run's other records
/// and an approval's).
[[nodiscard]] std::string_view runs_prefix() noexcept;
[[nodiscard]] std::optional<std::string_view>
run_id_of_header(std::string_view record_key) noexcept;

/// The header of `run` (its JSON without checkpoints, input and
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

/// Where the input of run `id` is stored: its prefix, then 'i'.
[[nodiscard]] std::string run_inputs_key(std::string_view id);
/// A run's input: `{"input": ..., "metadata": ...}`.
[[nodiscard]] std::string
encode_run_inputs(const model::saved_workflow_state& run);
/// Fills `run.input` and `run.metadata`.
[[nodiscard]] model::result<void>
decode_run_inputs(std::string_view value, model::saved_workflow_state& run);

/// A checkpoint: the run's prefix, 'c', the number of the checkpoint (4
/// bytes). A run's log is the range under `checkpoint_prefix`.
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
