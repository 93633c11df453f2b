// The process's one HTTP endpoint: /metrics, health and the lookup API share a port.
// Routes are registered before Start(); handlers run on the server's connection threads,
// so they must be thread-safe and must not block for long.
//
// What a client can and cannot do to it (docs/operations.md, "HTTP endpoint"):
//   - at most `max_connections` connections are served at once, each on its own thread;
//     a connection beyond that is answered 503 and closed at once by the accepting
//     thread, never queued;
//   - a request must arrive in full within `read_timeout_ms` of the connection opening
//     or of the previous response, however the client paces its bytes (a deadline per
//     request, not per read); a late one is answered 408 and the connection closed;
//     a response must be written within `write_timeout_ms`;
//   - at most `max_data_requests` data-route handlers (the lookup API) run at once;
//     more are answered 503 at once, so they never take the threads that health and
//     metrics need;
//   - data routes need `Authorization: Bearer <token>` when a token is configured
//     (401 when missing, 403 when wrong; compared in constant time); ops routes are open;
//   - with a certificate and key, the port speaks TLS (1.2 or later) only.
//
// Built on cpp-httplib for request parsing and response writing; connections, deadlines
// and TLS (OpenSSL) are ours, because the library's own read timeout applies to each
// read: a client sending one header line per timeout holds a worker for ever. (civetweb,
// which prometheus-cpp's exposer uses, starts its workers with a small fixed stack; with
// LibTorch and OpenBLAS in the process their static thread-local storage no longer fits
// and the server cannot start.)
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace intentstream::serve {

struct HttpRequest {
  std::string method;  // GET or HEAD: other methods never reach a handler
  std::string path;    // decoded path without query
  std::string query;   // raw query string
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

using HttpHandlerFn = std::function<HttpResponse(const HttpRequest&)>;

// Who may call a route and how it is scheduled.
enum class RouteClass {
  kOps,   // /healthz, /readyz, /metrics: open, never limited, for probes and scrapers
  kData,  // the lookup API: bearer token when configured, at most max_data_requests at once
};

struct HttpRoute {
  std::string prefix;  // ending in '/': every path under it; otherwise the exact path
  RouteClass route_class = RouteClass::kOps;
  HttpHandlerFn handler;
};

struct HttpServerOptions {
  // "host:port" (IPv6 as "[::1]:port"); port 0 = any free port.
  std::string listen = "127.0.0.1:0";
  // Connections served at once; more are answered 503 and closed. Default: 64.
  int max_connections = 64;
  // Data-route handlers running at once; more are answered 503. Default: 4.
  int max_data_requests = 4;
  // A request must arrive in full within this many ms of the connection opening or of
  // the previous response on it; TLS handshakes too. Default: 5000.
  int read_timeout_ms = 5000;
  // A response must be written within this many ms. Default: 5000.
  int write_timeout_ms = 5000;
  // Requests served on one keep-alive connection before it is closed. Default: 100.
  int max_requests_per_connection = 100;
  // Token that data routes require; empty: data routes are open (the processor's
  // configuration allows that on loopback addresses only).
  std::string bearer_token;
  // PEM certificate chain and private key; both empty: plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
};

struct ListenAddress {
  std::string host;  // without brackets
  int port = 0;      // 0..65535
};

// Parses "host:port" / "[v6]:port". Returns nullopt and sets `error` when the form or
// the port (a decimal number in 0..65535) is wrong.
std::optional<ListenAddress> ParseListenAddress(std::string_view listen, std::string* error);

// Why a certificate/key pair cannot be served, or nothing when it can.
struct TlsProblem {
  enum class File { kCertificate, kKey };
  File file;
  std::string message;
};
std::optional<TlsProblem> CheckTlsFiles(const std::string& cert_file, const std::string& key_file);

class HttpListener;

class HttpServer {
 public:
  HttpServer();
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // `prefix` ending in '/' matches every path under it; otherwise the exact path.
  void Route(std::string prefix, RouteClass route_class, HttpHandlerFn handler);
  // Binds and starts serving. Throws std::runtime_error when the address can't be bound
  // or the TLS files can't be loaded, std::invalid_argument for malformed options.
  void Start(const HttpServerOptions& options);
  // Stops accepting, wakes every connection and joins the threads (handlers finish).
  void Stop();
  // The bound port (useful with port 0).
  int port() const { return port_; }
  bool tls() const { return tls_; }

 private:
  std::vector<HttpRoute> routes_;
  std::unique_ptr<HttpListener> listener_;
  std::thread accept_thread_;
  int port_ = 0;
  bool tls_ = false;
};

// Minimal JSON string quoting for handler bodies.
std::string JsonQuote(std::string_view s);

}  // namespace intentstream::serve
