#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "serve/http_server.h"
#include "serve/metrics_endpoint.h"
#include "serve/processor_probe.h"
#include "support/http_client.h"

namespace intentstream::serve {
namespace {

using ::testing::HasSubstr;

HttpServerOptions Loopback() {
  HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  return options;
}

HttpResponse Ok(const HttpRequest&) {
  return HttpResponse{200, "application/json", "{}"};
}

TEST(HttpServer, RoutesExactAndPrefixPathsAnd404sTheRest) {
  HttpServer server;
  server.Route("/healthz", RouteClass::kOps, Ok);
  server.Route("/v1/items/", RouteClass::kData, [](const HttpRequest& r) {
    return HttpResponse{200, "text/plain", r.path.substr(std::string("/v1/items/").size())};
  });
  server.Start(Loopback());
  ASSERT_GT(server.port(), 0);
  EXPECT_EQ(testing::HttpGet(server.port(), "/healthz").status, 200);
  const auto item = testing::HttpGet(server.port(), "/v1/items/abc");
  EXPECT_EQ(item.status, 200);
  EXPECT_EQ(item.body, "abc");
  EXPECT_EQ(testing::HttpGet(server.port(), "/nothing-here").status, 404);
  EXPECT_EQ(testing::HttpGet(server.port(), "/healthz/extra").status, 404);
}

TEST(HttpServer, ARoutes404KeepsItsOwnBody) {
  HttpServer server;
  server.Route("/v1/things/", RouteClass::kData, [](const HttpRequest&) {
    return HttpResponse{404, "application/json", R"({"error":"unknown thing","partition":3})"};
  });
  server.Start(Loopback());
  const auto r = testing::HttpGet(server.port(), "/v1/things/x");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":"unknown thing","partition":3})");
  EXPECT_EQ(testing::HttpGet(server.port(), "/elsewhere").body, R"({"error":"no such endpoint"})");
}

TEST(HttpServer, HandlerExceptionIs500) {
  HttpServer server;
  server.Route("/boom", RouteClass::kOps,
               [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("bad \"x\""); });
  server.Start(Loopback());
  const auto r = testing::HttpGet(server.port(), "/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, R"({"error":"bad \"x\""})");
}

TEST(HttpServer, BusyPortIsReported) {
  HttpServer first;
  first.Start(Loopback());
  HttpServer second;
  HttpServerOptions same = Loopback();
  same.listen = "127.0.0.1:" + std::to_string(first.port());
  EXPECT_THROW(second.Start(same), std::runtime_error);
}

TEST(HttpServer, OtherMethodsAre405WithAllow) {
  HttpServer server;
  server.Route("/healthz", RouteClass::kOps, Ok);
  server.Route("/v1/items/", RouteClass::kData, Ok);
  server.Start(Loopback());
  for (const char* method : {"PATCH", "OPTIONS", "POST", "PUT", "DELETE", "TRACE"}) {
    for (const char* path : {"/healthz", "/v1/items/x"}) {
      const auto r = testing::HttpRequest(server.port(), method, path);
      EXPECT_EQ(r.status, 405) << method << " " << path;
      EXPECT_EQ(r.Header("Allow"), "GET, HEAD") << method << " " << path;
    }
  }
  EXPECT_EQ(testing::HttpRequest(server.port(), "PATCH", "/nothing-here").status, 404);
  const auto server_wide = testing::HttpRequest(server.port(), "OPTIONS", "*");
  EXPECT_EQ(server_wide.status, 405);
  EXPECT_EQ(server_wide.Header("Allow"), "GET, HEAD");
  const auto head = testing::HttpRequest(server.port(), "HEAD", "/healthz");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("Content-Length"), "2");
  EXPECT_EQ(head.body, "");
}

TEST(HttpServer, RequestWithABodyIsAnsweredAndItsConnectionClosed) {
  HttpServer server;
  server.Route("/healthz", RouteClass::kOps, Ok);
  server.Start(Loopback());
  // Keep-alive and a body no route reads: the answer must close the connection, not
  // parse the body as a next request.
  testing::RawConnection c(server.port());
  ASSERT_TRUE(
      c.Send("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 27\r\n\r\n"
             "GET /healthz HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(c.WaitClosed(std::chrono::seconds(5)));
  const auto r = testing::ParseHttpResponse(c.received());
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("Connection"), "close");
  EXPECT_EQ(c.received().find("HTTP/1.1", 1), std::string::npos) << c.received();
}

TEST(HttpServer, KeepAliveConnectionServesSeveralRequests) {
  HttpServer server;
  server.Route("/healthz", RouteClass::kOps, Ok);
  server.Start(Loopback());
  testing::RawConnection c(server.port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(c.ReadResponse(std::chrono::seconds(5)).status, 200) << "request " << i;
  }
}

TEST(HttpServer, ListenAddressIsChecked) {
  std::string error;
  const auto ok = ParseListenAddress("0.0.0.0:9464", &error);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->host, "0.0.0.0");
  EXPECT_EQ(ok->port, 9464);
  const auto v6 = ParseListenAddress("[::1]:0", &error);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  for (const char* bad : {"127.0.0.1:99999", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:http",
                          "127.0.0.1:", "127.0.0.1", ":9464", "::1:9464", "[::1]9464",
                          "127.0.0.1:+80", "127.0.0.1:80x"}) {
    EXPECT_FALSE(ParseListenAddress(bad, &error)) << bad;
  }
  ParseListenAddress("127.0.0.1:99999", &error);
  EXPECT_EQ(error, "port '99999' is not a number in 0..65535");
  HttpServer server;
  HttpServerOptions options;
  options.listen = "127.0.0.1:99999";
  EXPECT_THROW(server.Start(options), std::invalid_argument);
}

TEST(ProcessorProbe, ScrapeShowsPreLabelledSeries) {
  auto registry = std::make_shared<prometheus::Registry>();
  InputTopicNames topics;
  topics.by_kind = {"web-events", "app-events", "identity-links", "customer-profiles",
                    "identity-handoff"};
  ProcessorProbe probe(*registry, topics, {"dead-letters", "identity-handoff"}, "1.2.3");
  probe.Accepted(ingest::TopicKind::kWeb);
  probe.Accepted(ingest::TopicKind::kWeb);
  probe.DeadLettered(ingest::TopicKind::kApp, v1::DEAD_LETTER_REASON_TRUNCATED);
  probe.PartitionAssigned({"web-events", Partition{2}});
  probe.ConsumerLag({"web-events", Partition{2}}, 17);
  probe.OutputProduced(1, 3);
  probe.VisitorCache(true);

  HttpServer server;
  server.Route("/metrics", RouteClass::kOps, MetricsHandler(registry));
  server.Start(Loopback());
  const auto r = testing::HttpGet(server.port(), "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(
      r.body,
      HasSubstr(R"(intentstream_input_messages_total{outcome="accepted",topic="web-events"} 2)"));
  EXPECT_THAT(
      r.body,
      HasSubstr(
          R"(intentstream_input_messages_total{outcome="dead_letter",topic="app-events"} 1)"));
  EXPECT_THAT(r.body, HasSubstr(R"(intentstream_dead_letters_total{reason="truncated"} 1)"));
  EXPECT_THAT(
      r.body,
      HasSubstr(R"(intentstream_consumer_lag_messages{partition="2",topic="web-events"} 17)"));
  EXPECT_THAT(r.body, HasSubstr(R"(intentstream_build_info{version="1.2.3"} 1)"));
  EXPECT_THAT(r.body,
              HasSubstr(R"(intentstream_output_messages_total{topic="identity-handoff"} 3)"));
  EXPECT_THAT(r.body, HasSubstr(R"(intentstream_visitor_cache_requests_total{result="hit"} 1)"));
  EXPECT_THAT(r.body, HasSubstr(R"(intentstream_stage_seconds_count{stage="model"} 0)"));
  probe.PartitionRevoked({"web-events", Partition{2}});
  EXPECT_THAT(testing::HttpGet(server.port(), "/metrics").body,
              ::testing::Not(HasSubstr("intentstream_consumer_lag_messages{")));
}

}  // namespace
}  // namespace intentstream::serve
