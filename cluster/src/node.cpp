#include "signoff/cluster/node.hpp"

#include <chrono>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

namespace signoff::cluster {

cluster_node::cluster_node(cluster_settings settings,
                           std::unique_ptr<caf::actor_system_config> config,
                           std::function<void(std::string_view)> logger)
    : settings_(std::move(settings)), config_(std::move(config)) {
  configure(*config_, settings_);
  system_ = std::make_unique<caf::actor_system>(*config_);
  link_ = spawn_cluster_link(*system_, settings_, std::move(logger));
}

cluster_node::~cluster_node() {
  caf::anon_send_exit(link_.actor, caf::exit_reason::user_shutdown);
}

actors::cluster_membership cluster_node::membership() const {
  return cluster::membership(settings_, link_.actor);
}

model::result<std::uint16_t>
cluster_node::publish(const actors::orchestrator_actor& orchestrator) {
  actors::cluster_gateway_actor gateway;
  caf::scoped_actor self{*system_};
  self->request(orchestrator, std::chrono::seconds{10}, actors::cluster_atom_v)
    .receive([&](actors::cluster_gateway_actor& g) { gateway = std::move(g); },
             [](const caf::error&) {});
  if (!gateway)
    return model::make_error(
      model::error_type::unexpected_error,
      "the orchestrator has no cluster gateway to publish");
  caf::anon_send(link_.actor, actors::cluster_atom_v, gateway);
  return publish_gateway(*system_, link_, settings_);
}

} // namespace signoff::cluster
