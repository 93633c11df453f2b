#include "serve/http_server.h"

#include <charconv>
#include <chrono>
#include <stdexcept>

#include "serve/http_listener.h"
#include "serve/tls_transport.h"

namespace intentstream::serve {

std::optional<ListenAddress> ParseListenAddress(std::string_view listen, std::string* error) {
  ListenAddress out;
  std::string_view port;
  if (!listen.empty() && listen.front() == '[') {
    const size_t close = listen.find("]:");
    if (close == std::string_view::npos) {
      *error = "expected [IPv6 address]:port";
      return std::nullopt;
    }
    out.host = std::string(listen.substr(1, close - 1));
    port = listen.substr(close + 2);
  } else {
    const size_t colon = listen.rfind(':');
    if (colon == std::string_view::npos) {
      *error = "expected host:port";
      return std::nullopt;
    }
    out.host = std::string(listen.substr(0, colon));
    port = listen.substr(colon + 1);
    if (out.host.find(':') != std::string::npos) {
      *error = "an IPv6 address needs brackets: [address]:port";
      return std::nullopt;
    }
  }
  if (out.host.empty()) {
    *error = "the host is empty (0.0.0.0 listens on every address)";
    return std::nullopt;
  }
  const auto* end = port.data() + port.size();
  const auto [ptr, ec] = std::from_chars(port.data(), end, out.port);
  if (port.empty() || ec != std::errc() || ptr != end || out.port < 0 || out.port > 65535) {
    *error = "port '" + std::string(port) + "' is not a number in 0..65535";
    return std::nullopt;
  }
  return out;
}

HttpServer::HttpServer() = default;
HttpServer::~HttpServer() {
  Stop();
}

void HttpServer::Route(std::string prefix, RouteClass route_class, HttpHandlerFn handler) {
  routes_.push_back(HttpRoute{std::move(prefix), route_class, std::move(handler)});
}

void HttpServer::Start(const HttpServerOptions& options) {
  if (options.max_connections < 1 || options.max_data_requests < 1 || options.read_timeout_ms < 1 ||
      options.write_timeout_ms < 1 || options.max_requests_per_connection < 1) {
    throw std::invalid_argument("HTTP server: limits and timeouts must be at least 1");
  }
  std::string error;
  const auto address = ParseListenAddress(options.listen, &error);
  if (!address) throw std::invalid_argument("cannot listen on '" + options.listen + "': " + error);
  std::unique_ptr<TlsContext> tls;
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    TlsProblem problem;
    tls = TlsContext::Load(options.tls_cert_file, options.tls_key_file, &problem);
    if (!tls) {
      throw std::runtime_error(
          std::string("TLS ") +
          (problem.file == TlsProblem::File::kCertificate ? "certificate" : "private key") + ": " +
          problem.message);
    }
  }
  tls_ = tls != nullptr;
  listener_ = std::make_unique<HttpListener>(options, routes_, std::move(tls));
  port_ = listener_->Bind(*address);
  if (port_ <= 0) {
    listener_.reset();
    throw std::runtime_error("cannot listen on '" + options.listen +
                             "': address in use or not available");
  }
  accept_thread_ = std::thread([listener = listener_.get()] { listener->AcceptLoop(); });
  // stop() is a no-op until the accept loop runs: wait for it, so Stop() can't miss it.
  for (int i = 0; i < 5000 && !listener_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void HttpServer::Stop() {
  if (listener_) {
    listener_->Stop();
    if (accept_thread_.joinable()) accept_thread_.join();
    listener_.reset();
  }
}

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out += "\"";
  return out;
}

}  // namespace intentstream::serve
