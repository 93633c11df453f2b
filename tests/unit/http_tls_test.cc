// TLS on the HTTP endpoint: a handshake and requests over loopback with a certificate
// generated here, and certificate and key files that cannot be served.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "serve/http_server.h"
#include "support/http_client.h"
#include "support/temp_dir.h"
#include "support/tls.h"

namespace intentstream::serve {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr const char* kToken = "tls-test-token-0123456789";

class HttpTls : public ::testing::Test {
 protected:
  HttpTls() {
    cert_ = dir_.Sub("server.crt");
    key_ = dir_.Sub("server.key");
    EXPECT_TRUE(testing::WriteTestCertificate(cert_, key_));
  }
  void Start(int read_timeout_ms = 5000) {
    server_.Route("/healthz", RouteClass::kOps, [](const HttpRequest&) {
      return HttpResponse{200, "application/json", "{\"status\":\"ok\"}"};
    });
    server_.Route("/v1/visitors/", RouteClass::kData, [](const HttpRequest& r) {
      return HttpResponse{200, "application/json", JsonQuote(r.path)};
    });
    HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    o.tls_cert_file = cert_;
    o.tls_key_file = key_;
    o.bearer_token = kToken;
    o.read_timeout_ms = read_timeout_ms;
    server_.Start(o);
  }

  testing::TempDir dir_;
  std::string cert_;
  std::string key_;
  HttpServer server_;
};

TEST_F(HttpTls, HandshakeAndRequestsOverLoopback) {
  Start();
  EXPECT_TRUE(server_.tls());
  const auto health =
      testing::TlsRequest(server_.port(), cert_,
                          "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(health.handshake);
  EXPECT_THAT(health.protocol, ::testing::AnyOf("TLSv1.2", "TLSv1.3"));
  EXPECT_EQ(health.response.status, 200);
  EXPECT_EQ(health.response.body, R"({"status":"ok"})");
  const auto lookup = testing::TlsRequest(
      server_.port(), cert_,
      std::string("GET /v1/visitors/anon-7 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                  "Authorization: Bearer ") +
          kToken + "\r\n\r\n");
  EXPECT_EQ(lookup.response.status, 200);
  EXPECT_EQ(lookup.response.body, R"("/v1/visitors/anon-7")");
  const auto anonymous = testing::TlsRequest(
      server_.port(), cert_,
      "GET /v1/visitors/anon-7 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(anonymous.response.status, 401);
}

TEST_F(HttpTls, PlainHttpGetsNoAnswer) {
  Start();
  const auto r = testing::HttpGet(server_.port(), "/healthz", "", 3s);
  EXPECT_EQ(r.status, 0) << "a plain request on the TLS port was answered in plain text";
}

TEST_F(HttpTls, StalledHandshakeIsCutAtTheReadTimeout) {
  Start(300);
  testing::RawConnection c(server_.port());
  ASSERT_TRUE(c.Send(std::string("\x16\x03\x01", 3)));  // the start of a ClientHello
  EXPECT_TRUE(c.WaitClosed(3s)) << "a handshake that never finishes held its connection";
  EXPECT_EQ(testing::HttpGet(server_.port(), "/healthz", "", 1s).status, 0);  // still TLS only
}

TEST_F(HttpTls, FilesThatCannotBeServedAreNamed) {
  using File = TlsProblem::File;
  EXPECT_FALSE(CheckTlsFiles(cert_, key_)) << "the generated pair is good";

  auto p = CheckTlsFiles(dir_.Sub("missing.crt"), key_);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->file, File::kCertificate);
  EXPECT_THAT(p->message, HasSubstr("cannot read '" + dir_.Sub("missing.crt") + "'"));

  std::ofstream(dir_.Sub("garbage.crt")) << "not a certificate\n";
  p = CheckTlsFiles(dir_.Sub("garbage.crt"), key_);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->file, File::kCertificate);
  EXPECT_THAT(p->message, HasSubstr("is not a PEM certificate chain"));

  p = CheckTlsFiles(cert_, dir_.Sub("missing.key"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->file, File::kKey);

  p = CheckTlsFiles(cert_, cert_);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->file, File::kKey);
  EXPECT_THAT(p->message, HasSubstr("is not an unencrypted PEM private key"));

  ASSERT_TRUE(testing::WriteTestCertificate(dir_.Sub("other.crt"), dir_.Sub("other.key")));
  p = CheckTlsFiles(cert_, dir_.Sub("other.key"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->file, File::kKey);
  EXPECT_THAT(p->message, HasSubstr("does not match the certificate"));

  p = CheckTlsFiles("", key_);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->file, File::kCertificate);

  HttpServer server;
  HttpServerOptions o;
  o.tls_cert_file = cert_;
  o.tls_key_file = dir_.Sub("other.key");
  EXPECT_THROW(server.Start(o), std::runtime_error);
}

}  // namespace
}  // namespace intentstream::serve
