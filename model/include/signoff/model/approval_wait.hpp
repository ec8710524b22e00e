#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/conversion.hpp>
#include <boost/json/value.hpp>

#include "signoff/model/approval.hpp"

namespace signoff::model {

/// The most approval keys one step waits for at once: enough for any
/// sensible set of alternatives or sign-offs, while one wait stays one
/// small checkpoint and a bounded number of requests to the registry.
inline constexpr std::size_t max_wait_keys = 64;

/// One approval of a wait on several, and its status: what
/// `step.first_approval` and `step.all_approvals` return.
struct decided_approval {
  std::string key{};
  approval_status status{};

  friend bool operator==(const decided_approval&, const decided_approval&)
    = default;
};

/// When a wait on several approvals is over.
enum class wait_rule {
  /// Once any key is decided, in any way.
  first,
  /// Once every key is decided.
  all,
  /// Once every key is granted, or any is decided otherwise.
  all_granted,
};

/// A wait on several approvals, shared by the step that waits and the host
/// that runs it: the keys in the order the workflow gave them, and the
/// status of each as far as the host knows it.
struct approval_wait {
  wait_rule rule = wait_rule::first;
  std::vector<std::string> keys{};
  /// One per key, in the same order; pending until the host learns better.
  std::vector<approval_status> statuses{};

  /// True once the statuses end the wait under its rule.
  [[nodiscard]] bool over() const noexcept;

  /// The key that decided the wait: for `first`, the earliest decided; for
  /// `all_granted`, the earliest decided otherwise than granted (none if
  /// every key was granted); none for `all`. Earliest means the smallest
  /// `decided_at`, and on a tie the first in the workflow's order, so the
  /// same statuses always name the same key.
  [[nodiscard]] std::optional<std::size_t> deciding() const noexcept;

  /// The keys still pending: those the step cancels once the wait is over.
  [[nodiscard]] std::vector<std::string> pending_keys() const;
};

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const decided_approval& d);
boost::json::result<decided_approval>
tag_invoke(boost::json::try_value_to_tag<decided_approval>,
           const boost::json::value& in);

} // namespace signoff::model
