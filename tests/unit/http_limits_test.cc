// The HTTP endpoint under slow, idle, greedy and too many clients, over loopback: health
// keeps answering, and every client is cut or refused within its bound.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "serve/http_server.h"
#include "support/http_client.h"
#include "support/wait.h"

namespace intentstream::serve {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

HttpResponse Ok(const HttpRequest&) {
  return HttpResponse{200, "application/json", "{\"status\":\"ok\"}"};
}

HttpServerOptions Options(int read_timeout_ms = 10000) {
  HttpServerOptions o;
  o.listen = "127.0.0.1:0";
  o.read_timeout_ms = read_timeout_ms;
  return o;
}

// Connections that each sent the start of a request and then nothing more.
std::vector<std::unique_ptr<testing::RawConnection>> SlowClients(int port, int n) {
  std::vector<std::unique_ptr<testing::RawConnection>> clients;
  for (int i = 0; i < n; ++i) {
    clients.push_back(std::make_unique<testing::RawConnection>(port));
    EXPECT_TRUE(clients.back()->Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow:"));
  }
  return clients;
}

TEST(HttpLimits, SlowClientsDoNotBlockHealth) {
  // Twice as many slow clients as the old server had threads; they would hold their
  // connections for the whole 10 s read timeout.
  HttpServer server;
  server.Route("/healthz", RouteClass::kOps, Ok);
  server.Start(Options());
  const auto slow = SlowClients(server.port(), 8);
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    const auto r = testing::HttpGet(server.port(), "/healthz", "", 2s);
    EXPECT_EQ(r.status, 200);
    EXPECT_LT(Clock::now() - start, 1s);
  }
}

TEST(HttpLimits, TricklingClientIsCutAtTheReadTimeout) {
  // One header line every 100 ms: each read is quick, the request never ends. A
  // per-read timeout would keep it for ever; the request deadline cuts it at 500 ms.
  HttpServer server;
  server.Route("/healthz", RouteClass::kOps, Ok);
  server.Start(Options(500));
  testing::RawConnection c(server.port());
  const auto start = Clock::now();
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  bool closed = false;
  for (int i = 0; i < 40 && !closed; ++i) {
    closed = c.WaitClosed(100ms) || !c.Send("X-Trickle: 1\r\n");
  }
  const auto held = Clock::now() - start;
  EXPECT_TRUE(closed) << "still connected after 4 s";
  EXPECT_GE(held, 450ms);
  EXPECT_LT(held, 2500ms);
  c.WaitClosed(1s);
  EXPECT_EQ(testing::ParseHttpResponse(c.received()).status, 408) << c.received();
}

TEST(HttpLimits, IdleConnectionIsClosedAtTheReadTimeout) {
  HttpServer server;
  server.Route("/healthz", RouteClass::kOps, Ok);
  server.Start(Options(300));
  testing::RawConnection c(server.port());
  const auto start = Clock::now();
  ASSERT_TRUE(c.WaitClosed(3s)) << "an idle connection was kept";
  EXPECT_GE(Clock::now() - start, 250ms);
  EXPECT_EQ(c.received(), "") << "nothing was asked, nothing is answered";
}

TEST(HttpLimits, ConnectionsBeyondTheCapAreRefusedAtOnce) {
  HttpServer server;
  server.Route("/healthz", RouteClass::kOps, Ok);
  HttpServerOptions o = Options();
  o.max_connections = 3;
  server.Start(o);
  // Three keep-alive connections, each answered once: each now holds a thread.
  std::vector<std::unique_ptr<testing::RawConnection>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<testing::RawConnection>(server.port()));
    ASSERT_TRUE(held.back()->Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    ASSERT_EQ(held.back()->ReadResponse(5s).status, 200);
  }
  const auto start = Clock::now();
  const auto refused = testing::HttpGet(server.port(), "/healthz", "", 5s);
  EXPECT_LT(Clock::now() - start, 1s) << "an extra connection waited instead of being refused";
  // 503 when the answer gets through before the refused connection closes.
  EXPECT_THAT(refused.status, ::testing::AnyOf(503, 0));
  if (refused.status == 503) {
    EXPECT_EQ(refused.Header("Retry-After"), "1");
  }
  held.pop_back();  // a thread becomes free
  EXPECT_TRUE(testing::WaitFor(
      [&] { return testing::HttpGet(server.port(), "/healthz", "", 2s).status == 200; }, 5s, 20ms));
}

