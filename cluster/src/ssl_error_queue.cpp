// CAF 0.17.6's OpenSSL session calls SSL_read, SSL_write, SSL_accept and
// SSL_connect without clearing the thread's OpenSSL error queue first, and
// never clears it after a failure (libcaf_openssl/src/session.cpp,
// handle_ssl_result). All connections share the middleman's one I/O
// thread, so a failed handshake (a rogue certificate, garbage on the
// port) leaves its errors queued, and the next SSL_read of a healthy
// connection that merely has no data yet reads them through
// SSL_get_error as a fatal error: CAF closes that connection too.
// Measured: every garbage connection took the links to the good peers down.
//
// OpenSSL's rule is to clear the queue before each of these calls; these
// definitions interpose on libssl's (the dynamic linker binds CAF's calls
// to the first definition, and this library comes first) and do exactly
// that before calling libssl's own.

#include <dlfcn.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ssl_error_queue.hpp"

namespace {

template <class Function>
Function* libssl(const char* name) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): dlsym
  return reinterpret_cast<Function*>(::dlsym(RTLD_NEXT, name));
}

} // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static auto* const real = libssl<int(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static auto* const real = libssl<int(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_accept(SSL* ssl) {
  static auto* const real = libssl<int(SSL*)>("SSL_accept");
  ERR_clear_error();
  return real(ssl);
}

int SSL_connect(SSL* ssl) {
  static auto* const real = libssl<int(SSL*)>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}

} // extern "C"

namespace signoff::cluster::detail {

bool ssl_error_queue_cleared() noexcept {
  return ::dlsym(RTLD_DEFAULT, "SSL_read")
         == reinterpret_cast<void*>(&SSL_read);
}

} // namespace signoff::cluster::detail
