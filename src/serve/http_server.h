// The process's one HTTP endpoint: /metrics, health and the lookup API share a port.
// Routes are registered before Start(); handlers run on the server's worker threads, so
// they must be thread-safe and must not block for long.
//
// Built on cpp-httplib. (civetweb, which prometheus-cpp's exposer uses, starts its
// workers with a small fixed stack; with LibTorch and OpenBLAS in the process their
// static thread-local storage no longer fits and the server cannot start.)
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace intentstream::serve {

struct HttpRequest {
  std::string method;
  std::string path;   // decoded path without query
  std::string query;  // raw query string
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

using HttpHandlerFn = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  HttpServer();
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // `prefix` ending in '/' matches every path under it; otherwise the exact path.
  void Route(std::string prefix, HttpHandlerFn handler);
  // Binds `listen` ("127.0.0.1:9464", port 0 = any free port) and starts serving.
  // Throws std::runtime_error when the address can't be bound.
  void Start(const std::string& listen, int threads);
  void Stop();
  // The bound port (useful with port 0).
  int port() const { return port_; }

 private:
  std::vector<std::pair<std::string, HttpHandlerFn>> routes_;
  std::unique_ptr<httplib::Server> server_;
  std::thread listener_;
  int port_ = 0;
};

// Minimal JSON string quoting for handler bodies.
std::string JsonQuote(std::string_view s);

}  // namespace intentstream::serve
