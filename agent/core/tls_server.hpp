// The server side of TLS for listeners: one OpenSSL context from a certificate chain, its key and
// optionally the CAs whose client certificates are accepted (mutual TLS).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::core {

struct TlsServerFiles {
  std::string cert;                     // PEM chain; empty: no TLS
  std::string key;                      // PEM private key
  std::vector<std::string> client_cas;  // when set, clients must present a certificate
  bool enabled() const { return !cert.empty(); }
};

// Loads the files into `ctx` (TLS 1.2 at least). Returns "" or why it could not.
std::string configure_tls_server(SSL_CTX& ctx, const TlsServerFiles& files);

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

// A new server context with the files loaded; null with `error` set when they do not load.
SslCtxPtr make_tls_server_context(const TlsServerFiles& files, std::string& error);

// The oldest error OpenSSL queued for this thread, clearing the queue.
std::string openssl_error_text();

// Compares two secrets in time that depends on neither their contents nor their lengths.
bool secrets_equal(std::string_view given, std::string_view expected);

}  // namespace sluice::core
