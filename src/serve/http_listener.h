// The server behind HttpServer: cpp-httplib parses requests and writes responses; this
// class owns what the library does per connection (threads, deadlines, TLS) and routes
// every request itself, before the library would read a body or match a pattern.
//
// Routing, in order: no route for the path -> 404 (OPTIONS * -> 405); a data route with
// a token configured and no or a wrong bearer token -> 401 / 403; a method other than GET
// or HEAD -> 405 with Allow; a data route with max_data_requests handlers already running
// -> 503; otherwise the handler (an exception in it -> 500). No route takes a request
// body, so a request that announces one is answered without reading it and its
// connection closed. (Routing here also keeps paths away from std::regex, whose
// recursion depth grows with the subject's length.)
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "serve/bearer_auth.h"
#include "serve/connection_stream.h"
#include "serve/http_server.h"
#include "serve/tls_transport.h"

namespace intentstream::serve {

class HttpListener final : public httplib::Server {
 public:
  // `tls` may be null (plain HTTP). Throws std::runtime_error when the stop event can't
  // be created.
  HttpListener(const HttpServerOptions& options, std::vector<HttpRoute> routes,
               std::unique_ptr<TlsContext> tls);
  ~HttpListener() override;

  // Binds the address; returns the bound port, -1 when it can't be bound.
  int Bind(const ListenAddress& address);
  // Accepts connections on the calling thread until Stop().
  void AcceptLoop();
  // Wakes every connection's waits, stops accepting. AcceptLoop() then returns once the
  // connection threads have finished.
  void Stop();

  // Serves requests from `stream` until the client closes, a deadline passes, the
  // per-connection request limit is reached or the server stops. Socket connections and
  // the fuzz target both come through here.
  void ServeConnection(ConnectionStream& stream);

  std::chrono::milliseconds read_timeout() const { return read_timeout_; }
  std::chrono::milliseconds write_timeout() const { return write_timeout_; }
  int stop_fd() const { return stop_fd_; }

 private:
  bool process_and_close_socket(socket_t sock) override;
  // Answers a connection that no thread is free for, without reading it.
  void Refuse(int fd) const;
  HandlerResponse Dispatch(const httplib::Request& req, httplib::Response& res);
  const HttpRoute* Find(const std::string& path) const;

  std::vector<HttpRoute> routes_;
  std::unique_ptr<TlsContext> tls_;
  BearerAuth auth_;
  std::chrono::milliseconds read_timeout_;
  std::chrono::milliseconds write_timeout_;
  int max_requests_per_connection_;
  int max_data_requests_;
  std::atomic<int> data_requests_{0};
  int stop_fd_ = -1;
  // The thread running AcceptLoop(): a connection handler that runs there is one the
  // pool had no thread for (ConnectionPool runs those inline).
  std::thread::id accept_thread_;
};

}  // namespace intentstream::serve
