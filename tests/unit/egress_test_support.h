#pragma once
// Test helpers for the egress gateway: hand-built DNS queries and TLS ClientHellos, and
// small blocking socket clients for in-process end-to-end tests.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace egress_test {

inline void put16(std::vector<std::uint8_t>& out, std::size_t value) {
  out.push_back(static_cast<std::uint8_t>((value >> 8) & 0xff));
  out.push_back(static_cast<std::uint8_t>(value & 0xff));
}

inline void put24(std::vector<std::uint8_t>& out, std::size_t value) {
  out.push_back(static_cast<std::uint8_t>((value >> 16) & 0xff));
  put16(out, value & 0xffff);
}

// A DNS query with one question, RD set.
inline std::vector<std::uint8_t> dns_query(std::string_view name, std::uint16_t type,
                                           std::uint16_t id = 0x1234, std::uint16_t qclass = 1) {
  std::vector<std::uint8_t> out;
  put16(out, id);
  put16(out, 0x0100);
  put16(out, 1);
  put16(out, 0);
  put16(out, 0);
  put16(out, 0);
  std::size_t start = 0;
  while (start <= name.size() && !name.empty()) {
    auto dot = name.find('.', start);
    auto label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    out.push_back(static_cast<std::uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  out.push_back(0);
  put16(out, type);
  put16(out, qclass);
  return out;
}

// A TLS 1.2/1.3-shaped ClientHello, with an SNI extension when `sni` is given, wrapped in
// handshake records of at most `record_size` payload bytes.
inline std::vector<std::uint8_t> client_hello(std::optional<std::string_view> sni,
                                              std::size_t record_size = 16384,
                                              std::size_t padding = 0, int sni_copies = 1) {
  std::vector<std::uint8_t> extensions;
  for (int copy = 0; sni && copy < sni_copies; ++copy) {
    std::vector<std::uint8_t> list;
    list.push_back(0);  // host_name
    put16(list, sni->size());
    list.insert(list.end(), sni->begin(), sni->end());
    put16(extensions, 0);  // server_name
    put16(extensions, list.size() + 2);
    put16(extensions, list.size());
    extensions.insert(extensions.end(), list.begin(), list.end());
  }
  put16(extensions, 43);  // supported_versions: TLS 1.3
  put16(extensions, 3);
  extensions.push_back(2);
  put16(extensions, 0x0304);
  if (padding > 0) {
    put16(extensions, 21);  // padding
    put16(extensions, padding);
    extensions.insert(extensions.end(), padding, 0);
  }
  std::vector<std::uint8_t> body;
  put16(body, 0x0303);
  body.insert(body.end(), 32, 0xab);  // random
  body.push_back(0);                  // session id
  put16(body, 2);
  put16(body, 0x1301);  // TLS_AES_128_GCM_SHA256
  body.push_back(1);
  body.push_back(0);  // null compression
  put16(body, extensions.size());
  body.insert(body.end(), extensions.begin(), extensions.end());

  std::vector<std::uint8_t> handshake;
  handshake.push_back(1);  // ClientHello
  put24(handshake, body.size());
  handshake.insert(handshake.end(), body.begin(), body.end());

  std::vector<std::uint8_t> records;
  for (std::size_t offset = 0; offset < handshake.size(); offset += record_size) {
    std::size_t n = std::min(record_size, handshake.size() - offset);
    records.push_back(0x16);
    put16(records, 0x0301);
    put16(records, n);
    records.insert(records.end(), handshake.begin() + static_cast<std::ptrdiff_t>(offset),
                   handshake.begin() + static_cast<std::ptrdiff_t>(offset + n));
  }
  return records;
}

// A blocking TCP client with a receive timeout, for tests that drive the gateway from the
// test thread while it runs on its own.
class Client {
 public:
  Client(const std::string& address, std::uint16_t port, int timeout_ms = 5000) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    ::inet_pton(AF_INET, address.c_str(), &sa.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  bool send(const std::vector<std::uint8_t>& data) {
    return send(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
  }
  void shutdown_send() { ::shutdown(fd_, SHUT_WR); }
  // Reads until `marker` was seen (and returns everything read), EOF, error or timeout.
  std::string read_until(std::string_view marker) {
    while (buffer_.find(marker) == std::string::npos) {
      if (!read_some()) break;
    }
    auto end = buffer_.find(marker);
    std::string out = end == std::string::npos ? buffer_ : buffer_.substr(0, end + marker.size());
    buffer_.erase(0, out.size());
    return out;
  }
  std::string read_exactly(std::size_t n) {
    while (buffer_.size() < n && read_some()) {
    }
    std::string out = buffer_.substr(0, std::min(n, buffer_.size()));
    buffer_.erase(0, out.size());
    return out;
  }
  // Everything until EOF; `eof` tells whether the peer closed (rather than a timeout).
  std::string read_all(bool* eof = nullptr) {
    bool closed = false;
    while (true) {
      char chunk[65536];
      ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) {
        closed = true;
        break;
      }
      if (n < 0) break;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
    if (eof != nullptr) *eof = closed;
    return std::exchange(buffer_, {});
  }
  int fd() const { return fd_; }

 private:
  bool read_some() {
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

}  // namespace egress_test
