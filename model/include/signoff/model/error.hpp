#pragma once

#include <iosfwd>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace signoff::model {

/// Stable error codes. They cross process boundaries (JSON, HTTP, the audit
/// trail), so their text never changes; user workflows may add their own.
namespace error_type {
/// The run reached an approval that is not decided yet and paused.
inline constexpr std::string_view pending_approval = "PENDING_APPROVAL";
/// An approver rejected the approval; the message carries the reason.
inline constexpr std::string_view approval_rejected = "APPROVAL_REJECTED";
/// The approval passed its deadline before anyone decided.
inline constexpr std::string_view approval_expired = "APPROVAL_EXPIRED";
/// The approval (or the run waiting on it) was cancelled.
inline constexpr std::string_view approval_cancelled = "APPROVAL_CANCELLED";
/// A step threw an exception; the message is the exception's text.
inline constexpr std::string_view unexpected_error = "UNEXPECTED_ERROR";
/// Someone else decided first; `details` holds the winning status.
inline constexpr std::string_view approval_conflict = "APPROVAL_CONFLICT";
/// The run or approval named does not exist.
inline constexpr std::string_view not_found = "NOT_FOUND";
/// The actor may not do this: the approval is assigned to others (see
/// `may_decide`), or an HTTP token lacks the permission; nothing was
/// changed.
inline constexpr std::string_view forbidden = "FORBIDDEN";
/// The input was malformed or out of range; nothing was changed.
inline constexpr std::string_view invalid_argument = "INVALID_ARGUMENT";
/// No workflow function is registered under the name given.
inline constexpr std::string_view unknown_workflow = "UNKNOWN_WORKFLOW";
/// The run is not in a state that allows the operation.
inline constexpr std::string_view invalid_run_state = "INVALID_RUN_STATE";
/// The store failed (I/O, full map, corrupt record).
inline constexpr std::string_view storage_error = "STORAGE_ERROR";
/// A change was computed from a record that changed meanwhile (another
/// process decided it); the change was not written. Read and try again.
inline constexpr std::string_view stale_write = "STALE_WRITE";
/// The node of a cluster that owns what was asked cannot be reached now;
/// nothing was changed. Try again once it is back.
inline constexpr std::string_view unavailable = "UNAVAILABLE";
/// An awaited request to another actor got no answer in time.
inline constexpr std::string_view request_timeout = "REQUEST_TIMEOUT";
/// An awaited request to another actor failed (an error reply, the actor
/// is gone).
inline constexpr std::string_view request_failed = "REQUEST_FAILED";
} // namespace error_type

/// An error as workflows, stores and the APIs report it: a stable `type`
/// code, a human-readable `message` and optional structured `details`.
struct error {
  std::string type;
  std::string message;
  boost::json::value details;

  /// True if this error has the code `code`.
  [[nodiscard]] bool is(std::string_view code) const noexcept {
    return type == code;
  }

  friend bool operator==(const error&, const error&) = default;
};

/// Builds an error from a code, a message and optional details.
[[nodiscard]] error make_error(std::string_view type, std::string message,
                               boost::json::value details = nullptr);

/// Prints `TYPE: message` (the code the JSON and HTTP answers carry, then
/// the message; the code alone when there is no message), for logs and
/// test failures. The details are left out: they may be large.
std::ostream& operator<<(std::ostream& os, const error& e);

/// JSON form: `{"type": ..., "message": ..., "details": ...}`.
void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const error& e);

/// Reads the JSON form; fails on a missing or non-string `type`.
boost::json::result<error> tag_invoke(boost::json::try_value_to_tag<error>,
                                      const boost::json::value& in);

} // namespace signoff::model
