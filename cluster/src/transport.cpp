#include <stdexcept>

#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include "signoff/cluster/transport.hpp"
#include "ssl_error_queue.hpp"

namespace signoff::cluster {

void configure(caf::actor_system_config& cfg,
               const cluster_settings& settings) {
  // Without it one failed handshake closes the healthy connections too.
  if (!detail::ssl_error_queue_cleared())
    throw std::logic_error{
      "signoff::cluster: CAF's OpenSSL calls do not go through the "
      "definitions that clear OpenSSL's error queue (is libssl loaded "
      "before libsignoff_cluster?)"};
  cfg.load<caf::io::middleman>();
  cfg.load<caf::openssl::manager>();
  // Any of these set makes CAF require a certificate of the authority from
  // every peer (mutual TLS); `check_settings` requires all of them.
  cfg.openssl_certificate = settings.certificate;
  cfg.openssl_key = settings.key;
  cfg.openssl_passphrase = settings.passphrase;
  cfg.openssl_cafile = settings.cafile;
  // Off by default: a frozen peer (stopped, or its host gone silent)
  // would never be noticed, and calls to it would wait for their timeout
  // one by one.
  cfg.set("middleman.heartbeat-interval",
          caf::timespan{std::chrono::seconds{1}});
  cfg.set("middleman.connection-timeout",
          caf::timespan{std::chrono::seconds{5}});
  actors::add_cluster_message_types(cfg);
}

link_status::link_status(const std::vector<std::string>& peers) {
  for (const auto& name : peers)
    peers_.push_back({name, false});
}

std::vector<peer_state> link_status::peers() const {
  const std::lock_guard lock{mutex_};
  return peers_;
}

void link_status::set(std::string_view peer, bool up) {
  const std::lock_guard lock{mutex_};
  for (auto& p : peers_)
    if (p.name == peer)
      p.up = up;
}

actors::cluster_membership membership(const cluster_settings& settings,
                                      actors::cluster_link_actor link) {
  return {settings.self, settings.node_names(), std::move(link)};
}

} // namespace signoff::cluster
