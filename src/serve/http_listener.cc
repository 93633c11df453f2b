#include "serve/http_listener.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include "serve/connection_pool.h"
#include "serve/tls_transport.h"

namespace intentstream::serve {

namespace {

using HandlerResponse = httplib::Server::HandlerResponse;

// The library's default is 5; a burst of probes, scrapes and lookups deserves more.
constexpr int kListenBacklog = 128;

HttpResponse JsonError(int status, const std::string& message) {
  return HttpResponse{status, "application/json", "{\"error\":" + JsonQuote(message) + "}"};
}

void Write(const HttpResponse& from, httplib::Response& to) {
  to.status = from.status;
  to.set_content(from.body, from.content_type.c_str());
  to.set_header("Cache-Control", "no-store");
  to.set_header("X-Content-Type-Options", "nosniff");
}

const char* StatusText(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 404:
      return "no such endpoint";
    case 408:
      return "request timed out";
    case 413:
      return "request too large";
    case 414:
      return "request target too long";
    case 416:
      return "range not satisfiable";
    case 503:
      return "busy";
    default:
      return status >= 500 ? "internal error" : "request rejected";
  }
}

// A complete response for when cpp-httplib is not writing one (refusals, timeouts).
std::string CannedResponse(int status, const char* reason, const std::string& extra_headers) {
  const std::string body = "{\"error\":" + JsonQuote(StatusText(status)) + "}";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nCache-Control: no-store\r\n" + extra_headers + "Connection: close\r\n\r\n" + body;
}

bool AnnouncesBody(const httplib::Request& req) {
  return req.has_header("Transfer-Encoding") ||
         (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0");
}

// Gives a data-route slot back when the handler returns or throws.
class DataSlot {
 public:
  explicit DataSlot(std::atomic<int>* in_use) : in_use_(in_use) {}
  ~DataSlot() {
    if (in_use_ != nullptr) in_use_->fetch_sub(1);
  }
  DataSlot(const DataSlot&) = delete;
  DataSlot& operator=(const DataSlot&) = delete;

 private:
  std::atomic<int>* in_use_;
};

}  // namespace

HttpListener::HttpListener(const HttpServerOptions& options, std::vector<HttpRoute> routes,
                           std::unique_ptr<TlsContext> tls)
    : routes_(std::move(routes)),
      tls_(std::move(tls)),
      auth_(options.bearer_token),
      read_timeout_(options.read_timeout_ms),
      write_timeout_(options.write_timeout_ms),
      max_requests_per_connection_(options.max_requests_per_connection),
      max_data_requests_(options.max_data_requests) {
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) throw std::runtime_error("HTTP server: cannot create its stop event");
  // SO_REUSEADDR only: the library's default also sets SO_REUSEPORT, which would let a
  // second process share the port and answer half of the scrapes.
  set_socket_options([](socket_t sock) {
    const int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // What the Keep-Alive response header advertises (the loop below enforces it).
  set_keep_alive_max_count(static_cast<size_t>(options.max_requests_per_connection));
  set_keep_alive_timeout(std::max<time_t>(1, options.read_timeout_ms / 1000));
  const auto threads = static_cast<size_t>(options.max_connections);
  new_task_queue = [threads] { return new ConnectionPool(threads); };
  set_pre_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) { return Dispatch(req, res); });
  // Responses the library produces itself (400, 414, ...) get a JSON body too.
  set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) Write(JsonError(res.status, StatusText(res.status)), res);
  });
  // The library would put what() into a response header; say nothing instead.
  set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    Write(JsonError(500, "internal error"), res);
  });
}

HttpListener::~HttpListener() {
  if (stop_fd_ >= 0) close(stop_fd_);
}

