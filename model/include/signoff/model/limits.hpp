#pragma once

#include <cstddef>

namespace signoff::model {

/// Longest approval key, in bytes. Every store takes keys up to this size
/// (LMDB's key limit is 511 bytes, and its indexes add up to 8 bytes).
inline constexpr std::size_t max_approval_key_bytes = 480;

/// Longest run id and workflow name, in bytes.
inline constexpr std::size_t max_run_id_bytes = 255;
inline constexpr std::size_t max_workflow_name_bytes = 255;

/// Longest comment on an approval, in bytes: room for a few paragraphs of
/// discussion, while one comment stays a small audit entry and a small
/// request body.
inline constexpr std::size_t max_comment_bytes = 4000;

/// Longest identity or group name naming who may decide, in bytes.
inline constexpr std::size_t max_identity_bytes = 255;

/// Most assignees, and most candidate groups, one approval names: enough
/// for a team, while a record stays small and a check stays quick.
inline constexpr std::size_t max_assignees = 100;
/// Most escalation levels and reminders one approval takes: enough for
/// any real chain of command, while each firing stays a small record.
inline constexpr std::size_t max_escalation_levels = 16;
inline constexpr std::size_t max_reminders = 16;

} // namespace signoff::model
