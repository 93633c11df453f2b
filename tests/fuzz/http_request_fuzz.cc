// libFuzzer target for the HTTP request path: the input is everything a client sends on
// one connection. It goes through the server's own connection loop
// (HttpListener::ServeConnection: the deadline stream, cpp-httplib's request parsing,
// keep-alive, our routing, the bearer-token check, the method check, the data-route
// limit, the handlers and response writing), with the routes the processor registers:
// /metrics from a real ProcessorProbe, /healthz, /readyz, and a token-protected
// /v1/visitors/ whose handler quotes the decoded path and query back as JSON.
//
// Only the socket is replaced, by the bytes in memory; nothing waits, so a run is
// deterministic. The seeds in corpus/http_request_fuzz/ use the token below.
#include <prometheus/registry.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "serve/connection_stream.h"
#include "serve/http_listener.h"
#include "serve/metrics_endpoint.h"
#include "serve/processor_probe.h"

namespace {

using namespace intentstream::serve;

constexpr const char* kToken = "fuzz-token-0123456789abcdef";

// The client's bytes in, the server's bytes counted (and dropped).
class MemoryTransport final : public Transport {
 public:
  MemoryTransport(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  IoResult Read(char* buf, size_t size) override {
    if (pos_ == size_) return {IoStatus::kClosed, 0};
    const size_t n = std::min(size, size_ - pos_);
    std::memcpy(buf, data_ + pos_, n);
    pos_ += n;
    return {IoStatus::kDone, n};
  }
  IoResult Write(const char*, size_t size) override {
    written_ += size;
    return {IoStatus::kDone, size};
  }
  int fd() const override { return -1; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  size_t written_ = 0;
};

struct Server {
  Server() {
    InputTopicNames topics;
    topics.by_kind = {"web-events", "app-events", "identity-links", "customer-profiles",
                      "identity-handoff"};
    probe = std::make_unique<ProcessorProbe>(*registry, topics,
                                             std::vector<std::string>{"dead-letters"}, "fuzz");
    std::vector<HttpRoute> routes;
    routes.push_back({"/metrics", RouteClass::kOps, MetricsHandler(registry)});
    routes.push_back({"/healthz", RouteClass::kOps, [](const HttpRequest&) {
                        return HttpResponse{200, "application/json", "{\"status\":\"ok\"}"};
                      }});
    routes.push_back({"/readyz", RouteClass::kOps, [](const HttpRequest&) {
                        return HttpResponse{503, "application/json", "{\"status\":\"not ready\"}"};
                      }});
    routes.push_back({"/v1/visitors/", RouteClass::kData, [](const HttpRequest& r) {
                        return HttpResponse{200, "application/json",
                                            "{\"path\":" + JsonQuote(r.path) +
                                                ",\"query\":" + JsonQuote(r.query) + "}"};
                      }});
    HttpServerOptions options;
    options.bearer_token = kToken;
    options.max_requests_per_connection = 8;
    listener = std::make_unique<HttpListener>(options, std::move(routes), nullptr);
  }

  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<ProcessorProbe> probe;
  std::unique_ptr<HttpListener> listener;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Server* server = new Server;  // built once; lives as long as the fuzzer
  MemoryTransport transport(data, size);
  ConnectionStream stream(transport, /*stop_fd=*/-1, server->listener->read_timeout(),
                          server->listener->write_timeout());
  server->listener->ServeConnection(stream);
  return 0;
}
