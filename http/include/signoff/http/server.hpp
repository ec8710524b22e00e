#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "signoff/http/auth.hpp"
#include "signoff/model/result.hpp"

namespace signoff {
class orchestrator;
}

namespace signoff::http {

/// How the HTTP adapter listens and whom it lets in.
struct server_options {
  /// Address to bind: loopback unless told otherwise.
  std::string address = "127.0.0.1";
  /// Port to bind; 0 picks a free one (see `http_server::port`).
  std::uint16_t port = 8080;
  /// Threads serving connections.
  std::size_t threads = 2;
  /// Largest request body: 1 MiB; larger ones get 413.
  std::size_t max_body_bytes = std::size_t{1} << 20U;
  /// Who may do what. Ignored with `no_auth`.
  token_registry tokens{};
  /// Secret for signed action links; empty disables `/act/...`.
  std::string link_secret{};
  /// Local development only: every request acts with full rights as the
  /// body's `actorId` (or "anonymous"). Announced at start by the caller.
  bool no_auth = false;
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

  /// Stops accepting and closes every connection; idempotent.
  void stop();

  /// The bound port (useful with port 0), once started.
  [[nodiscard]] std::uint16_t port() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace signoff::http
