#include "serve/http_server.h"

#include <httplib.h>

#include <chrono>
#include <regex>
#include <stdexcept>

namespace intentstream::serve {

namespace {

HttpResponse JsonError(int status, const std::string& message) {
  return HttpResponse{status, "application/json", "{\"error\":" + JsonQuote(message) + "}"};
}

void Write(const HttpResponse& from, httplib::Response& to) {
  to.status = from.status;
  to.set_content(from.body, from.content_type.c_str());
  to.set_header("Cache-Control", "no-store");
}

std::string EscapeRegex(const std::string& s) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(s, special, R"(\$&)");
}

}  // namespace

HttpServer::HttpServer() = default;
HttpServer::~HttpServer() {
  Stop();
}

void HttpServer::Route(std::string prefix, HttpHandlerFn handler) {
  routes_.emplace_back(std::move(prefix), std::move(handler));
}

void HttpServer::Start(const std::string& listen, int threads) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos)
    throw std::runtime_error("cannot listen on '" + listen + "': expected host:port");
  const std::string host = listen.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
    throw std::runtime_error("cannot listen on '" + listen + "': invalid port");
  }

  server_ = std::make_unique<httplib::Server>();
  // SO_REUSEADDR only: the library's default also sets SO_REUSEPORT, which would let a
  // second process share the port and answer half of the scrapes.
  server_->set_socket_options([](socket_t sock) {
    const int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server_->new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  for (const auto& [prefix, fn] : routes_) {
    // A prefix ending in '/' matches every path under it; otherwise the exact path.
    const std::string pattern = EscapeRegex(prefix) + (prefix.back() == '/' ? ".*" : "");
    server_->Get(pattern, [fn = fn](const httplib::Request& req, httplib::Response& res) {
      const size_t q = req.target.find('?');
      const HttpRequest request{req.method, req.path,
                                q == std::string::npos ? "" : req.target.substr(q + 1)};
      try {
        Write(fn(request), res);
      } catch (const std::exception& e) {
        Write(JsonError(500, e.what()), res);
      }
    });
    const auto not_allowed = [](const httplib::Request&, httplib::Response& res) {
      Write(JsonError(405, "method not allowed"), res);
    };
    server_->Post(pattern, not_allowed);
    server_->Put(pattern, not_allowed);
    server_->Delete(pattern, not_allowed);
  }
  // Called for every response >= 400: fill in only what no route answered.
  server_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.status == 404 && res.body.empty()) Write(JsonError(404, "no such endpoint"), res);
  });

  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
  } else if (server_->bind_to_port(host, port)) {
    port_ = port;
  } else {
    port_ = -1;
  }
  if (port_ <= 0) {
    server_.reset();
    throw std::runtime_error("cannot listen on '" + listen + "': address in use or not available");
  }
  listener_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() is a no-op until the listener runs: wait for it, so Stop() can't miss it.
  for (int i = 0; i < 5000 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void HttpServer::Stop() {
  if (server_) {
    server_->stop();
    if (listener_.joinable()) listener_.join();
    server_.reset();
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