int HttpListener::Bind(const ListenAddress& address) {
  const bool bound = address.port == 0 ? bind_to_any_port(address.host) > 0
                                       : bind_to_port(address.host, address.port);
  if (!bound) return -1;
  ::listen(svr_sock_, kListenBacklog);  // widens the backlog of the listening socket
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(svr_sock_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return -1;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return -1;
}

void HttpListener::AcceptLoop() {
  accept_thread_ = std::this_thread::get_id();
  listen_after_bind();
}

void HttpListener::Stop() {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(stop_fd_, &one, sizeof one);
  stop();
}

bool HttpListener::process_and_close_socket(socket_t sock) {
  if (std::this_thread::get_id() == accept_thread_) {
    Refuse(sock);
    return false;
  }
  fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
  const int yes = 1;
  setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  {
    std::unique_ptr<Transport> transport;
    if (tls_) {
      transport = std::make_unique<TlsTransport>(*tls_, sock);
    } else {
      transport = std::make_unique<SocketTransport>(sock);
    }
    ConnectionStream stream(*transport, stop_fd_, read_timeout_, write_timeout_);
    if (stream.Handshake()) ServeConnection(stream);
    transport->Close();
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return true;
}

void HttpListener::Refuse(int fd) const {
  if (!tls_) {  // a TLS client expects a handshake, not a plain answer: just close
    static const std::string refused =
        CannedResponse(503, "Service Unavailable", "Retry-After: 1\r\n");
    [[maybe_unused]] const ssize_t n =
        send(fd, refused.data(), refused.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  ::shutdown(fd, SHUT_WR);
  // Unread input turns close() into a reset, which can destroy the answer before the
  // client reads it: take what has arrived, without waiting.
  char buf[4096];
  for (int i = 0; i < 16 && recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0; ++i) {
  }
  ::close(fd);
}

void HttpListener::ServeConnection(ConnectionStream& stream) {
  static const std::string timed_out = CannedResponse(408, "Request Timeout", "");
  for (int served = 0; served < max_requests_per_connection_; ++served) {
    stream.BeginRequest();
    bool body_announced = false;
    bool client_closes = false;
    const bool last = served + 1 == max_requests_per_connection_;
    const bool answered =
        process_request(stream, last, client_closes, [&body_announced](httplib::Request& req) {
          req.ranges.clear();  // responses are always whole
          if (AnnouncesBody(req)) {
            // No route reads a body, so the next request's start is unknown: answer
            // this one with Connection: close and end the connection.
            body_announced = true;
            req.headers.erase("Connection");
            req.headers.emplace("Connection", "close");
          }
        });
    if (stream.read_timed_out()) {
      // Only a request that had started gets an answer; an idle connection just closes.
      if (stream.request_bytes() > 0) stream.WriteDirect(timed_out);
      return;
    }
    if (!answered || client_closes || body_announced || stream.stopped()) return;
  }
}

const HttpRoute* HttpListener::Find(const std::string& path) const {
  for (const auto& route : routes_) {
    const bool prefix = !route.prefix.empty() && route.prefix.back() == '/';
    if (prefix ? path.compare(0, route.prefix.size(), route.prefix) == 0 : path == route.prefix) {
      return &route;
    }
  }
  return nullptr;
}

HandlerResponse HttpListener::Dispatch(const httplib::Request& req, httplib::Response& res) {
  const HttpRoute* route = Find(req.path);
  if (route == nullptr && req.path == "*") {  // OPTIONS *: what the server as a whole allows
    Write(JsonError(405, "method not allowed: use GET or HEAD"), res);
    res.set_header("Allow", "GET, HEAD");
    return HandlerResponse::Handled;
  }
  if (route == nullptr) {
    Write(JsonError(404, "no such endpoint"), res);
    return HandlerResponse::Handled;
  }
  const bool data = route->route_class == RouteClass::kData;
  if (data) {
    switch (auth_.Check(req.get_header_value("Authorization"))) {
      case BearerAuth::Outcome::kAllowed:
        break;
      case BearerAuth::Outcome::kMissing:
        Write(JsonError(401, "a bearer token is required"), res);
        res.set_header("WWW-Authenticate", "Bearer realm=\"intentstream\"");
        return HandlerResponse::Handled;
      case BearerAuth::Outcome::kWrong:
        Write(JsonError(403, "the bearer token is not accepted"), res);
        res.set_header("WWW-Authenticate",
                       "Bearer realm=\"intentstream\", error=\"invalid_token\"");
        return HandlerResponse::Handled;
    }
  }
  if (req.method != "GET" && req.method != "HEAD") {
    Write(JsonError(405, "method not allowed: use GET or HEAD"), res);
    res.set_header("Allow", "GET, HEAD");
    return HandlerResponse::Handled;
  }
  if (data && data_requests_.fetch_add(1) >= max_data_requests_) {
    data_requests_.fetch_sub(1);
    Write(JsonError(503, "busy: too many lookups at once"), res);
    res.set_header("Retry-After", "1");
    return HandlerResponse::Handled;
  }
  const DataSlot slot(data ? &data_requests_ : nullptr);
  const size_t q = req.target.find('?');
  const HttpRequest request{req.method, req.path,
                            q == std::string::npos ? "" : req.target.substr(q + 1)};
  try {
    Write(route->handler(request), res);
  } catch (const std::exception& e) {
    Write(JsonError(500, e.what()), res);
  }
  return HandlerResponse::Handled;
}

}  // namespace intentstream::serve
