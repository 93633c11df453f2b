#include "serve/connection_stream.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace intentstream::serve {

namespace {

void NumericAddress(const sockaddr_storage& addr, socklen_t len, std::string& ip, int& port) {
  char host[NI_MAXHOST];
  char serv[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof host, serv,
                  sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host;
    port = std::atoi(serv);
  }
}

}  // namespace

IoResult SocketTransport::Read(char* buf, size_t size) {
  for (;;) {
    const ssize_t n = recv(fd_, buf, size, 0);
    if (n > 0) return {IoStatus::kDone, static_cast<size_t>(n)};
    if (n == 0) return {IoStatus::kClosed, 0};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {IoStatus::kWantRead, 0};
    return {IoStatus::kError, 0};
  }
}

IoResult SocketTransport::Write(const char* buf, size_t size) {
  for (;;) {
    const ssize_t n = send(fd_, buf, size, MSG_NOSIGNAL);
    if (n >= 0) return {IoStatus::kDone, static_cast<size_t>(n)};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {IoStatus::kWantWrite, 0};
    return {IoStatus::kError, 0};
  }
}

ConnectionStream::ConnectionStream(Transport& transport, int stop_fd,
                                   std::chrono::milliseconds read_timeout,
                                   std::chrono::milliseconds write_timeout)
    : transport_(transport),
      stop_fd_(stop_fd),
      read_timeout_(read_timeout),
      write_timeout_(write_timeout) {
  BeginRequest();
}

void ConnectionStream::BeginRequest() {
  read_deadline_ = Clock::now() + read_timeout_;
  writing_ = false;
  request_bytes_ = 0;
}

ConnectionStream::Wait ConnectionStream::WaitFor(IoStatus want, Clock::time_point deadline) const {
  const int fd = transport_.fd();
  if (fd < 0) return Wait::kTimeout;  // a transport that can't wait can't make progress
  pollfd fds[2] = {{fd, static_cast<short>(want == IoStatus::kWantWrite ? POLLOUT : POLLIN), 0},
                   {stop_fd_, POLLIN, 0}};
  for (;;) {
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) return Wait::kTimeout;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    const int n = poll(fds, stop_fd_ >= 0 ? 2 : 1, static_cast<int>(ms));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Wait::kTimeout;
    if (stop_fd_ >= 0 && (fds[1].revents & POLLIN) != 0) {
      stopped_ = true;
      return Wait::kStopped;
    }
    // Errors and hang-ups count as ready: the next read or write reports them.
    if (fds[0].revents != 0) return Wait::kReady;
  }
}

bool ConnectionStream::Handshake() {
  for (;;) {
    const IoResult r = transport_.Handshake();
    if (r.status == IoStatus::kDone) return true;
    if (r.status != IoStatus::kWantRead && r.status != IoStatus::kWantWrite) return false;
    const Wait w = WaitFor(r.status, read_deadline_);
    if (w == Wait::kTimeout) read_timed_out_ = true;
    if (w != Wait::kReady) return false;
  }
}

bool ConnectionStream::is_readable() const {
  if (read_timed_out_ || stopped_) return false;
  return buffer_begin_ < buffer_end_ || transport_.HasBufferedInput() ||
         WaitFor(IoStatus::kWantRead, read_deadline_) == Wait::kReady;
}

bool ConnectionStream::is_writable() const {
  if (read_timed_out_ || write_failed_ || stopped_) return false;
  const auto deadline = writing_ ? write_deadline_ : Clock::now() + write_timeout_;
  return WaitFor(IoStatus::kWantWrite, deadline) == Wait::kReady;
}

ssize_t ConnectionStream::read(char* ptr, size_t size) {
  if (read_timed_out_ || stopped_) return -1;
  if (buffer_begin_ == buffer_end_) {
    const IoStatus s = Fill();
    if (s == IoStatus::kClosed) return 0;
    if (s != IoStatus::kDone) return -1;
  }
  const size_t n = std::min(size, buffer_end_ - buffer_begin_);
  std::memcpy(ptr, buffer_.data() + buffer_begin_, n);
  buffer_begin_ += n;
  request_bytes_ += n;
  return static_cast<ssize_t>(n);
}

IoStatus ConnectionStream::Fill() {
  buffer_begin_ = buffer_end_ = 0;
  for (;;) {
    const IoResult r = transport_.Read(buffer_.data(), buffer_.size());
    switch (r.status) {
      case IoStatus::kDone:
        buffer_end_ = r.bytes;
        return r.bytes > 0 ? IoStatus::kDone : IoStatus::kClosed;
      case IoStatus::kClosed:
      case IoStatus::kError:
        return r.status;
      case IoStatus::kWantRead:
      case IoStatus::kWantWrite: {
        const Wait w = WaitFor(r.status, read_deadline_);
        if (w == Wait::kTimeout) read_timed_out_ = true;
        if (w != Wait::kReady) return IoStatus::kError;
        break;
      }
    }
  }
}

ssize_t ConnectionStream::write(const char* ptr, size_t size) {
  if (read_timed_out_ || write_failed_ || stopped_) return -1;
  if (!writing_) {
    writing_ = true;
    write_deadline_ = Clock::now() + write_timeout_;
  }
  return WriteUntil(ptr, size, write_deadline_);
}

ssize_t ConnectionStream::WriteUntil(const char* ptr, size_t size, Clock::time_point deadline) {
  for (;;) {
    const IoResult r = transport_.Write(ptr, size);
    switch (r.status) {
      case IoStatus::kDone:
        return static_cast<ssize_t>(r.bytes);
      case IoStatus::kClosed:
      case IoStatus::kError:
        write_failed_ = true;
        return -1;
      case IoStatus::kWantRead:
      case IoStatus::kWantWrite:
        if (WaitFor(r.status, deadline) != Wait::kReady) {
          write_failed_ = true;
          return -1;
        }
        break;
    }
  }
}

bool ConnectionStream::WriteDirect(std::string_view bytes) {
  const auto deadline = Clock::now() + write_timeout_;
  while (!bytes.empty()) {
    const ssize_t n = WriteUntil(bytes.data(), bytes.size(), deadline);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void ConnectionStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (transport_.fd() >= 0 &&
      getpeername(transport_.fd(), reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    NumericAddress(addr, len, ip, port);
  }
}

void ConnectionStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (transport_.fd() >= 0 &&
      getsockname(transport_.fd(), reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    NumericAddress(addr, len, ip, port);
  }
}

}  // namespace intentstream::serve
