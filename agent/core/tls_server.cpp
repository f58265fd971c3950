#include "core/tls_server.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/sha.h>

namespace sluice::core {

std::string openssl_error_text() {
  unsigned long first = ERR_get_error();
  while (ERR_get_error() != 0) {
  }
  if (first == 0) return "unknown OpenSSL error";
  char buffer[256];
  ERR_error_string_n(first, buffer, sizeof buffer);
  return buffer;
}

std::string configure_tls_server(SSL_CTX& ctx, const TlsServerFiles& files) {
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(&ctx, files.cert.c_str()) != 1) {
    return "cannot load the certificate " + files.cert + ": " + openssl_error_text();
  }
  if (SSL_CTX_use_PrivateKey_file(&ctx, files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return "cannot load the private key " + files.key + ": " + openssl_error_text();
  }
  if (SSL_CTX_check_private_key(&ctx) != 1) {
    return "the private key " + files.key + " does not match the certificate " + files.cert;
  }
  if (files.client_cas.empty()) return "";
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  for (const std::string& ca : files.client_cas) {
    if (SSL_CTX_load_verify_locations(&ctx, ca.c_str(), nullptr) != 1 ||
        SSL_add_file_cert_subjects_to_stack(names, ca.c_str()) != 1) {
      sk_X509_NAME_pop_free(names, X509_NAME_free);
      return "cannot load the client CA file " + ca + ": " + openssl_error_text();
    }
  }
  SSL_CTX_set_client_CA_list(&ctx, names);  // takes ownership
  SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  return "";
}

SslCtxPtr make_tls_server_context(const TlsServerFiles& files, std::string& error) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) {
    error = "cannot create a TLS context: " + openssl_error_text();
    return nullptr;
  }
  error = configure_tls_server(*ctx, files);
  if (!error.empty()) return nullptr;
  return ctx;
}

bool secrets_equal(std::string_view given, std::string_view expected) {
  // Comparing digests makes the time independent of the lengths as well.
  unsigned char a[SHA256_DIGEST_LENGTH];
  unsigned char b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(given.data()), given.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), b);
  return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

}  // namespace sluice::core
