// Blocking HTTP/1.1 over loopback for tests (plain sockets: the tests check our server, so
// the client stays independent of the server library). Every call has a time limit, so a
// server that hangs fails the test instead of stalling it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <string>

namespace intentstream::testing {

struct HttpResult {
  int status = 0;       // 0: no response (refused, closed or timed out)
  std::string headers;  // the raw header block, status line included
  std::string body;

  // The value of header `name` (case-insensitive), "" when absent.
  std::string Header(const std::string& name) const {
    size_t pos = headers.find("\r\n");
    while (pos != std::string::npos && pos + 2 < headers.size()) {
      const size_t start = pos + 2;
      const size_t end = headers.find("\r\n", start);
      const std::string line = headers.substr(start, end - start);
      const size_t colon = line.find(':');
      if (colon != std::string::npos && colon == name.size()) {
        bool same = true;
        for (size_t i = 0; i < colon && same; ++i) {
          same = std::tolower(static_cast<unsigned char>(line[i])) ==
                 std::tolower(static_cast<unsigned char>(name[i]));
        }
        if (same) {
          size_t v = colon + 1;
          while (v < line.size() && line[v] == ' ') ++v;
          return line.substr(v);
        }
      }
      pos = end;
    }
    return "";
  }
};

inline HttpResult ParseHttpResponse(const std::string& raw) {
  HttpResult result;
  if (raw.size() > 12 && raw.compare(0, 5, "HTTP/") == 0) {
    result.status = std::stoi(raw.substr(9, 3));
  }
  const auto split = raw.find("\r\n\r\n");
  if (split != std::string::npos) {
    result.headers = raw.substr(0, split);
    result.body = raw.substr(split + 4);
  }
  return result;
}

// A TCP connection to 127.0.0.1:port that the test drives byte by byte.
class RawConnection {
 public:
  // `receive_buffer_bytes` > 0 shrinks the socket's receive buffer (a slow reader).
  explicit RawConnection(int port, int receive_buffer_bytes = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ >= 0 && receive_buffer_bytes > 0) {
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof receive_buffer_bytes);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ >= 0 && connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~RawConnection() {
    if (fd_ >= 0) close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool Send(const std::string& bytes) {
    return fd_ >= 0 && send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
                           static_cast<ssize_t>(bytes.size());
  }
  // Reads until the server closes the connection or `limit` passes. Returns true when it
  // closed (EOF or reset); what arrived is in received().
  bool WaitClosed(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (fd_ >= 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
      received_.append(buf, static_cast<size_t>(n));
    }
    return true;
  }
  // Reads until one complete response (by Content-Length) arrived, or `limit` passes.
  HttpResult ReadResponse(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (fd_ >= 0 && !Complete()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      received_.append(buf, static_cast<size_t>(n));
    }
    HttpResult r = ParseHttpResponse(received_);
    received_.clear();
    return r;
  }
  const std::string& received() const { return received_; }

 private:
  bool Complete() const {
    const auto split = received_.find("\r\n\r\n");
    if (split == std::string::npos) return false;
    const HttpResult head = ParseHttpResponse(received_.substr(0, split + 4));
    const std::string length = head.Header("Content-Length");
    return received_.size() >= split + 4 + (length.empty() ? 0 : std::stoul(length));
  }

  int fd_ = -1;
  std::string received_;
};

// Sends `request` verbatim and reads the answer until the server closes or `limit` passes.
inline HttpResult HttpExchange(int port, const std::string& request,
                               std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  RawConnection c(port);
  if (!c.connected() || !c.Send(request)) return {};
  c.WaitClosed(limit);
  return ParseHttpResponse(c.received());
}

inline HttpResult HttpRequest(int port, const std::string& method, const std::string& path,
                              const std::string& extra_headers = "",
                              std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  return HttpExchange(port,
                      method + " " + path +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra_headers +
                          "\r\n",
                      limit);
}

inline HttpResult HttpGet(int port, const std::string& path, const std::string& extra_headers = "",
                          std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  return HttpRequest(port, "GET", path, extra_headers, limit);
}

}  // namespace intentstream::testing
