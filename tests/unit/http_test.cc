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

TEST(HttpServer, RoutesExactAndPrefixPathsAnd404sTheRest) {
  HttpServer server;
  server.Route("/healthz", [](const HttpRequest&) {
    return HttpResponse{200, "application/json", "{}"};
  });
  server.Route("/v1/items/", [](const HttpRequest& r) {
    return HttpResponse{200, "text/plain", r.path.substr(std::string("/v1/items/").size())};
  });
  server.Start("127.0.0.1:0", 2);
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
  server.Route("/v1/things/", [](const HttpRequest&) {
    return HttpResponse{404, "application/json", R"({"error":"unknown thing","partition":3})"};
  });
  server.Start("127.0.0.1:0", 1);
  const auto r = testing::HttpGet(server.port(), "/v1/things/x");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":"unknown thing","partition":3})");
  EXPECT_EQ(testing::HttpGet(server.port(), "/elsewhere").body, R"({"error":"no such endpoint"})");
}

TEST(HttpServer, HandlerExceptionIs500) {
  HttpServer server;
  server.Route("/boom",
               [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("bad \"x\""); });
  server.Start("127.0.0.1:0", 1);
  const auto r = testing::HttpGet(server.port(), "/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, R"({"error":"bad \"x\""})");
}

TEST(HttpServer, BusyPortIsReported) {
  HttpServer first;
  first.Start("127.0.0.1:0", 1);
  HttpServer second;
  EXPECT_THROW(second.Start("127.0.0.1:" + std::to_string(first.port()), 1), std::runtime_error);
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
  server.Route("/metrics", MetricsHandler(registry));
  server.Start("127.0.0.1:0", 1);
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
