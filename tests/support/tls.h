// TLS for tests, with OpenSSL's own API: a throw-away self-signed certificate generated
// in the test (no private key is ever committed), and a blocking TLS client that
// verifies the server against it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "support/http_client.h"

namespace intentstream::testing {

struct TestCertificate {
  std::string cert_file;  // PEM, self-signed, for 127.0.0.1 and localhost
  std::string key_file;   // PEM, unencrypted P-256 key
};

// Writes a new key and a certificate valid for one day to `cert_file` and `key_file`.
inline bool WriteTestCertificate(const std::string& cert_file, const std::string& key_file) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!key || !cert) return false;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
                                   std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext == nullptr) return false;
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return false;
  FILE* c = std::fopen(cert_file.c_str(), "w");
  FILE* k = std::fopen(key_file.c_str(), "w");
  const bool ok = c != nullptr && k != nullptr && PEM_write_X509(c, cert.get()) == 1 &&
                  PEM_write_PrivateKey(k, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  if (c != nullptr) std::fclose(c);
  if (k != nullptr) std::fclose(k);
  return ok;
}

struct TlsExchange {
  bool handshake = false;  // the server's certificate verified against `ca_file`
  std::string protocol;    // e.g. "TLSv1.3"
  HttpResult response;
};

// Connects to 127.0.0.1:port, verifies the server (certificate and IP) against
// `ca_file`, sends `request` and reads until the server closes (5 s at most).
inline TlsExchange TlsRequest(int port, const std::string& ca_file, const std::string& request) {
  TlsExchange out;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  if (!ctx || SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1) return out;
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return out;
  }
  SSL* ssl = SSL_new(ctx.get());
  SSL_set_fd(ssl, fd);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
  if (SSL_connect(ssl) == 1 && SSL_get_verify_result(ssl) == X509_V_OK) {
    out.handshake = true;
    out.protocol = SSL_get_version(ssl);
    SSL_write(ssl, request.data(), static_cast<int>(request.size()));
    std::string raw;
    char buf[4096];
    int n;
    while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) raw.append(buf, static_cast<size_t>(n));
    out.response = ParseHttpResponse(raw);
  }
  ERR_clear_error();
  SSL_free(ssl);
  close(fd);
  return out;
}

}  // namespace intentstream::testing
