// TLS for the HTTP endpoint (OpenSSL): the server context loaded from PEM files, and a
// non-blocking TLS session over an accepted socket for ConnectionStream.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "serve/connection_stream.h"
#include "serve/http_server.h"

struct ssl_ctx_st;
struct ssl_st;

namespace intentstream::serve {

// TLS 1.2 or later, no compression or renegotiation, the server's cipher order. The
// certificate file holds the chain (leaf first); an encrypted key is refused rather than
// prompting for a passphrase.
class TlsContext {
 public:
  // The context, or nullptr with `problem` saying which file is wrong and why.
  static std::unique_ptr<TlsContext> Load(const std::string& cert_file, const std::string& key_file,
                                          TlsProblem* problem);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  ssl_ctx_st* get() const { return ctx_; }

 private:
  explicit TlsContext(ssl_ctx_st* ctx) : ctx_(ctx) {}
  ssl_ctx_st* ctx_;
};

class TlsTransport final : public Transport {
 public:
  TlsTransport(const TlsContext& context, int fd);
  ~TlsTransport() override;
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  IoResult Handshake() override;
  IoResult Read(char* buf, size_t size) override;
  IoResult Write(const char* buf, size_t size) override;
  bool HasBufferedInput() const override;
  void Close() override;
  int fd() const override { return fd_; }

 private:
  IoResult Outcome(int ret, size_t bytes);

  ssl_st* ssl_;
  int fd_;
  bool established_ = false;
};

}  // namespace intentstream::serve
