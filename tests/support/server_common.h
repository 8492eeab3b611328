#pragma once
// What the fake internet's servers (si-fake-dns, si-registry, si-upstream-proxy) share: an
// append-only event log a test can read while the server runs, byte escaping for it, and
// small argument helpers. Header-only: each server is one translation unit.

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>
#include <system_error>

namespace safeinstall::test::server {

struct UsageError {
  std::string message;
};

// Printable ASCII as is, everything else (and the backslash) escaped, so one event is one line.
inline std::string escape(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

// A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; tests look for a.b.c.d.
inline std::string peer_name(const boost::asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6())
        .to_string();
  return address.to_string();
}

// One write(2) per line on an O_APPEND descriptor: a reader sees whole lines only.
class EventLog {
 public:
  explicit EventLog(const std::string& path)
      : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "open log " + path);
  }
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;
  ~EventLog() { ::close(fd_); }

  void line(std::string text) {
    text += '\n';
    std::string_view left = text;
    while (!left.empty()) {
      ssize_t n = ::write(fd_, left.data(), left.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // nowhere left to report to; the test will notice the gap
      left.remove_prefix(static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
};

inline unsigned short parse_port(std::string_view text) {
  unsigned int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535)
    throw UsageError{"not a port number: " + std::string(text)};
  return static_cast<unsigned short>(value);
}

inline boost::asio::ip::address parse_address(const std::string& text) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(text, ec);
  if (ec) throw UsageError{"not an IP address: " + text};
  return address;
}

inline std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Tells the test that started the server that every socket is bound.
inline void say_ready() {
  std::fputs("ready\n", stdout);
  std::fflush(stdout);
}

}  // namespace safeinstall::test::server
