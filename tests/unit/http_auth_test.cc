// Bearer-token authentication of the data routes; the ops routes stay open.
#include <gtest/gtest.h>

#include "serve/bearer_auth.h"
#include "serve/http_server.h"
#include "support/http_client.h"

namespace intentstream::serve {
namespace {

constexpr const char* kToken = "0123456789abcdef-test.token~+/=";

TEST(HttpAuth, BearerCheckOutcomes) {
  const BearerAuth auth(kToken);
  using O = BearerAuth::Outcome;
  EXPECT_TRUE(auth.enabled());
  for (const char* missing : {"", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer    ",
                              "Bearer0123456789abcdef-test.token~+/="}) {
    EXPECT_EQ(auth.Check(missing), O::kMissing) << "'" << missing << "'";
  }
  for (const char* wrong : {"Bearer x", "Bearer 0123456789abcdef-test.token~+/",
                            "Bearer "
                            "0123456789abcdef-test.token~+/==",
                            "Bearer 0123456789ABCDEF-test.token~+/="}) {
    EXPECT_EQ(auth.Check(wrong), O::kWrong) << wrong;
  }
  EXPECT_EQ(auth.Check(std::string("Bearer ") + kToken), O::kAllowed);
  EXPECT_EQ(auth.Check(std::string("bearer ") + kToken), O::kAllowed) << "scheme case";
  EXPECT_EQ(auth.Check(std::string("BEARER   ") + kToken + "  "), O::kAllowed) << "spaces";
  const BearerAuth off("");
  EXPECT_FALSE(off.enabled());
  EXPECT_EQ(off.Check(""), O::kAllowed);
}

class HttpAuthServer : public ::testing::Test {
 protected:
  HttpAuthServer() {
    server_.Route("/healthz", RouteClass::kOps, Ok);
    server_.Route("/metrics", RouteClass::kOps, Ok);
    server_.Route("/v1/visitors/", RouteClass::kData, Ok);
    HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    o.bearer_token = kToken;
    server_.Start(o);
  }
  static HttpResponse Ok(const HttpRequest&) { return HttpResponse{200, "application/json", "{}"}; }
  testing::HttpResult Get(const std::string& path, const std::string& headers = "") {
    return testing::HttpGet(server_.port(), path, headers);
  }

  HttpServer server_;
};

TEST_F(HttpAuthServer, MissingTokenIs401WithAChallenge) {
  for (const char* headers :
       {"", "Authorization: Basic dXNlcjpwYXNz\r\n", "Authorization: Bearer\r\n"}) {
    const auto r = Get("/v1/visitors/anon-1", headers);
    EXPECT_EQ(r.status, 401) << headers;
    EXPECT_EQ(r.Header("WWW-Authenticate"), "Bearer realm=\"intentstream\"") << headers;
    EXPECT_EQ(r.body, R"({"error":"a bearer token is required"})");
  }
}

TEST_F(HttpAuthServer, WrongTokenIs403) {
  const auto r = Get("/v1/visitors/anon-1", "Authorization: Bearer not-the-token-at-all\r\n");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.Header("WWW-Authenticate"), "Bearer realm=\"intentstream\", error=\"invalid_token\"");
  EXPECT_EQ(r.body, R"({"error":"the bearer token is not accepted"})");
}

TEST_F(HttpAuthServer, RightTokenIs200) {
  EXPECT_EQ(
      Get("/v1/visitors/anon-1", std::string("Authorization: Bearer ") + kToken + "\r\n").status,
      200);
  EXPECT_EQ(testing::HttpRequest(server_.port(), "HEAD", "/v1/visitors/anon-1",
                                 std::string("Authorization: Bearer ") + kToken + "\r\n")
                .status,
            200);
}

TEST_F(HttpAuthServer, AuthenticationComesBeforeTheMethodCheck) {
  EXPECT_EQ(testing::HttpRequest(server_.port(), "PATCH", "/v1/visitors/anon-1").status, 401);
  EXPECT_EQ(testing::HttpRequest(server_.port(), "PATCH", "/v1/visitors/anon-1",
                                 std::string("Authorization: Bearer ") + kToken + "\r\n")
                .status,
            405);
}

TEST_F(HttpAuthServer, OpsRoutesStayOpen) {
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Get("/metrics").status, 200);
  EXPECT_EQ(Get("/healthz", "Authorization: Bearer wrong\r\n").status, 200);
}

}  // namespace
}  // namespace intentstream::serve
