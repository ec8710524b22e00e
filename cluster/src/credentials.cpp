// The credentials checked at start, as CAF's OpenSSL manager will load
// them for each connection (caf/openssl/session.cpp: a certificate chain
// file, a PEM key with the passphrase callback, the CA file as the only
// trust anchor).

#include <array>
#include <cstdio>
#include <cstring>
#include <memory>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "signoff/cluster/settings.hpp"

namespace signoff::cluster {

namespace {

template <class T, void (*Free)(T*)>
struct freeing {
  void operator()(T* x) const noexcept {
    Free(x);
  }
};
using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, freeing<SSL_CTX, SSL_CTX_free>>;
using store_ctx_ptr
  = std::unique_ptr<X509_STORE_CTX,
                    freeing<X509_STORE_CTX, X509_STORE_CTX_free>>;

void close_file(FILE* f) noexcept {
  std::fclose(f);
}

/// OpenSSL's reasons for the last failure (and clears its error queue).
std::string openssl_reasons() {
  std::string reasons;
  while (const auto code = ERR_get_error()) {
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    if (!reasons.empty())
      reasons += "; ";
    reasons += text.data();
  }
  return reasons.empty() ? "no reason given" : reasons;
}

model::error refused(const std::string& what, const std::string& file) {
  return model::make_error(model::error_type::invalid_argument,
                           what + " " + file + ": " + openssl_reasons());
}

/// Hands the passphrase to OpenSSL when it decrypts the key; never asks
/// the terminal (which would block a service).
int give_passphrase(char* buf, int size, int /*rwflag*/, void* userdata) {
  const auto& passphrase = *static_cast<const std::string*>(userdata);
  if (passphrase.size() > static_cast<std::size_t>(size))
    return 0;
  std::memcpy(buf, passphrase.data(), passphrase.size());
  return static_cast<int>(passphrase.size());
}

} // namespace

model::result<void> check_credentials(const cluster_settings& s) {
  ERR_clear_error();
  ssl_ctx_ptr ctx{SSL_CTX_new(TLS_method())};
  if (!ctx)
    return model::make_error(model::error_type::unexpected_error,
                             "cannot make a TLS context: " + openssl_reasons());
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), s.certificate.c_str()) != 1)
    return refused("cannot load the certificate", s.certificate);
  // Read apart from the context, so that a key of another certificate is
  // told from one that does not load.
  std::unique_ptr<FILE, freeing<FILE, close_file>> key_file{
    std::fopen(s.key.c_str(), "r")};
  if (!key_file)
    return model::make_error(model::error_type::invalid_argument,
                             "cannot open the key " + s.key);
  std::unique_ptr<EVP_PKEY, freeing<EVP_PKEY, EVP_PKEY_free>> key{
    PEM_read_PrivateKey(key_file.get(), nullptr, give_passphrase,
                        const_cast<std::string*>(&s.passphrase))};
  if (!key)
    return refused("cannot load the key (or its passphrase is wrong)", s.key);
  if (SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1)
    return refused("the key " + s.key + " does not match the certificate",
                   s.certificate);
  if (SSL_CTX_load_verify_locations(ctx.get(), s.cafile.c_str(), nullptr) != 1)
    return refused("cannot load the certificate authority", s.cafile);
  // Peers check this node's certificate against the same authority: one it
  // did not sign would only show as connections refused.
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(ctx.get(), &chain);
  store_ctx_ptr verify{X509_STORE_CTX_new()};
  if (!verify
      || X509_STORE_CTX_init(verify.get(), SSL_CTX_get_cert_store(ctx.get()),
                             SSL_CTX_get0_certificate(ctx.get()), chain)
           != 1)
    return model::make_error(model::error_type::unexpected_error,
                             "cannot verify the certificate: "
                               + openssl_reasons());
  if (X509_verify_cert(verify.get()) != 1)
    return model::make_error(model::error_type::invalid_argument,
                             "the certificate " + s.certificate
                               + " is not signed by the authority " + s.cafile
                               + ": "
                               + X509_verify_cert_error_string(
                                 X509_STORE_CTX_get_error(verify.get())));
  return model::ok();
}

} // namespace signoff::cluster
