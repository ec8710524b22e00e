#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "signoff/http/auth.hpp"
#include "signoff/model/result.hpp"

namespace signoff {
class orchestrator;
}

namespace signoff::http {

/// A gauge family the server's owner adds to `/metrics` (a cluster node's
/// `signoff_peer_up`), in the text exposition format like the others.
struct gauge_family {
  /// A valid metric name, documented in docs/metrics.md.
  std::string name{};
  std::string help{};
  struct sample {
    /// Label names (valid) with their values (escaped when written).
    std::vector<std::pair<std::string, std::string>> labels{};
    double value = 0;
  };
  std::vector<sample> samples{};
};

/// How the HTTP adapter listens and whom it lets in.
struct server_options {
  /// Address to bind: loopback unless told otherwise.
  std::string address = "127.0.0.1";
  /// Port to bind; 0 picks a free one (see `http_server::port`).
  std::uint16_t port = 8080;
  /// Threads serving connections: 2. None of them waits for the
  /// orchestrator: a request that needs it (a decision, cancelling a run,
  /// cleanup) sends an asynchronous call and is answered when the reply
  /// comes, so slow decisions hold connections, never these threads.
  /// Reads (approvals, runs, the inbox's pages) go to the stores on them.
  std::size_t threads = 2;
  /// Largest request body (with a chunked body's trailers): 1 MiB; larger
  /// ones get 413. A header (with a chunked body's chunk lines and
  /// trailers) may take 8 KiB; a larger one gets 431.
  std::size_t max_body_bytes = std::size_t{1} << 20U;
  /// Connections served at once (those waiting for a call's reply too):
  /// 512. Past it, a new connection is answered 503 and closed. Keep it
  /// below the process's descriptor limit (`ulimit -n`), which the stores
  /// and the notifier share. When descriptors run out all the same, the
  /// server keeps trying to accept and serves again once some are free.
  std::size_t max_connections = 512;
  /// Who may do what. Ignored with `no_auth`.
  token_registry tokens{};
  /// Secret for signed action links; empty disables `/act/...`.
  std::string link_secret{};
  /// Secret the inbox's form tokens are made with (a form is only taken
  /// with the token its page carried); servers sharing it take each
  /// other's forms. Empty: a random one per start.
  std::string form_secret{};
  /// Local development only: every request acts with full rights as the
  /// body's `actorId` (or "anonymous"). Announced at start by the caller.
  /// Then only requests naming the server by an IP address, `localhost` or
  /// one of `allowed_hosts` in their Host header are served (a page
  /// elsewhere could reach it through DNS rebinding otherwise: 421), and a
  /// POST from a page on another site is refused (403).
  bool no_auth = false;
  /// Host names (without port) that `no_auth` mode serves besides IP
  /// addresses and `localhost`.
  std::vector<std::string> allowed_hosts{};
  /// Where the server reports what it cannot answer (a connection closed
  /// after an unexpected failure, a failure to accept connections), one
  /// line each; called from its threads. Empty: nowhere.
  std::function<void(std::string_view)> logger{};
  /// Gauges added to `/metrics` after the orchestrator's, read at each
  /// scrape on a server thread (so thread-safe and quick). Empty: none.
  std::function<std::vector<gauge_family>()> extra_gauges{};
};

/// The HTTP endpoints, JSON API and approver inbox over an orchestrator.
/// Serves on its own threads from `start` until `stop` or destruction.
class http_server {
public:
  /// `target` must outlive the server.
  http_server(orchestrator& target, server_options options);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds and starts serving. Errors: the address or port cannot be bound.
  model::result<void> start();

  /// Stops accepting and closes every connection; idempotent. It waits for
  /// no call in flight: those still go on in the orchestrator (a decision
  /// stands), and their replies are dropped.
  void stop();

  /// The bound port (useful with port 0), once started.
  [[nodiscard]] std::uint16_t port() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace signoff::http
