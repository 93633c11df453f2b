// The processor's own HTTP routes (as registered in runtime/processor.cc), before and
// without a run: the lookup API needs the token, the ops routes stay open, and other
// methods are refused with 405.
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "runtime/embedded_cluster.h"
#include "runtime/processor.h"
#include "support/http_client.h"
#include "support/temp_dir.h"

namespace intentstream::runtime {
namespace {

constexpr const char* kToken = "processor-test-token-0123456789";

TEST(HttpProcessorRoutes, LookupNeedsTheTokenOpsRoutesStayOpen) {
  testing::TempDir dir;
  EmbeddedCluster cluster;
  ProcessorOptions options;
  cluster.CreateTopics(options.topics.All(), 2);
  options.store.dir = dir.Sub("state");
  options.http_listen = "127.0.0.1:0";
  options.http_auth_token = kToken;
  LogSink sink(LogSink::Format::kText, LogLevel::kWarn);
  Processor processor(options, cluster.bootstrap_servers(), &sink,
                      std::make_shared<prometheus::Registry>(), nullptr, nullptr);
  const int port = processor.http_port();
  EXPECT_EQ(testing::HttpGet(port, "/healthz").status, 200);
  EXPECT_EQ(testing::HttpGet(port, "/metrics").status, 200);
  EXPECT_EQ(testing::HttpGet(port, "/readyz").status, 503) << "not ready before a run";
  EXPECT_EQ(testing::HttpGet(port, "/v1/visitors/anon-1").status, 401);
  EXPECT_EQ(testing::HttpGet(port, "/v1/visitors/anon-1", "Authorization: Bearer nope\r\n").status,
            403);
  const auto lookup = testing::HttpGet(port, "/v1/visitors/anon-1",
                                       std::string("Authorization: Bearer ") + kToken + "\r\n");
  EXPECT_EQ(lookup.status, 503) << "authenticated, answered by the lookup: not ready yet";
  EXPECT_EQ(lookup.body, R"({"error":"not ready: no partitions assigned"})");
  EXPECT_EQ(testing::HttpRequest(port, "OPTIONS", "/healthz").status, 405);
  EXPECT_EQ(testing::HttpRequest(port, "PATCH", "/metrics").status, 405);
}

}  // namespace
}  // namespace intentstream::runtime
