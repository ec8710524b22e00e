// A cluster node for the transport tests: the link and an echo gateway in
// a process of its own, driven through its standard input and reporting
// on its standard output, one line each:
//
//   in:  call NODE KIND BODY      -> answer KIND BODY (the link's answer)
//   out: listening PORT           (its gateway is published)
//        got FROM KIND            (its gateway was called)
//        peer_up FROM             (its link told the gateway)
//        log LINE                 (its link said so)
//        refused MESSAGE          (its settings or credentials: exit 2;
//                                  its port: exit 3)
//
// The gateway answers "echo" with kind "ok" and the same body, and never
// answers "hang". The node stops when its input ends.

#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "signoff/cluster/transport.hpp"

namespace {

using signoff::actors::cluster_atom;
using signoff::actors::cluster_envelope;
using signoff::actors::cluster_gateway_actor;

std::mutex output;

void say(const std::string& line) {
  const std::lock_guard lock{output};
  std::cout << line << std::endl;
}

struct gateway_state {
  std::vector<caf::typed_response_promise<cluster_envelope>> unanswered;
};

cluster_gateway_actor::behavior_type
echo_gateway(cluster_gateway_actor::stateful_pointer<gateway_state> self,
             std::string name) {
  return {
    [self, name](cluster_atom,
                 cluster_envelope& call) -> caf::result<cluster_envelope> {
      if (call.kind == "peer_up") {
        say("peer_up " + call.from);
        return cluster_envelope{signoff::actors::cluster_protocol_version, name,
                                "ok", "{}"};
      }
      say("got " + call.from + " " + call.kind);
      if (call.kind == "hang") {
        auto promise = self->make_response_promise<cluster_envelope>();
        self->state.unanswered.push_back(promise);
        return promise;
      }
      return cluster_envelope{signoff::actors::cluster_protocol_version, name,
                              "ok", call.body};
    },
  };
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: cluster_node SETTINGS\n";
    return 2;
  }
  auto settings = signoff::cluster::read_cluster_settings(argv[1]);
  if (settings.is_err()) {
    say("refused " + settings.error().message);
    return 2;
  }
  if (auto checked = signoff::cluster::check_credentials(*settings);
      checked.is_err()) {
    say("refused " + checked.error().message);
    return 2;
  }
  caf::actor_system_config cfg;
  signoff::cluster::configure(cfg, *settings);
  caf::actor_system system{cfg};
  auto link = signoff::cluster::spawn_cluster_link(
    system, *settings,
    [](std::string_view line) { say("log " + std::string{line}); });
  auto gateway = system.spawn(echo_gateway, settings->self);
  caf::anon_send(link.actor, signoff::actors::cluster_atom_v, gateway);
  auto port = signoff::cluster::publish_gateway(system, link, *settings);
  if (port.is_err()) {
    say("refused " + port.error().message);
    caf::anon_send_exit(link.actor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(gateway, caf::exit_reason::user_shutdown);
    return 3;
  }
  say("listening " + std::to_string(*port));
  {
    caf::scoped_actor self{system};
    std::string line;
    while (std::getline(std::cin, line)) {
      std::istringstream words{line};
      std::string command;
      cluster_envelope call;
      std::string node;
      words >> command >> node >> call.kind;
      std::getline(words >> std::ws, call.body);
      call.from = settings->self;
      if (command != "call")
        continue;
      // The link always answers: no timeout here, so a call it left
      // unanswered shows as a hung test.
      self
        ->request(link.actor, caf::infinite, signoff::actors::cluster_atom_v,
                  node, call)
        .receive(
          [](const cluster_envelope& answer) {
            say("answer " + answer.kind + " " + answer.body);
          },
          [&](const caf::error& problem) {
            say("failed " + system.render(problem));
          });
    }
  }
  caf::anon_send_exit(link.actor, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(gateway, caf::exit_reason::user_shutdown);
  return 0;
}
