// One HTTP connection as cpp-httplib reads and writes it: a Transport (a plain socket, a
// TLS session, or bytes in memory for the fuzz target) under deadlines. The deadline of a
// request counts from BeginRequest(), whatever the pace of its bytes; the deadline of a
// response from its first byte. Every wait also ends when the server stops.
#pragma once

#include <httplib.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <string_view>

namespace intentstream::serve {

enum class IoStatus {
  kDone,       // `bytes` moved (or the handshake finished)
  kWantRead,   // try again when the socket is readable
  kWantWrite,  // try again when the socket is writable
  kClosed,     // the peer closed the connection
  kError,      // the connection is unusable
};

struct IoResult {
  IoStatus status = IoStatus::kError;
  size_t bytes = 0;
};

// Moves bytes without ever blocking; the stream does the waiting.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual IoResult Handshake() { return {IoStatus::kDone, 0}; }
  virtual IoResult Read(char* buf, size_t size) = 0;
  virtual IoResult Write(const char* buf, size_t size) = 0;
  // Input already decrypted and buffered (a poll on the socket would not see it).
  virtual bool HasBufferedInput() const { return false; }
  // Ends the session politely if that needs no waiting (TLS close_notify).
  virtual void Close() {}
  // The socket to wait on; -1 when the transport never asks to wait.
  virtual int fd() const = 0;
};

// A non-blocking socket.
class SocketTransport final : public Transport {
 public:
  explicit SocketTransport(int fd) : fd_(fd) {}
  IoResult Read(char* buf, size_t size) override;
  IoResult Write(const char* buf, size_t size) override;
  int fd() const override { return fd_; }

 private:
  int fd_;
};

class ConnectionStream final : public httplib::Stream {
 public:
  // `stop_fd` becomes readable when the server stops (-1: never).
  ConnectionStream(Transport& transport, int stop_fd, std::chrono::milliseconds read_timeout,
                   std::chrono::milliseconds write_timeout);

  // Starts the next request: its read deadline counts from now.
  void BeginRequest();
  // Runs the transport's handshake under the current read deadline.
  bool Handshake();
  // The request did not arrive in time; writes are refused from then on (cpp-httplib
  // would answer 400), the listener answers 408 with WriteDirect().
  bool read_timed_out() const { return read_timed_out_; }
  bool stopped() const { return stopped_; }
  // Bytes of the current request read so far.
  size_t request_bytes() const { return request_bytes_; }
  // Writes `bytes` under a fresh write deadline, even after a read timeout.
  bool WriteDirect(std::string_view bytes);

  // httplib::Stream
  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return transport_.fd(); }

 private:
  using Clock = std::chrono::steady_clock;
  enum class Wait { kReady, kTimeout, kStopped };
  Wait WaitFor(IoStatus want, Clock::time_point deadline) const;
  ssize_t WriteUntil(const char* ptr, size_t size, Clock::time_point deadline);
  // Refills the empty buffer from the transport, waiting up to the read deadline:
  // kDone (bytes arrived), kClosed, or kError (failed, timed out or stopped).
  IoStatus Fill();

  Transport& transport_;
  int stop_fd_;
  std::chrono::milliseconds read_timeout_;
  std::chrono::milliseconds write_timeout_;
  Clock::time_point read_deadline_;
  Clock::time_point write_deadline_;
  bool writing_ = false;  // the current response has started
  bool read_timed_out_ = false;
  bool write_failed_ = false;
  mutable bool stopped_ = false;
  size_t request_bytes_ = 0;
  // cpp-httplib reads request lines byte by byte: serve those reads from a buffer.
  std::array<char, 4096> buffer_{};
  size_t buffer_begin_ = 0;
  size_t buffer_end_ = 0;
};

}  // namespace intentstream::serve
