#include "serve/http_server.h"

#include <CivetServer.h>

#include <stdexcept>

namespace intentstream::serve {

namespace {

const char* StatusText(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

class RouteHandler : public CivetHandler {
 public:
  explicit RouteHandler(HttpHandlerFn fn) : fn_(std::move(fn)) {}

  bool handleGet(CivetServer*, mg_connection* conn) override { return Serve(conn, "GET"); }
  bool handleHead(CivetServer*, mg_connection* conn) override { return Serve(conn, "HEAD"); }
  bool handlePost(CivetServer*, mg_connection* conn) override {
    return Reply(conn, {405, "application/json", "{\"error\":\"method not allowed\"}"}, true);
  }

 private:
  bool Serve(mg_connection* conn, const char* method) {
    const mg_request_info* info = mg_get_request_info(conn);
    HttpRequest req{method, info->local_uri != nullptr ? info->local_uri : "",
                    info->query_string != nullptr ? info->query_string : ""};
    HttpResponse resp;
    try {
      resp = fn_(req);
    } catch (const std::exception& e) {
      resp = {500, "application/json", "{\"error\":" + JsonQuote(e.what()) + "}"};
    }
    return Reply(conn, resp, std::string_view(method) != "HEAD");
  }

  static bool Reply(mg_connection* conn, const HttpResponse& resp, bool with_body) {
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
              resp.status, StatusText(resp.status), resp.content_type.c_str(), resp.body.size());
    if (with_body) mg_write(conn, resp.body.data(), resp.body.size());
    return true;
  }

  HttpHandlerFn fn_;
};

}  // namespace

HttpServer::HttpServer() = default;
HttpServer::~HttpServer() {
  Stop();
}

void HttpServer::Route(std::string prefix, HttpHandlerFn handler) {
  routes_.emplace_back(std::move(prefix), std::move(handler));
}

void HttpServer::Start(const std::string& listen, int threads) {
  std::vector<std::string> options = {
      "listening_ports", listen, "num_threads", std::to_string(threads), "enable_keep_alive", "no"};
  try {
    server_ = std::make_unique<CivetServer>(options);
  } catch (const CivetException& e) {
    throw std::runtime_error("cannot listen on '" + listen + "': " + e.what());
  }
  if (server_->getContext() == nullptr) {
    throw std::runtime_error("cannot listen on '" + listen + "'");
  }
  for (auto& [prefix, fn] : routes_) {
    handlers_.push_back(std::make_unique<RouteHandler>(fn));
    // civetweb matches a handler URI as a prefix when it ends in '/' followed by '**'.
    const std::string uri = prefix.back() == '/' ? prefix + "**" : prefix + "$";
    server_->addHandler(uri, handlers_.back().get());
  }
  const auto ports = server_->getListeningPorts();
  port_ = ports.empty() ? 0 : ports.front();
}

void HttpServer::Stop() {
  if (server_) {
    server_->close();
    server_.reset();
  }
  handlers_.clear();
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
