#include "sandbox/egress/dns/dns_stub.h"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "sandbox/egress/coroutines.h"
#include "sandbox/egress/gateway_session.h"

namespace safeinstall::sandbox {
namespace {

using asio::ip::udp;

asio::awaitable<void> serve_datagrams(std::shared_ptr<GatewayState> state,
                                      std::shared_ptr<udp::socket> socket) {
  // One buffer for the loop: datagrams are answered one at a time, and each answer is
  // computed without waiting on anything.
  std::vector<std::uint8_t> buffer(kMaxDnsMessage);
  while (!state->stopped && socket->is_open()) {
    udp::endpoint sender;
    auto [ec, n] = co_await socket->async_receive_from(asio::buffer(buffer), sender, kNoThrow);
    if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;
    if (ec) continue;  // e.g. ECONNREFUSED from an earlier reply to a closed port
    std::optional<std::vector<std::uint8_t>> reply;
    try {
      reply = state->dns.respond(std::span(buffer.data(), n));
    } catch (const std::exception&) {
      continue;  // one bad datagram must not end DNS for the run
    }
    if (!reply) continue;
    co_await socket->async_send_to(asio::buffer(*reply), sender, kNoThrow);
  }
}

class DnsTcpSession final : public GatewaySession {
 public:
  DnsTcpSession(std::shared_ptr<GatewayState> state, tcp::socket client)
      : GatewaySession(std::move(state), std::move(client)) {}

 private:
  asio::awaitable<void> run() override {
    std::vector<std::uint8_t> message;
    while (!closed()) {
      set_deadline(options().request_head_timeout);
      std::array<std::uint8_t, 2> prefix{};
      auto [ec, n] = co_await asio::async_read(client(), asio::buffer(prefix), kNoThrow);
      if (ec) co_return;
      std::size_t length = (std::size_t{prefix[0]} << 8) | prefix[1];
      if (length == 0 || length > kMaxDnsMessage) {
        state().record.add_refusal("", kDnsPort, RefusalReason::Malformed);
        co_return;
      }
      message.resize(length);
      auto [read_error, m] = co_await asio::async_read(client(), asio::buffer(message), kNoThrow);
      if (read_error) co_return;
      auto reply = state().dns.respond(message);
      if (!reply) co_return;
      std::array<std::uint8_t, 2> reply_prefix{static_cast<std::uint8_t>(reply->size() >> 8),
                                               static_cast<std::uint8_t>(reply->size() & 0xff)};
      std::array<asio::const_buffer, 2> parts{asio::buffer(reply_prefix), asio::buffer(*reply)};
      auto [write_error, w] = co_await asio::async_write(client(), parts, kNoThrow);
      if (write_error) co_return;
    }
  }
};

}  // namespace

void start_dns_udp_server(std::shared_ptr<GatewayState> state,
                          std::shared_ptr<udp::socket> socket) {
  auto executor = socket->get_executor();
  asio::co_spawn(executor, serve_datagrams(std::move(state), std::move(socket)),
                 [](std::exception_ptr) {});
}

void start_dns_tcp_session(std::shared_ptr<GatewayState> state, tcp::socket client) {
  GatewaySession::start(std::make_shared<DnsTcpSession>(std::move(state), std::move(client)));
}

}  // namespace safeinstall::sandbox
