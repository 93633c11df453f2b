#include "serve/tls_transport.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace intentstream::serve {

namespace {

// The most recent OpenSSL error of this thread, readable ("no start line").
std::string LastError() {
  unsigned long code = 0;
  unsigned long last = 0;
  while ((code = ERR_get_error()) != 0) last = code;
  if (last == 0) return "unknown error";
  const char* reason = ERR_reason_error_string(last);
  return reason != nullptr ? reason : "error " + std::to_string(last);
}

bool Readable(const std::string& path) {
  return access(path.c_str(), R_OK) == 0;
}

}  // namespace

std::unique_ptr<TlsContext> TlsContext::Load(const std::string& cert_file,
                                             const std::string& key_file, TlsProblem* problem) {
  using File = TlsProblem::File;
  const auto fail = [problem](File file, std::string message) {
    *problem = TlsProblem{file, std::move(message)};
    return nullptr;
  };
  if (cert_file.empty()) return fail(File::kCertificate, "a private key needs a certificate");
  if (key_file.empty()) return fail(File::kKey, "a certificate needs a private key");
  if (!Readable(cert_file)) {
    return fail(File::kCertificate, "cannot read '" + cert_file + "': " + std::strerror(errno));
  }
  if (!Readable(key_file)) {
    return fail(File::kKey, "cannot read '" + key_file + "': " + std::strerror(errno));
  }
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr)
    return fail(File::kCertificate, "cannot create a TLS context: " + LastError());
  std::unique_ptr<TlsContext> context(new TlsContext(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Writes may be partial and retried from another buffer position (ConnectionStream).
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return fail(File::kCertificate,
                "'" + cert_file + "' is not a PEM certificate chain: " + LastError());
  }
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(nullptr, EVP_PKEY_free);
  if (std::unique_ptr<BIO, decltype(&BIO_free)> in(BIO_new_file(key_file.c_str(), "r"), BIO_free);
      in) {
    // An encrypted key fails (the callback gives no passphrase) instead of prompting.
    key.reset(PEM_read_bio_PrivateKey(
        in.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
  }
  if (!key) {
    return fail(File::kKey,
                "'" + key_file + "' is not an unencrypted PEM private key: " + LastError());
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return fail(File::kKey, "'" + key_file + "' does not match the certificate in '" + cert_file +
                                "': " + LastError());
  }
  return context;
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

std::optional<TlsProblem> CheckTlsFiles(const std::string& cert_file, const std::string& key_file) {
  TlsProblem problem;
  if (TlsContext::Load(cert_file, key_file, &problem)) return std::nullopt;
  return problem;
}

TlsTransport::TlsTransport(const TlsContext& context, int fd)
    : ssl_(SSL_new(context.get())), fd_(fd) {
  if (ssl_ != nullptr) {
    SSL_set_fd(ssl_, fd);
    SSL_set_accept_state(ssl_);
  }
}

TlsTransport::~TlsTransport() {
  SSL_free(ssl_);
}

IoResult TlsTransport::Outcome(int ret, size_t bytes) {
  if (ret == 1) return {IoStatus::kDone, bytes};
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
      return {IoStatus::kWantRead, 0};
    case SSL_ERROR_WANT_WRITE:
      return {IoStatus::kWantWrite, 0};
    case SSL_ERROR_ZERO_RETURN:
      return {IoStatus::kClosed, 0};
    default:
      ERR_clear_error();  // a failed session must not leave errors to this thread's next one
      return {IoStatus::kError, 0};
  }
}

IoResult TlsTransport::Handshake() {
  if (ssl_ == nullptr) return {IoStatus::kError, 0};
  ERR_clear_error();
  const IoResult r = Outcome(SSL_do_handshake(ssl_), 0);
  established_ = r.status == IoStatus::kDone;
  return r;
}

IoResult TlsTransport::Read(char* buf, size_t size) {
  if (ssl_ == nullptr) return {IoStatus::kError, 0};
  ERR_clear_error();
  size_t n = 0;
  const int ret = SSL_read_ex(ssl_, buf, size, &n);
  return Outcome(ret, n);
}

IoResult TlsTransport::Write(const char* buf, size_t size) {
  if (ssl_ == nullptr) return {IoStatus::kError, 0};
  ERR_clear_error();
  size_t n = 0;
  const int ret = SSL_write_ex(ssl_, buf, size, &n);
  return Outcome(ret, n);
}

bool TlsTransport::HasBufferedInput() const {
  return ssl_ != nullptr && SSL_pending(ssl_) > 0;
}

void TlsTransport::Close() {
  if (ssl_ != nullptr && established_) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // sends close_notify; the socket is non-blocking, no waiting
    ERR_clear_error();
  }
}

}  // namespace intentstream::serve