// A data route whose handlers wait until the test lets them go.
class Gate {
 public:
  HttpResponse Pass(const HttpRequest&) {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.wait(lock, [&] { return open_; });
    return HttpResponse{200, "application/json", "{\"looked\":\"up\"}"};
  }
  int waiting() {
    std::lock_guard lock(mu_);
    return waiting_;
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int waiting_ = 0;
  bool open_ = false;
};

TEST(HttpLimits, BusyLookupsDoNotBlockHealthOrQueue) {
  Gate gate;
  HttpServer server;
  server.Route("/healthz", RouteClass::kOps, Ok);
  server.Route("/v1/visitors/", RouteClass::kData,
               [&gate](const HttpRequest& r) { return gate.Pass(r); });
  HttpServerOptions o = Options();
  o.max_data_requests = 2;
  server.Start(o);
  std::vector<std::thread> lookups;
  std::vector<int> statuses(2);
  for (int i = 0; i < 2; ++i) {
    lookups.emplace_back([&, i] {
      statuses[i] =
          testing::HttpGet(server.port(), "/v1/visitors/v" + std::to_string(i), "", 10s).status;
    });
  }
  ASSERT_TRUE(testing::WaitFor([&] { return gate.waiting() == 2; }, 5s, 10ms));
  auto start = Clock::now();
  const auto busy = testing::HttpGet(server.port(), "/v1/visitors/v3", "", 5s);
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.Header("Retry-After"), "1");
  start = Clock::now();
  EXPECT_EQ(testing::HttpGet(server.port(), "/healthz", "", 5s).status, 200);
  EXPECT_LT(Clock::now() - start, 1s);
  gate.Open();
  for (auto& t : lookups) t.join();
  EXPECT_THAT(statuses, ::testing::Each(200));
  EXPECT_EQ(testing::HttpGet(server.port(), "/v1/visitors/v4").status, 200) << "slots given back";
}

TEST(HttpLimits, ClientThatDoesNotReadIsCutAtTheWriteTimeout) {
  // One connection thread; a response far larger than the socket buffers to a client
  // that never reads: the thread is free again once the write timeout has passed.
  const std::string big(16 << 20, 'x');
  HttpServer server;
  server.Route("/healthz", RouteClass::kOps, Ok);
  server.Route("/big", RouteClass::kOps, [&big](const HttpRequest&) {
    return HttpResponse{200, "text/plain", big};
  });
  HttpServerOptions o = Options();
  o.max_connections = 1;
  o.write_timeout_ms = 300;
  server.Start(o);
  testing::RawConnection reader(server.port(), /*receive_buffer_bytes=*/4096);
  ASSERT_TRUE(reader.Send("GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  const auto start = Clock::now();
  EXPECT_TRUE(testing::WaitFor(
      [&] { return testing::HttpGet(server.port(), "/healthz", "", 2s).status == 200; }, 5s, 20ms));
  EXPECT_GE(Clock::now() - start, 250ms) << "the thread was free before the write timed out";
}

TEST(HttpLimits, StopEndsHeldConnectionsPromptly) {
  HttpServer server;
  server.Route("/healthz", RouteClass::kOps, Ok);
  server.Start(Options(60000));
  const auto slow = SlowClients(server.port(), 4);
  EXPECT_EQ(testing::HttpGet(server.port(), "/healthz").status, 200);
  const auto start = Clock::now();
  server.Stop();
  EXPECT_LT(Clock::now() - start, 2s);
  for (const auto& c : slow) EXPECT_TRUE(c->WaitClosed(1s));
}

}  // namespace
}  // namespace intentstream::serve
