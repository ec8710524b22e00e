#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signoff/model/approval.hpp"
#include "signoff/model/audit_entry.hpp"
#include "signoff/model/result.hpp"
#include "signoff/model/time.hpp"

namespace signoff::persistence {

/// What `create_approval` found or made.
struct created_approval {
  model::approval_record record;
  /// False if the key existed already (the record is the existing one).
  bool created = false;
};

/// Where approvals, their audit trail and their deadlines live: the
/// reference's ApprovalStore, with every transition atomic.
///
/// Thread safety: every implementation must allow concurrent calls from
/// any thread. Errors: `STORAGE_ERROR` when the medium fails; the
/// operations below list the others. Instants are passed in, so a store
/// never reads a clock of its own.
class approval_store {
public:
  virtual ~approval_store() = default;

  /// Creates `key` as pending with `spec` unless it exists, appending a
  /// "created" audit entry by `actor`. An existing record is returned
  /// unchanged (it may hold a decision made before the run got here).
  /// Errors: `INVALID_ARGUMENT` for an empty key or a quorum of 0.
  virtual model::result<created_approval>
  create_approval(const std::string& key, const model::approval_spec& spec,
                  const std::string& actor, model::time_point now)
    = 0;

  /// The record under `key`, or nothing.
  virtual model::result<std::optional<model::approval_record>>
  find_approval(const std::string& key) const = 0;

  /// Applies `d` atomically at `now` with its audit entry. A pending
  /// approval takes the decision (a grant may only add to its quorum); a
  /// missing one is created already decided, unless `d.require_existing`.
  /// Repeating the deciding actor's own decision changes nothing.
  /// Errors: `APPROVAL_CONFLICT` (details: the current status) when it is
  /// decided otherwise or past its deadline; `NOT_FOUND` for a missing key
  /// when required or when expiring; `INVALID_ARGUMENT` for an empty key,
  /// a reject without reason, or an expiry before the deadline.
  virtual model::result<model::decision_outcome>
  decide(const model::decision& d, model::time_point now) = 0;

  /// Pending, unexpired keys starting with `prefix` (taken literally, byte
  /// for byte) in key order, at most `limit` of them.
  virtual model::result<std::vector<std::string>>
  list_pending(std::string_view prefix, model::time_point now,
               std::size_t limit) const = 0;

  /// Every change to `key` in order; empty for an unknown key.
  virtual model::result<std::vector<model::audit_entry>>
  audit_trail(const std::string& key) const = 0;

  /// Pending keys whose deadline is at or before `now`, earliest first, at
  /// most `limit`.
  virtual model::result<std::vector<std::string>>
  due_for_expiry(model::time_point now, std::size_t limit) const = 0;

  /// The earliest deadline of any pending approval.
  virtual model::result<std::optional<model::time_point>>
  next_expiry() const = 0;

  /// Deletes a decided approval and its audit trail; false if there was
  /// nothing to delete. Errors: `INVALID_RUN_STATE` if it is still pending.
  virtual model::result<bool> remove_approval(const std::string& key) = 0;

  /// Keys decided (or expired) whose waiting runs may not have been woken
  /// yet, at most `limit`. A store shared between processes records each
  /// resolving transition here in the same commit, so a wake lost to a
  /// crash, or a decision made by another process (the CLI), is found by
  /// reading the store. The default records nothing: right for a store
  /// only one process uses, where the orchestrator wakes runs itself.
  [[nodiscard]] virtual model::result<std::vector<std::string>>
  owed_wakes(std::size_t limit) const {
    (void)limit;
    return std::vector<std::string>{};
  }

  /// Forgets owed wakes once their runs were woken.
  virtual model::result<void> wakes_done(const std::vector<std::string>& keys) {
    (void)keys;
    return model::ok();
  }
};

} // namespace signoff::persistence
