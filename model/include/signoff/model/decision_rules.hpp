#pragma once

#include <string>

#include "signoff/model/approval.hpp"
#include "signoff/model/result.hpp"
#include "signoff/model/time.hpp"

namespace signoff::model {

/// What a decision does to an approval, computed before anything is
/// written, so every store applies exactly the same rules.
struct approval_transition {
  /// The record as it must be stored.
  approval_record record;
  /// False for an idempotent repeat: nothing to write.
  bool applied = false;
  /// The audit action to append when applied.
  std::string audit_action;
};

/// A new pending approval for `key`. Errors: `INVALID_ARGUMENT` for an
/// empty key or a quorum of 0.
[[nodiscard]] result<approval_record>
new_approval(const std::string& key, const approval_spec& spec, time_point now);

/// The transition `d` causes on `current` (null when the key is unknown)
/// at `now`. Errors are those of `approval_store::decide`.
[[nodiscard]] result<approval_transition>
apply_decision(const approval_record* current, const decision& d,
               time_point now);

} // namespace signoff::model
