// The connection loop over a transport in memory (as the fuzz target drives it): each
// pipelined request gets its response, in order, and the loop ends with the input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "serve/connection_stream.h"
#include "serve/http_listener.h"
#include "support/http_client.h"

namespace intentstream::serve {
namespace {

using ::testing::HasSubstr;

class RecordingTransport final : public Transport {
 public:
  explicit RecordingTransport(std::string input) : input_(std::move(input)) {}
  IoResult Read(char* buf, size_t size) override {
    if (pos_ == input_.size()) return {IoStatus::kClosed, 0};
    const size_t n = std::min(size, input_.size() - pos_);
    std::memcpy(buf, input_.data() + pos_, n);
    pos_ += n;
    return {IoStatus::kDone, n};
  }
  IoResult Write(const char* buf, size_t size) override {
    output.append(buf, size);
    return {IoStatus::kDone, size};
  }
  int fd() const override { return -1; }
  std::string output;

 private:
  std::string input_;
  size_t pos_ = 0;
};

std::string Serve(const std::string& input) {
  std::vector<HttpRoute> routes;
  routes.push_back({"/healthz", RouteClass::kOps, [](const HttpRequest&) {
                      return HttpResponse{200, "application/json", "{\"status\":\"ok\"}"};
                    }});
  routes.push_back({"/v1/visitors/", RouteClass::kData, [](const HttpRequest& r) {
                      return HttpResponse{200, "application/json", JsonQuote(r.query)};
                    }});
  HttpServerOptions options;
  options.bearer_token = "memory-token-0123456789";
  HttpListener listener(options, std::move(routes), nullptr);
  RecordingTransport transport(input);
  ConnectionStream stream(transport, -1, listener.read_timeout(), listener.write_timeout());
  listener.ServeConnection(stream);
  return transport.output;
}

TEST(HttpConnection, PipelinedRequestsAreAnsweredInOrder) {
  const std::string out = Serve(
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /v1/visitors/a?type=customer HTTP/1.1\r\nHost: x\r\n"
      "Authorization: Bearer memory-token-0123456789\r\n\r\n"
      "GET /v1/visitors/a HTTP/1.1\r\nHost: x\r\n\r\n"
      "DELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  const size_t first = out.find("HTTP/1.1 200");
  const size_t second = out.find("\"type=customer\"");
  const size_t third = out.find("HTTP/1.1 401");
  const size_t fourth = out.find("HTTP/1.1 405");
  ASSERT_NE(first, std::string::npos) << out;
  ASSERT_NE(second, std::string::npos) << out;
  ASSERT_NE(third, std::string::npos) << out;
  ASSERT_NE(fourth, std::string::npos) << out;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_LT(third, fourth);
}

TEST(HttpConnection, MalformedOrTruncatedInputEndsTheConnection) {
  EXPECT_THAT(Serve("BREW /pot HTTP/1.1\r\n\r\n"), HasSubstr("HTTP/1.1 400"));
  // The client ended its side in the middle of the headers: 400, once.
  const std::string cut = Serve("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Cut:");
  EXPECT_EQ(cut.rfind("HTTP/1.1 400", 0), 0u) << cut;
  EXPECT_EQ(cut.find("HTTP/1.1", 1), std::string::npos) << cut;
  EXPECT_THAT(Serve("GET /heal"), HasSubstr("HTTP/1.1 400"));
  EXPECT_EQ(Serve(""), "") << "nothing asked, nothing answered";
}

}  // namespace
}  // namespace intentstream::serve
