#pragma once

// The fix for CAF 0.17.6's stale OpenSSL errors (ssl_error_queue.cpp).

namespace signoff::cluster::detail {

/// True when CAF's calls to SSL_read, SSL_write, SSL_accept and
/// SSL_connect go through the definitions that clear the error queue
/// first. `configure` calls it, which also makes sure the linker keeps
/// them.
[[nodiscard]] bool ssl_error_queue_cleared() noexcept;

} // namespace signoff::cluster::detail
