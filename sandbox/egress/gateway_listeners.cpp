#include "sandbox/egress/gateway_listeners.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>

#include "sandbox/egress/fd_passing.h"

namespace safeinstall::sandbox {
namespace {

constexpr std::string_view kTagVersion = "safeinstall-gateway/1";
constexpr int kBacklog = 256;
constexpr const char* kBindHint =
    "the listeners are created inside the sandbox's network namespace, after loopback is "
    "up, with CAP_NET_BIND_SERVICE in its user namespace";

std::string where(std::string_view address, std::uint16_t port) {
  return std::string(address) + ":" + std::to_string(port);
}

Result<UniqueFd> bound_socket(int type, std::string_view address, std::uint16_t port,
                              std::string_view role) {
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("open a socket for the " + std::string(role));
  int one = 1;
  if (type == SOCK_STREAM &&
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
    return sys_error("set SO_REUSEADDR on the " + std::string(role));
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (::inet_pton(AF_INET, std::string(address).c_str(), &sa.sin_addr) != 1) {
    return plain_error("bind the " + std::string(role) + ": bad address " + std::string(address));
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0) {
    return sys_error("bind the " + std::string(role) + " to " + where(address, port), kBindHint);
  }
  if (type == SOCK_STREAM && ::listen(fd.get(), kBacklog) != 0) {
    return sys_error("listen on " + where(address, port) + " for the " + std::string(role));
  }
  return fd;
}

Result<> expect_socket(int fd, int type, bool listening, std::string_view role) {
  int actual_type = 0, accepting = 0, domain = 0;
  socklen_t size = sizeof(int);
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &actual_type, &size) != 0) {
    return sys_error("check the passed " + std::string(role) + " socket");
  }
  size = sizeof(int);
  ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &size);
  size = sizeof(int);
  ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &size);
  if (actual_type != type || (accepting != 0) != listening || domain != AF_INET) {
    return plain_error("the passed " + std::string(role) + " socket is not a " +
                       (listening ? "listening TCP" : "bound UDP") + " IPv4 socket");
  }
  return {};
}

}  // namespace

std::vector<std::string> gateway_proxy_environment() {
  const std::string url(kGatewayProxyUrl);
  std::vector<std::string> env;
  for (const char* name : {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy",
                           "npm_config_proxy", "npm_config_https_proxy", "YARN_HTTP_PROXY",
                           "YARN_HTTPS_PROXY", "PIP_PROXY", "CARGO_HTTP_PROXY"}) {
    env.push_back(std::string(name) + "=" + url);
  }
  env.push_back("NO_PROXY=");
  env.push_back("no_proxy=");
  return env;
}

Result<GatewayListeners> create_gateway_listeners(
    const std::vector<std::uint16_t>& transparent_ports) {
  GatewayListeners listeners;
  auto proxy = bound_socket(SOCK_STREAM, "127.0.0.1", kGatewayProxyPort, "HTTP proxy");
  if (!proxy) return propagate(proxy);
  auto dns_udp = bound_socket(SOCK_DGRAM, kGatewayDnsAddress, kGatewayDnsPort, "DNS stub (UDP)");
  if (!dns_udp) return propagate(dns_udp);
  auto dns_tcp = bound_socket(SOCK_STREAM, kGatewayDnsAddress, kGatewayDnsPort, "DNS stub (TCP)");
  if (!dns_tcp) return propagate(dns_tcp);
  listeners.proxy = std::move(*proxy);
  listeners.dns_udp = std::move(*dns_udp);
  listeners.dns_tcp = std::move(*dns_tcp);
  for (auto port : transparent_ports) {
    if (port == kGatewayDnsPort || port == kGatewayProxyPort || port == 0) {
      return plain_error("transparent relay port " + std::to_string(port) +
                         " is taken by the gateway itself");
    }
    auto fd = bound_socket(SOCK_STREAM, "0.0.0.0", port, "transparent relay");
    if (!fd) return propagate(fd);
    listeners.transparent.emplace_back(port, std::move(*fd));
  }
  return listeners;
}

// Tag: "safeinstall-gateway/1 proxy dns-udp dns-tcp t:443 t:80", one word per fd, in order.
Result<> send_gateway_listeners(int socket, const GatewayListeners& listeners) {
  std::string tag(kTagVersion);
  std::vector<int> fds{listeners.proxy.get(), listeners.dns_udp.get(), listeners.dns_tcp.get()};
  tag += " proxy dns-udp dns-tcp";
  for (const auto& [port, fd] : listeners.transparent) {
    tag += " t:" + std::to_string(port);
    fds.push_back(fd.get());
  }
  for (int fd : fds) {
    if (fd < 0) return plain_error("send the gateway listeners: one of them is missing");
  }
  return send_fds(socket, tag, fds);
}

Result<GatewayListeners> receive_gateway_listeners(int socket) {
  auto received = receive_fds(socket);
  if (!received) return propagate(received);
  std::vector<std::string_view> words;
  std::string_view tag = received->tag;
  while (!tag.empty()) {
    auto space = tag.find(' ');
    words.push_back(tag.substr(0, space));
    tag = space == std::string_view::npos ? std::string_view{} : tag.substr(space + 1);
  }
  const auto bad_tag = [&] {
    return plain_error("receive the gateway listeners: unexpected description `" + received->tag +
                       "`");
  };
  if (words.size() < 4 || words[0] != kTagVersion || words[1] != "proxy" || words[2] != "dns-udp" ||
      words[3] != "dns-tcp" || words.size() - 1 != received->fds.size()) {
    return bad_tag();
  }
  GatewayListeners listeners;
  listeners.proxy = std::move(received->fds[0]);
  listeners.dns_udp = std::move(received->fds[1]);
  listeners.dns_tcp = std::move(received->fds[2]);
  for (std::size_t i = 4; i < words.size(); ++i) {
    auto word = words[i];
    unsigned port = 0;
    if (!word.starts_with("t:")) return bad_tag();
    auto [end, ec] = std::from_chars(word.data() + 2, word.data() + word.size(), port);
    if (ec != std::errc{} || end != word.data() + word.size() || port == 0 || port > 65535) {
      return bad_tag();
    }
    listeners.transparent.emplace_back(static_cast<std::uint16_t>(port),
                                       std::move(received->fds[i - 1]));
  }
  if (auto ok = expect_socket(listeners.proxy.get(), SOCK_STREAM, true, "proxy"); !ok) {
    return propagate(ok);
  }
  if (auto ok = expect_socket(listeners.dns_udp.get(), SOCK_DGRAM, false, "DNS (UDP)"); !ok) {
    return propagate(ok);
  }
  if (auto ok = expect_socket(listeners.dns_tcp.get(), SOCK_STREAM, true, "DNS (TCP)"); !ok) {
    return propagate(ok);
  }
  for (const auto& [port, fd] : listeners.transparent) {
    if (auto ok = expect_socket(fd.get(), SOCK_STREAM, true, "transparent relay"); !ok) {
      return propagate(ok);
    }
  }
  return listeners;
}

}  // namespace safeinstall::sandbox
