#pragma once

// A node's side of the cluster: the gateway answering the calls of the
// other nodes, the watchers through which an owner wakes the runs other
// nodes keep waiting on its keys, and how any actor of the node calls
// another node.

#include <memory>
#include <string>
#include <string_view>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "cluster_wire.hpp"
#include "engine.hpp"

namespace signoff::actors::detail {

/// The answer for a node that cannot be reached: nothing was changed.
[[nodiscard]] model::error node_unavailable(const std::string& node);

/// Calls `node` with a call of `kind` carrying `body`; `then` gets the
/// result the node's actors replied, or UNAVAILABLE.
template <class T, class Self, class Then>
void ask_node(Self* self, const engine& eng, const std::string& node,
              std::string_view kind, const boost::json::value& body,
              Then then) {
  // The link always answers, so no timeout here: it owns the deadline.
  self
    ->request(eng.link(), caf::infinite, cluster_atom_v, node,
              make_call(eng.node_name(), kind, body))
    .then([then](
            cluster_envelope& answer) mutable { then(read_answer<T>(answer)); },
          [then, node](caf::error&) mutable {
            then(model::result<T>{node_unavailable(node)});
          });
}

/// The run id an owner registers for run `run_id` of node `node`: the
/// node's name, a slash, the run's id on its node.
[[nodiscard]] std::string remote_run_id(const std::string& node,
                                        const std::string& run_id);

[[nodiscard]] cluster_gateway_actor
spawn_cluster_gateway(caf::actor_system& system, std::shared_ptr<engine> eng);

/// The waiter a shard registers for runs of `node` waiting on its keys:
/// takes a `routed_wake` (run id as `remote_run_id` made it) and calls
/// `node` to wake the run, replying its `wake_report` (failed when the
/// node cannot be reached).
[[nodiscard]] caf::actor spawn_peer_watcher(caf::actor_system& system,
                                            std::shared_ptr<engine> eng,
                                            std::string node);

} // namespace signoff::actors::detail
