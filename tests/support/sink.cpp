// si-sink: the attacker's server on the fake internet. It listens where exfiltration would go
// (80/443 TCP, 53 UDP, whatever the test asks) and logs everything that reaches it, one line
// per event, so a test can show that nothing did:
//
//   tcp <peer> <local port> <first bytes received, escaped>
//   udp <peer> <local port> <datagram, escaped>
//
// Each line is one write(2) on an O_APPEND descriptor, so a test reading the log sees a line
// as soon as it is written and never half of one. "ready" on stdout means every socket is
// bound; SIGTERM or SIGINT ends it.
//
// usage: si-sink --log FILE [--bind ADDR]... [--tcp PORT]... [--udp PORT]...
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <boost/asio.hpp>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

// A TCP peer that sends nothing is still logged, after this long.
constexpr auto kFirstBytesWait = std::chrono::seconds(1);
constexpr std::size_t kMaxLoggedBytes = 2048;  // enough for a TLS ClientHello and its SNI

struct Options {
  std::string log;
  std::vector<std::string> bind;
  std::vector<unsigned short> tcp_ports;
  std::vector<unsigned short> udp_ports;
};

struct UsageError {
  std::string message;
};

std::string escape(std::string_view bytes) {
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

std::string peer_name(const asio::ip::address& address) {
  // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; tests look for a.b.c.d.
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  return address.to_string();
}

class EventLog {
 public:
  explicit EventLog(const std::string& path)
      : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "open log " + path);
  }
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;
  ~EventLog() { ::close(fd_); }

  void write(const std::string& kind, const asio::ip::address& peer, unsigned short port,
             std::string_view bytes) {
    std::string line =
        kind + " " + peer_name(peer) + " " + std::to_string(port) + " " + escape(bytes) + "\n";
    std::string_view left = line;
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

// One accepted connection: waits for the first bytes (or EOF, or kFirstBytesWait), logs one
// line, and hangs up. It never answers: an attacker's server that talks back is not needed to
// prove that something reached it.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, asio::ip::address peer, unsigned short port, EventLog& log)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        port_(port),
        log_(log),
        peer_(std::move(peer)) {}

  void start() {
    timer_.expires_after(kFirstBytesWait);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->finish(0);
    });
    socket_.async_read_some(asio::buffer(buffer_),
                            [self = shared_from_this()](const boost::system::error_code&,
                                                        std::size_t n) { self->finish(n); });
  }

 private:
  void finish(std::size_t received) {
    if (logged_) return;
    logged_ = true;
    log_.write("tcp", peer_, port_, std::string_view(buffer_.data(), received));
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  unsigned short port_;
  EventLog& log_;
  asio::ip::address peer_;
  std::array<char, kMaxLoggedBytes> buffer_{};
  bool logged_ = false;
};

class TcpListener {
 public:
  TcpListener(asio::io_context& io, const tcp::endpoint& at, EventLog& log)
      : acceptor_(io), port_(at.port()), log_(log) {
    acceptor_.open(at.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(at);
    acceptor_.listen();
    accept();
  }

 private:
  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        boost::system::error_code peer_error;
        auto peer = socket.remote_endpoint(peer_error);
        // A peer that already reset has no address to log; there is nothing to record.
        if (!peer_error)
          std::make_shared<Connection>(std::move(socket), peer.address(), port_, log_)->start();
      }
      accept();
    });
  }

  tcp::acceptor acceptor_;
  unsigned short port_;
  EventLog& log_;
};

class UdpReceiver {
 public:
  UdpReceiver(asio::io_context& io, const udp::endpoint& at, EventLog& log)
      : socket_(io), port_(at.port()), log_(log) {
    socket_.open(at.protocol());
    socket_.set_option(udp::socket::reuse_address(true));
    socket_.bind(at);
    receive();
  }

 private:
  void receive() {
    socket_.async_receive_from(
        asio::buffer(buffer_), sender_, [this](const boost::system::error_code& ec, std::size_t n) {
          if (ec == asio::error::operation_aborted) return;
          if (!ec) log_.write("udp", sender_.address(), port_, std::string_view(buffer_.data(), n));
          receive();
        });
  }

  udp::socket socket_;
  udp::endpoint sender_;
  unsigned short port_;
  EventLog& log_;
  std::array<char, 65536> buffer_{};
};

unsigned short parse_port(std::string_view text) {
  unsigned int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535)
    throw UsageError{"not a port number: " + std::string(text)};
  return static_cast<unsigned short>(value);
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (i + 1 >= argc) throw UsageError{"missing value after " + std::string(flag)};
    std::string value = argv[++i];
    if (flag == "--log")
      options.log = value;
    else if (flag == "--bind")
      options.bind.push_back(value);
    else if (flag == "--tcp")
      options.tcp_ports.push_back(parse_port(value));
    else if (flag == "--udp")
      options.udp_ports.push_back(parse_port(value));
    else
      throw UsageError{"unknown option " + std::string(flag)};
  }
  if (options.log.empty()) throw UsageError{"--log FILE is required"};
  if (options.tcp_ports.empty() && options.udp_ports.empty())
    throw UsageError{"nothing to listen on: give --tcp PORT and/or --udp PORT"};
  if (options.bind.empty()) options.bind.push_back("0.0.0.0");
  return options;
}

int serve(const Options& options) {
  asio::io_context io;
  EventLog log(options.log);
  std::vector<std::unique_ptr<TcpListener>> listeners;
  std::vector<std::unique_ptr<UdpReceiver>> receivers;
  for (const auto& bind : options.bind) {
    boost::system::error_code parse_error;
    auto address = asio::ip::make_address(bind, parse_error);
    if (parse_error) throw UsageError{"not an IP address: " + bind};
    for (auto port : options.tcp_ports) {
      try {
        listeners.push_back(std::make_unique<TcpListener>(io, tcp::endpoint(address, port), log));
      } catch (const boost::system::system_error& e) {
        throw std::runtime_error("cannot listen on tcp " + bind + " " + std::to_string(port) +
                                 ": " + e.code().message());
      }
    }
    for (auto port : options.udp_ports) {
      try {
        receivers.push_back(std::make_unique<UdpReceiver>(io, udp::endpoint(address, port), log));
      } catch (const boost::system::system_error& e) {
        throw std::runtime_error("cannot bind udp " + bind + " " + std::to_string(port) + ": " +
                                 e.code().message());
      }
    }
  }
  asio::signal_set stop(io, SIGTERM, SIGINT);
  stop.async_wait([&io](const boost::system::error_code&, int) { io.stop(); });

  std::fputs("ready\n", stdout);
  std::fflush(stdout);
  io.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return serve(parse_options(argc, argv));
  } catch (const UsageError& e) {
    std::fprintf(stderr,
                 "si-sink: %s\nusage: si-sink --log FILE [--bind ADDR]... [--tcp PORT]... "
                 "[--udp PORT]...\n",
                 e.message.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "si-sink: %s\n", e.what());
    return 1;
  }
}
