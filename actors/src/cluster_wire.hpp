#pragma once

// The bodies of the calls nodes exchange, as JSON: what each kind of call
// carries, and how an answer reads back as the result the local actors
// would have replied. Every body is read as untrusted input: a malformed
// one is an INVALID_ARGUMENT answer, never a crash.

#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "protocol.hpp"
#include "signoff/actors/cluster.hpp"
#include "signoff/model/json_text.hpp"
#include "signoff/model/result.hpp"

namespace signoff::actors::detail {

/// The kinds of call.
namespace call_kind {
inline constexpr std::string_view decide = "decide";
inline constexpr std::string_view comment = "comment";
inline constexpr std::string_view assign = "assign";
/// A run of the caller reached a key of the callee: its status, creating
/// it pending, and the caller registered as waiting on it.
inline constexpr std::string_view reach = "reach";
/// The caller has runs waiting on these keys of the callee (sent when the
/// two meet again): their statuses, and the caller registered as waiting
/// on those still pending.
inline constexpr std::string_view watch = "watch";
/// A key of the caller was decided: wake the callee's runs waiting on it.
inline constexpr std::string_view wake = "wake";
inline constexpr std::string_view approval = "approval";
inline constexpr std::string_view audit = "audit";
inline constexpr std::string_view pending = "pending";
/// Reads of the callee's runs: those matching a filter, those waiting on a
/// key, one run by id.
inline constexpr std::string_view runs = "runs";
inline constexpr std::string_view waiting = "waiting";
inline constexpr std::string_view status = "status";
/// From a node's own link: the named peer came up.
inline constexpr std::string_view peer_up = "peer_up";
} // namespace call_kind

/// A run of one node reaching a key another node owns.
struct remote_reach {
  std::string run_id{};
  std::string key{};
  model::approval_spec spec{};
};

/// A run of the caller waiting on a key of the callee, in a "watch" call.
struct watch_item {
  std::string run_id{};
  std::string key{};
};

/// What a node answers to "watch": each key's status, or none for a key
/// it does not have.
struct watched_key {
  std::string key{};
  std::optional<model::approval_status> status{};
};

/// A call of `kind` from `from` carrying `body`.
[[nodiscard]] cluster_envelope make_call(std::string from,
                                         std::string_view kind,
                                         const boost::json::value& body);

/// The answer carrying `r` (an "ok" envelope; the result may hold an error
/// of the call itself, as the local actor would have replied).
template <class T>
[[nodiscard]] cluster_envelope make_answer(std::string from,
                                           const model::result<T>& r) {
  return cluster_envelope{cluster_protocol_version, std::move(from), "ok",
                          model::write_json(boost::json::value_from(r))};
}

/// An answer saying the call could not be handled at all (a newer protocol,
/// a malformed envelope, a node that is down).
[[nodiscard]] cluster_envelope make_failure(std::string from,
                                            const model::error& e);

/// The error of a call that could not be read.
[[nodiscard]] model::error malformed_call(std::string_view what);

/// The body of a call or an answer, parsed; an error for a newer protocol
/// version or text that is not JSON.
[[nodiscard]] model::result<boost::json::value>
read_body(const cluster_envelope& e);

/// A body read as `T`.
template <class T>
[[nodiscard]] model::result<T> read_as(const boost::json::value& body,
                                       std::string_view what) {
  auto converted = boost::json::try_value_to<T>(body);
  if (!converted)
    return model::result<T>{malformed_call(what)};
  return model::result<T>{std::move(*converted)};
}

/// The result an answer carries, as the local actor would have replied it.
template <class T>
[[nodiscard]] model::result<T> read_answer(const cluster_envelope& answer) {
  auto body = read_body(answer);
  if (body.is_err())
    return model::result<T>{body.error()};
  if (answer.kind != "ok") {
    auto e = boost::json::try_value_to<model::error>(body.value());
    return model::result<T>{e ? std::move(*e) : malformed_call("an error")};
  }
  auto r = boost::json::try_value_to<model::result<T>>(body.value());
  if (!r)
    return model::result<T>{malformed_call("an answer")};
  return std::move(*r);
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const remote_reach& r);
boost::json::result<remote_reach>
tag_invoke(boost::json::try_value_to_tag<remote_reach>,
           const boost::json::value& in);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const watched_key& w);
boost::json::result<watched_key>
tag_invoke(boost::json::try_value_to_tag<watched_key>,
           const boost::json::value& in);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const watch_item& w);
boost::json::result<watch_item>
tag_invoke(boost::json::try_value_to_tag<watch_item>,
           const boost::json::value& in);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const routed_wake& w);
boost::json::result<routed_wake>
tag_invoke(boost::json::try_value_to_tag<routed_wake>,
           const boost::json::value& in);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const wake_report& w);
boost::json::result<wake_report>
tag_invoke(boost::json::try_value_to_tag<wake_report>,
           const boost::json::value& in);

} // namespace signoff::actors::detail

namespace signoff::actors {

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const decision_request& r);
boost::json::result<decision_request>
tag_invoke(boost::json::try_value_to_tag<decision_request>,
           const boost::json::value& in);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const decision_report& r);
boost::json::result<decision_report>
tag_invoke(boost::json::try_value_to_tag<decision_report>,
           const boost::json::value& in);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const comment_request& r);
boost::json::result<comment_request>
tag_invoke(boost::json::try_value_to_tag<comment_request>,
           const boost::json::value& in);

} // namespace signoff::actors

namespace signoff::persistence {

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const run_filter& f);
boost::json::result<run_filter>
tag_invoke(boost::json::try_value_to_tag<run_filter>,
           const boost::json::value& in);

} // namespace signoff::persistence

namespace signoff::model {

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const decision_outcome& o);
boost::json::result<decision_outcome>
tag_invoke(boost::json::try_value_to_tag<decision_outcome>,
           const boost::json::value& in);

} // namespace signoff::model
