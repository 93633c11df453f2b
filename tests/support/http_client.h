// A blocking HTTP/1.1 GET over loopback for tests (plain sockets: the tests check our
// server, so the client stays independent of the server library).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace intentstream::testing {

struct HttpResult {
  int status = 0;
  std::string body;
};

inline HttpResult HttpGet(int port, const std::string& path) {
  HttpResult result;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return result;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return result;
  }
  const std::string req =
      "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (send(fd, req.data(), req.size(), 0) < 0) {
    close(fd);
    return result;
  }
  std::string raw;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) raw.append(buf, static_cast<size_t>(n));
  close(fd);
  if (raw.size() > 12 && raw.compare(0, 5, "HTTP/") == 0)
    result.status = std::stoi(raw.substr(9, 3));
  const auto split = raw.find("\r\n\r\n");
  if (split != std::string::npos) result.body = raw.substr(split + 4);
  return result;
}

}  // namespace intentstream::testing
