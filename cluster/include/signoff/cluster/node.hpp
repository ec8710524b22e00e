#pragma once

// A node's runtime: the actor system built for its cluster settings and
// its link to the peers, in the order `transport.hpp` asks for. What a
// program that is a node (signoffd, a test's worker) holds:
//
//     signoff::cluster::cluster_node node{*settings,
//     make_actor_system_config()}; options.system = &node.system();
//     options.cluster = node.membership();
//     signoff::orchestrator orch{std::move(options)};   // destroyed first
//     auto port = node.publish(orch.handle());

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include <caf/fwd.hpp>

#include "signoff/actors/orchestrator_actor.hpp"
#include "signoff/cluster/settings.hpp"
#include "signoff/cluster/transport.hpp"
#include "signoff/model/result.hpp"

namespace signoff::cluster {

/// The actor system of one node, configured for `settings` (`configure`),
/// and its link (`spawn_cluster_link`). It stops the link before the
/// system goes, which waits for every actor: destroy the orchestrator
/// running in it first.
class cluster_node {
public:
  /// Builds the system from `config` (the orchestrator's
  /// `make_actor_system_config()`, say) with the cluster's settings added;
  /// `logger` is the link's (see `spawn_cluster_link`).
  cluster_node(cluster_settings settings,
               std::unique_ptr<caf::actor_system_config> config,
               std::function<void(std::string_view)> logger = {});
  ~cluster_node();
  cluster_node(const cluster_node&) = delete;
  cluster_node& operator=(const cluster_node&) = delete;

  [[nodiscard]] caf::actor_system& system() noexcept {
    return *system_;
  }

  [[nodiscard]] const cluster_settings& settings() const noexcept {
    return settings_;
  }

  [[nodiscard]] const cluster_link& link() const noexcept {
    return link_;
  }

  /// The membership to give the orchestrator running in `system()`.
  [[nodiscard]] actors::cluster_membership membership() const;

  /// Asks `orchestrator` (running in `system()` with `membership()`) for
  /// its gateway, tells the link and publishes it (`publish_gateway`).
  /// Returns the port. Errors: the orchestrator has no gateway
  /// (UNEXPECTED_ERROR), or as `publish_gateway`.
  [[nodiscard]] model::result<std::uint16_t>
  publish(const actors::orchestrator_actor& orchestrator);

private:
  cluster_settings settings_;
  std::unique_ptr<caf::actor_system_config> config_;
  std::unique_ptr<caf::actor_system> system_;
  cluster_link link_;
};

} // namespace signoff::cluster
