#pragma once

// Links a node to its peers over CAF's BASP under mutual TLS, and
// publishes its gateway for them. Order of use, before and after the
// actor system is built:
//
//     auto settings = read_cluster_settings(file);   // and check_credentials
//     configure(cfg, *settings);
//     caf::actor_system system{cfg};
//     auto link = spawn_cluster_link(system, *settings);
//     // ... the orchestrator, with membership(*settings, link.actor) ...
//     caf::anon_send(link.actor, actors::cluster_atom_v, gateway);
//     publish_gateway(system, link, *settings);
//
// Stop the link (`send_exit`) before the actor system goes.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <caf/fwd.hpp>

#include "signoff/actors/cluster.hpp"
#include "signoff/cluster/settings.hpp"
#include "signoff/model/result.hpp"

namespace signoff::cluster {

/// Loads CAF's middleman and OpenSSL manager into `cfg` and sets them up
/// for `settings`: mutual TLS with its credentials, a heartbeat every
/// second and a connection given up after 5 s of silence (so a frozen peer
/// is noticed, not only a dead one), and the message types nodes exchange.
/// The same on every node.
void configure(caf::actor_system_config& cfg, const cluster_settings& settings);

/// Whether the link is connected to a peer.
struct peer_state {
  std::string name{};
  bool up = false;
};

/// The link's connections, read from any thread (for metrics).
class link_status {
public:
  explicit link_status(const std::vector<std::string>& peers);

  /// Every peer, by name, with its state now.
  [[nodiscard]] std::vector<peer_state> peers() const;

  /// Records `peer`'s state (the link's own call).
  void set(std::string_view peer, bool up);

private:
  mutable std::mutex mutex_;
  std::vector<peer_state> peers_;
};

/// A running link and its connections' state.
struct cluster_link {
  actors::cluster_link_actor actor{};
  /// What this node publishes for its peers (`publish_gateway`): it hands
  /// their calls to the gateway the link is told, and takes the hello of
  /// each peer that dials this node. It stops with the link.
  actors::cluster_gateway_actor door{};
  std::shared_ptr<const link_status> status{};
};

/// Spawns the link to every other node of `settings` in `system` (built
/// with `configure`). Of each pair of nodes, the one with the smaller name
/// dials the other (each attempt bounded by the connect timeout) and says
/// hello, so that one TLS connection links them; it watches the peer, and
/// dials again after a loss, waiting longer after each failure (0.1 s
/// doubling up to 2 s). The other node waits for the hello. It
/// answers every call: with the peer's answer, or UNAVAILABLE at once
/// while the peer is down, when the peer goes down with the call in
/// flight, or when the peer does not answer within the request timeout.
/// Calls to this node itself or to a node not in the settings are answered
/// INVALID_ARGUMENT. Each time a peer comes up (and, for those up already,
/// when the link is told the local gateway) it tells the gateway with a
/// "peer_up" envelope from that peer. `logger` (optional, called on the
/// link's thread) is told when a peer comes up or goes down, and why an
/// attempt to connect failed (once per new reason).
[[nodiscard]] cluster_link
spawn_cluster_link(caf::actor_system& system, const cluster_settings& settings,
                   std::function<void(std::string_view)> logger = {});

/// The membership an orchestrator of this node is given.
[[nodiscard]] actors::cluster_membership
membership(const cluster_settings& settings, actors::cluster_link_actor link);

/// Publishes the link's door on `settings.listen` over TLS (the address
/// being reused at once after a restart, while the last run's connections
/// wait out TIME_WAIT). Peers' calls get to the gateway the link was told
/// (`cluster_atom` with the gateway); until then they are answered
/// UNAVAILABLE. Returns the port. Errors (UNAVAILABLE): the port is taken
/// or the address cannot be bound.
[[nodiscard]] model::result<std::uint16_t>
publish_gateway(caf::actor_system& system, const cluster_link& link,
                const cluster_settings& settings);

} // namespace signoff::cluster
