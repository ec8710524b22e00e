// The link actor: one BASP connection (under TLS) per pair of nodes, the
// peer's door monitored, every call it carries answered. CAF fails none of
// the requests in flight to a peer that dies (they would wait for their
// own timeout), and its `remote_actor` has no connect timeout, so the link
// keeps its calls in flight itself and connects with a bounded request to
// the OpenSSL manager's actor.
//
// Of each pair, only the node with the smaller name dials: when both
// dialed, CAF 0.17.6 closed one of the two connections and took the
// proxies of the other down with it, over and over (measured: links
// flapping every ~100 ms). The dialer then says hello through the
// connection, handing over its own door, so the node it dialed can call it
// too.
//
// A node publishes its door, not its gateway: the door takes the peers'
// calls (handed to the link, which hands them to the gateway it was told)
// and their hellos. The link itself is never published.

#include <algorithm>
#include <map>
#include <unordered_map>

#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <caf/all.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>

#include "signoff/cluster/transport.hpp"

namespace signoff::cluster {

namespace {

using reconnect_atom = caf::atom_constant<caf::atom("reconnect")>;
using hello_atom = caf::atom_constant<caf::atom("peerhello")>;
using door_atom = caf::atom_constant<caf::atom("door")>;

using envelope = actors::cluster_envelope;

/// What a node publishes: its gateway's interface (a peer's call), and a
/// hello from a peer that dialed this node (its name, its door).
using door_actor = actors::cluster_gateway_actor::extend<
  caf::reacts_to<hello_atom, std::string, caf::strong_actor_ptr>>;

/// The link's own interface: the public one, plus what its door hands it
/// (a peer's call, a peer's hello), the door itself once spawned, and the
/// timer message that starts the next connection attempt to a peer.
using link_actor_impl = actors::cluster_link_actor::extend<
  caf::replies_to<actors::cluster_atom, envelope>::with<envelope>,
  caf::reacts_to<hello_atom, std::string, caf::strong_actor_ptr>,
  caf::reacts_to<door_atom, door_actor>,
  caf::reacts_to<reconnect_atom, std::string>>;

constexpr std::chrono::milliseconds first_backoff{100};
constexpr std::chrono::milliseconds last_backoff{2000};

struct peer {
  node_address address;
  /// Whether this node dials the peer (its name is the smaller one), or
  /// waits for the peer's hello.
  bool dials = false;
  /// The peer's door while connected; null while down.
  actors::cluster_gateway_actor gateway{};
  bool connecting = false;
  /// The wait before the next attempt after a failed one.
  std::chrono::milliseconds backoff = first_backoff;
  /// Why the last attempt failed; logged only when it changes.
  std::string last_problem{};
  /// The calls sent to the gateway and not answered yet, by number.
  std::unordered_map<std::uint64_t, caf::typed_response_promise<envelope>>
    in_flight{};
};

struct link_state {
  cluster_settings settings;
  std::shared_ptr<link_status> status;
  std::function<void(std::string_view)> logger;
  std::map<std::string, peer, std::less<>> peers;
  actors::cluster_gateway_actor local_gateway{};
  door_actor door{};
  std::uint64_t next_call = 0;
  static inline const char* name = "signoff.cluster_link";
};

using link_pointer = link_actor_impl::stateful_pointer<link_state>;

envelope error_envelope(const link_state& st, std::string_view type,
                        std::string message) {
  return {actors::cluster_protocol_version, st.settings.self, "error",
          boost::json::serialize(boost::json::value_from(
            model::make_error(type, std::move(message))))};
}

envelope unavailable(const link_state& st, std::string message) {
  return error_envelope(st, model::error_type::unavailable, std::move(message));
}

void log(const link_state& st, const std::string& line) {
  if (st.logger)
    st.logger(line);
}

/// Tells the local gateway that `name` is up; its answer does not matter.
void tell_peer_up(link_pointer self, const std::string& name) {
  auto& st = self->state;
  if (!st.local_gateway)
    return;
  self
    ->request(st.local_gateway, st.settings.request_timeout,
              actors::cluster_atom_v,
              envelope{actors::cluster_protocol_version, name, "peer_up", "{}"})
    .then([](const envelope&) {}, [](const caf::error&) {});
}

void schedule_attempt(link_pointer self, const std::string& name,
                      std::string problem) {
  auto& p = self->state.peers.at(name);
  if (!p.dials)
    return;
  if (problem != p.last_problem) {
    log(self->state, "cannot connect to node " + name + " at " + p.address.host
                       + ":" + std::to_string(p.address.port) + ": " + problem
                       + " (trying again)");
    p.last_problem = std::move(problem);
  }
  self->delayed_send(self, p.backoff, reconnect_atom::value, name);
  p.backoff = std::min(p.backoff * 2, last_backoff);
}

void came_up(link_pointer self, const std::string& name,
             actors::cluster_gateway_actor gateway) {
  auto& st = self->state;
  auto& p = st.peers.at(name);
  p.gateway = std::move(gateway);
  p.backoff = first_backoff;
  p.last_problem.clear();
  self->monitor(p.gateway);
  st.status->set(name, true);
  log(st, "node " + name + " is up");
  tell_peer_up(self, name);
}

void went_down(link_pointer self, const std::string& name,
               const std::string& reason) {
  auto& st = self->state;
  auto& p = st.peers.at(name);
  self->demonitor(p.gateway.address());
  p.gateway = nullptr;
  st.status->set(name, false);
  log(st, "node " + name + " is down: " + reason);
  auto calls = std::move(p.in_flight);
  p.in_flight.clear();
  for (auto& [number, promise] : calls)
    promise.deliver(
      unavailable(st, "node " + name + " went down with the call in flight ("
                        + reason + "); it may or may not have done it"));
  schedule_attempt(self, name, "it went down");
}

void connect(link_pointer self, const std::string& name) {
  auto& st = self->state;
  auto& p = st.peers.at(name);
  if (!p.dials || p.connecting || p.gateway)
    return;
  p.connecting = true;
  auto manager = self->system().openssl_manager().actor_handle();
  self
    ->request(manager, st.settings.connect_timeout, caf::connect_atom::value,
              p.address.host, p.address.port)
    .then(
      [self, name](const caf::node_id&, caf::strong_actor_ptr& published,
                   const std::set<std::string>& interface) {
        self->state.peers.at(name).connecting = false;
        if (!published)
          return schedule_attempt(self, name, "nothing is published there");
        if (!self->system().assignable<door_actor>(interface))
          return schedule_attempt(self, name,
                                  "what is published there is not a "
                                  "signoff cluster node");
        auto door = caf::actor_cast<door_actor>(std::move(published));
        self->send(door, hello_atom::value, self->state.settings.self,
                   caf::actor_cast<caf::strong_actor_ptr>(self->state.door));
        came_up(self, name,
                caf::actor_cast<actors::cluster_gateway_actor>(door));
      },
      [self, name](const caf::error& problem) {
        self->state.peers.at(name).connecting = false;
        schedule_attempt(self, name, self->system().render(problem));
      });
}

/// Answers call `number` to `name`, unless the peer's loss answered it.
void settle(link_pointer self, const std::string& name, std::uint64_t number,
            envelope answer) {
  auto& in_flight = self->state.peers.at(name).in_flight;
  const auto call = in_flight.find(number);
  if (call == in_flight.end())
    return;
  call->second.deliver(std::move(answer));
  in_flight.erase(call);
}

caf::result<envelope> carry(link_pointer self, const std::string& node,
                            envelope& call) {
  auto& st = self->state;
  if (node == st.settings.self)
    return error_envelope(st, model::error_type::invalid_argument,
                          "node " + node
                            + " called itself through the cluster link");
  const auto found = st.peers.find(node);
  if (found == st.peers.end())
    return error_envelope(st, model::error_type::invalid_argument,
                          "no node named '" + node + "' in the cluster");
  auto& p = found->second;
  if (!p.gateway)
    return unavailable(st, "node " + node + " is down");
  auto promise = self->make_response_promise<envelope>();
  const auto number = st.next_call++;
  p.in_flight.emplace(number, promise);
  const auto timeout = st.settings.request_timeout;
  self->request(p.gateway, timeout, actors::cluster_atom_v, std::move(call))
    .then(
      [self, node, number](envelope& answer) {
        settle(self, node, number, std::move(answer));
      },
      [self, node, number, timeout](const caf::error& problem) {
        const auto& st = self->state;
        settle(self, node, number,
               unavailable(st, problem == caf::sec::request_timeout
                                 ? "node " + node + " did not answer within "
                                     + std::to_string(timeout.count()) + " ms"
                                 : "the call to node " + node + " failed: "
                                     + self->system().render(problem)));
      });
  return promise;
}

/// A peer that dialed this node says hello, handing over its door.
void hello(link_pointer self, const std::string& name,
           caf::strong_actor_ptr door) {
  auto& st = self->state;
  const auto found = st.peers.find(name);
  if (found == st.peers.end() || found->second.dials || !door) {
    log(st,
        "ignored a hello from '" + name + "': not a node that dials this one");
    return;
  }
  auto gateway = caf::actor_cast<actors::cluster_gateway_actor>(door);
  // A restarted peer may say hello before its old connection is seen gone.
  if (found->second.gateway && found->second.gateway != gateway)
    went_down(self, name, "it connected again");
  if (!found->second.gateway)
    came_up(self, name, std::move(gateway));
}

/// A peer's call, handed on to the local gateway.
caf::result<envelope> take(link_pointer self, envelope& call) {
  auto& st = self->state;
  if (!st.local_gateway)
    return unavailable(st, "node " + st.settings.self
                             + " is starting: it has no gateway yet");
  return self->delegate(st.local_gateway, actors::cluster_atom_v,
                        std::move(call));
}

door_actor::behavior_type door_behavior(door_actor::pointer self,
                                        link_actor_impl link) {
  return {
    [self, link](actors::cluster_atom, envelope& call) {
      return self->delegate(link, actors::cluster_atom_v, std::move(call));
    },
    [link](hello_atom, std::string& name, caf::strong_actor_ptr& door) {
      caf::anon_send(link, hello_atom::value, std::move(name), std::move(door));
    },
  };
}

link_actor_impl::behavior_type
link_behavior(link_pointer self, cluster_settings settings,
              std::shared_ptr<link_status> status,
              std::function<void(std::string_view)> logger) {
  auto& st = self->state;
  st.status = std::move(status);
  st.logger = std::move(logger);
  for (const auto& [name, address] : settings.nodes)
    if (name != settings.self)
      st.peers.emplace(name, peer{address, settings.self < name});
  st.settings = std::move(settings);
  self->set_down_handler([self](const caf::down_msg& down) {
    for (auto& [name, p] : self->state.peers)
      if (p.gateway && p.gateway.address() == down.source) {
        went_down(self, name, self->system().render(down.reason));
        return;
      }
  });
  return {
    [self](actors::cluster_atom, const std::string& node, envelope& call)
      -> caf::result<envelope> { return carry(self, node, call); },
    [self](actors::cluster_atom, actors::cluster_gateway_actor gateway) {
      auto& st = self->state;
      st.local_gateway = std::move(gateway);
      for (const auto& [name, p] : st.peers)
        if (p.gateway)
          tell_peer_up(self, name);
    },
    [self](actors::cluster_atom, envelope& call) -> caf::result<envelope> {
      return take(self, call);
    },
    [self](hello_atom, const std::string& name, caf::strong_actor_ptr& door) {
      hello(self, name, std::move(door));
    },
    // The door, spawned beside the link: dialing waits for it, as the
    // hello hands it over.
    [self](door_atom, door_actor& door) {
      self->link_to(door);
      self->state.door = std::move(door);
      for (const auto& [name, p] : self->state.peers)
        connect(self, name);
    },
    [self](reconnect_atom, const std::string& name) { connect(self, name); },
  };
}

} // namespace

cluster_link spawn_cluster_link(caf::actor_system& system,
                                const cluster_settings& settings,
                                std::function<void(std::string_view)> logger) {
  std::vector<std::string> peers;
  for (const auto& [name, address] : settings.nodes)
    if (name != settings.self)
      peers.push_back(name);
  auto status = std::make_shared<link_status>(peers);
  auto link = system.spawn(link_behavior, settings, status, std::move(logger));
  auto door = system.spawn(door_behavior, link);
  caf::anon_send(link, door_atom::value, door);
  return {link, caf::actor_cast<actors::cluster_gateway_actor>(door),
          std::move(status)};
}

model::result<std::uint16_t> publish_gateway(caf::actor_system& system,
                                             const cluster_link& link,
                                             const cluster_settings& settings) {
  // Published with its whole interface, hello included: a dialing peer
  // checks it is a signoff node's door.
  auto door = caf::actor_cast<door_actor>(link.door);
  auto port = caf::openssl::publish(door, settings.listen.port,
                                    settings.listen.host.c_str(), true);
  if (!port)
    return model::make_error(model::error_type::unavailable,
                             "cannot listen for peers on "
                               + settings.listen.host + ":"
                               + std::to_string(settings.listen.port) + ": "
                               + system.render(port.error()));
  return *port;
}

} // namespace signoff::cluster
