#pragma once

// What an orchestrator needs to be one node of a static cluster: the
// nodes' names, the rule that picks the node owning an approval key, and
// the two actors that carry calls between nodes. The transport (CAF's BASP
// under mutual TLS) lives in `signoff/cluster`; the orchestrator only sees
// envelopes, so it can be tested with nodes in one process.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "signoff/actors/messages.hpp"
#include "signoff/persistence/approval_store.hpp"

namespace signoff::actors {

/// The version of the calls nodes exchange. A node answers an envelope of
/// a newer version with an error and logs it: a newer node may mean
/// something this one cannot know.
inline constexpr std::uint32_t cluster_protocol_version = 1;

/// One call between nodes, or its answer. Every field is a plain type, so
/// the envelope is the only message type nodes must agree on; the body is
/// JSON text, read by the handler of its kind.
struct cluster_envelope {
  std::uint32_t version = cluster_protocol_version;
  /// The sending node's name.
  std::string from{};
  /// What is asked ("decide", "reach", "wake", ...), or "ok" / "error" in
  /// an answer (an error's body is a `model::error`).
  std::string kind{};
  std::string body{};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_envelope& x) {
  return f(caf::meta::type_name("signoff.cluster_envelope"), x.version, x.from,
           x.kind, x.body);
}

/// What a node publishes for its peers: it answers every call.
using cluster_gateway_actor = caf::typed_actor<
  caf::replies_to<cluster_atom, cluster_envelope>::with<cluster_envelope>>;

/// Where an orchestrator sends calls to other nodes, by node name. It
/// always answers: with the peer's answer, or with an error envelope
/// (`UNAVAILABLE`) when the peer cannot be reached or does not answer in
/// time. Told the local gateway, it tells it of each peer that comes up
/// (an envelope of kind "peer_up" from that peer), so the node can hand
/// the peer what it lost by restarting.
using cluster_link_actor
  = caf::typed_actor<caf::replies_to<cluster_atom, std::string,
                                     cluster_envelope>::with<cluster_envelope>,
                     caf::reacts_to<cluster_atom, cluster_gateway_actor>>;

/// The cluster an orchestrator belongs to (see
/// `orchestrator_config::cluster`).
struct cluster_membership {
  /// This node's name.
  std::string self{};
  /// Every node's name, this one included; the same list on every node.
  std::vector<std::string> nodes{};
  /// Carries calls to the other nodes.
  cluster_link_actor link{};
};

/// The node owning `key` among `nodes`, by rendezvous hashing: the node
/// whose hash with the key is highest. Adding or removing a node moves
/// only the keys it wins or held (about 1/n of them). `nodes` must not be
/// empty.
[[nodiscard]] const std::string&
owner_of(std::string_view key, const std::vector<std::string>& nodes);

/// Pending approvals in `store` (past their deadline or not) that another
/// node than `self` owns under `nodes`, in key order, at most `limit`: what
/// a change of the node list strands in a node's directory. A node must not
/// serve while it holds any: nobody would reach them, and their deadlines
/// would fire on a key the owner does not have. Decide or cancel them
/// under the old list first (records do not move between nodes).
[[nodiscard]] model::result<std::vector<std::string>> pending_owned_elsewhere(
  const persistence::approval_store& store, const std::string& self,
  const std::vector<std::string>& nodes, std::size_t limit);

/// Registers the message types nodes exchange; call it on the
/// `actor_system_config` of every node before the system is built.
void add_cluster_message_types(caf::actor_system_config& cfg);

} // namespace signoff::actors
