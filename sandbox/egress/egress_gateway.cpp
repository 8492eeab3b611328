#include "sandbox/egress/egress_gateway.h"

#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "sandbox/egress/coroutines.h"
#include "sandbox/egress/dns/dns_stub.h"
#include "sandbox/egress/gateway_session.h"
#include "sandbox/egress/gateway_state.h"
#include "sandbox/egress/http_proxy.h"
#include "sandbox/egress/transparent_relay.h"

namespace safeinstall::sandbox {
namespace {

using asio::ip::udp;
// Out of descriptors (EMFILE) the accept fails at once and keeps failing: wait instead of
// spinning, the pending client stays in the backlog meanwhile.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

using SessionStarter = void (*)(std::shared_ptr<GatewayState>, tcp::socket);

asio::awaitable<void> accept_connections(std::shared_ptr<GatewayState> state,
                                         std::shared_ptr<tcp::acceptor> acceptor,
                                         SessionStarter start_session) {
  asio::steady_timer retry(acceptor->get_executor());
  while (!state->stopped) {
    auto [ec, socket] = co_await acceptor->async_accept(kNoThrow);
    if (state->stopped || ec == asio::error::operation_aborted ||
        ec == asio::error::bad_descriptor) {
      co_return;
    }
    if (ec) {
      retry.expires_after(kAcceptRetryDelay);
      co_await retry.async_wait(kNoThrow);
      continue;
    }
    if (state->sessions.size() >= state->options.max_connections) {
      // Closed at once rather than left in the backlog: the client learns now, not later.
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    start_session(state, std::move(socket));
  }
}

// The protocol of a listening fd, from its address family.
Result<int> socket_family(int fd, std::string_view role) {
  sockaddr_storage address{};
  socklen_t size = sizeof(address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    return sys_error("read the address of the " + std::string(role) + " listener");
  }
  return address.ss_family;
}

Result<std::shared_ptr<tcp::acceptor>> adopt_acceptor(asio::io_context& io, UniqueFd& fd,
                                                      std::string_view role) {
  auto family = socket_family(fd.get(), role);
  if (!family) return propagate(family);
  auto acceptor = std::make_shared<tcp::acceptor>(io);
  boost::system::error_code ec;
  acceptor->assign(*family == AF_INET6 ? tcp::v6() : tcp::v4(), fd.get(), ec);
  if (ec) {
    return plain_error("serve the " + std::string(role) + " listener: " + ec.message());
  }
  fd.release();  // the acceptor owns it now
  return acceptor;
}

Result<std::shared_ptr<udp::socket>> adopt_datagram_socket(asio::io_context& io, UniqueFd& fd) {
  auto family = socket_family(fd.get(), "DNS (UDP)");
  if (!family) return propagate(family);
  auto socket = std::make_shared<udp::socket>(io);
  boost::system::error_code ec;
  socket->assign(*family == AF_INET6 ? udp::v6() : udp::v4(), fd.get(), ec);
  if (ec) return plain_error("serve the DNS (UDP) socket: " + ec.message());
  fd.release();
  return socket;
}

void ignore_failure(std::exception_ptr) {}

}  // namespace

EgressGateway::EgressGateway(asio::io_context& io, EgressPolicy policy, GatewayOptions options)
    : io_(io), state_(std::make_shared<GatewayState>(std::move(policy), std::move(options))) {}

EgressGateway::~EgressGateway() {
  stop();
}

Result<> EgressGateway::serve(GatewayListeners listeners) {
  if (serving_) return plain_error("the egress gateway is already serving");
  struct Listener {
    std::shared_ptr<tcp::acceptor> acceptor;
    SessionStarter start;
  };
  std::vector<Listener> adopted;
  auto adopt = [&](UniqueFd& fd, std::string_view role, SessionStarter start) -> Result<> {
    auto acceptor = adopt_acceptor(io_, fd, role);
    if (!acceptor) return propagate(acceptor);
    adopted.push_back({std::move(*acceptor), start});
    return {};
  };
  if (auto ok = adopt(listeners.proxy, "HTTP proxy", start_http_proxy_session); !ok) return ok;
  if (auto ok = adopt(listeners.dns_tcp, "DNS (TCP)", start_dns_tcp_session); !ok) return ok;
  for (auto& [port, fd] : listeners.transparent) {
    auto role = "transparent relay (port " + std::to_string(port) + ")";
    if (auto ok = adopt(fd, role, start_transparent_session); !ok) return ok;
  }
  auto datagrams = adopt_datagram_socket(io_, listeners.dns_udp);
  if (!datagrams) return propagate(datagrams);

  serving_ = true;
  state_->dns_udp = *datagrams;
  start_dns_udp_server(state_, *datagrams);
  for (auto& listener : adopted) {
    state_->acceptors.push_back(listener.acceptor);
    asio::co_spawn(io_, accept_connections(state_, listener.acceptor, listener.start),
                   ignore_failure);
  }
  return {};
}

const NetworkRecord& EgressGateway::record() const {
  return state_->record;
}

std::size_t EgressGateway::active_connections() const {
  return state_->sessions.size();
}

void EgressGateway::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  boost::system::error_code ignored;
  for (auto& acceptor : state_->acceptors) acceptor->close(ignored);
  if (state_->dns_udp) state_->dns_udp->close(ignored);
  // close() only cancels; the sessions unwind (and leave the set) as their handlers run.
  auto open = state_->sessions;
  for (auto* session : open) session->close();
}

}  // namespace safeinstall::sandbox
