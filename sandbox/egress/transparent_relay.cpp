#include "sandbox/egress/transparent_relay.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <vector>

#include "sandbox/egress/coroutines.h"
#include "sandbox/egress/http_forwarder.h"
#include "sandbox/egress/tls_client_hello.h"

namespace safeinstall::sandbox {
namespace {

namespace beast = boost::beast;
constexpr std::size_t kReadStep = 4096;

// What the client dialled: the listener's port, and the IPv4 address also when the
// listener is dual-stack. One getsockname(2) for both.
struct Dialled {
  std::optional<asio::ip::address_v4> address;
  std::uint16_t port = 0;
};

Dialled dialled(const tcp::socket& socket) {
  boost::system::error_code ec;
  auto endpoint = socket.local_endpoint(ec);
  if (ec) return {};
  auto address = endpoint.address();
  if (address.is_v4()) return {address.to_v4(), endpoint.port()};
  if (address.to_v6().is_v4_mapped())
    return {asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()), endpoint.port()};
  return {std::nullopt, endpoint.port()};
}

class TransparentSession final : public GatewaySession {
 public:
  TransparentSession(std::shared_ptr<GatewayState> state, tcp::socket client)
      : GatewaySession(std::move(state), std::move(client)) {}

 private:
  asio::awaitable<void> run() override {
    const auto [address, port] = dialled(client());
    auto name = address ? state().fake_addresses.name_for(*address) : std::nullopt;
    if (!name) {
      // Not an address the DNS stub handed out: the client made it up or kept it from
      // somewhere else; there is no name to check it against.
      state().record.add_refusal(address ? address->to_string() : "", port,
                                 RefusalReason::NotAllowed);
      co_return;
    }
    if (!state().policy.allows(*name, port)) {
      state().record.add_refusal(*name, port, RefusalReason::NotAllowed);
      co_return;
    }
    set_deadline(options().request_head_timeout);
    std::vector<std::uint8_t> first(kReadStep);
    auto [ec, n] = co_await client().async_read_some(asio::buffer(first), kNoThrow);
    if (ec) co_return;
    first.resize(n);
    if (first.front() == 0x16) {
      co_await relay_tls(*name, port, first);
    } else {
      co_await forward_http(*name, port, first);
    }
  }

  asio::awaitable<void> relay_tls(const std::string& name, std::uint16_t port,
                                  std::vector<std::uint8_t>& hello) {
    auto scan = scan_client_hello(hello);
    while (scan.status == ClientHelloScan::Status::NeedMore) {
      std::size_t have = hello.size();
      hello.resize(std::min(have + kReadStep, kMaxClientHelloBytes + 1));
      auto [ec, n] = co_await client().async_read_some(
          asio::buffer(hello.data() + have, hello.size() - have), kNoThrow);
      if (ec) co_return;
      hello.resize(have + n);
      scan = scan_client_hello(hello);
    }
    if (scan.status != ClientHelloScan::Status::Complete) {
      state().record.add_refusal(name, port, RefusalReason::Malformed);
      co_return;
    }
    if (scan.server_name && *scan.server_name != name) {
      state().record.add_refusal(*scan.server_name, port, RefusalReason::SniMismatch);
      co_return;
    }
    set_deadline(options().connect_timeout * 2);
    auto socket = co_await state().connector.open_tunnel(name, port);
    if (!socket) {
      if (socket.error().refusal) state().record.add_refusal(name, port, *socket.error().refusal);
      co_return;
    }
    if (closed()) co_return;
    upstream() = std::move(*socket);
    auto& counts = state().record.add_connection(name, port, Via::Transparent);
    if (!co_await send_upstream(upstream(), hello, counts, activity())) co_return;
    set_idle_timeout(options().idle_timeout);
    co_await relay_both_ways(client(), upstream(), counts, activity(),
                             options().relay_buffer_bytes);
  }

  asio::awaitable<void> forward_http(const std::string& name, std::uint16_t port,
                                     const std::vector<std::uint8_t>& first) {
    beast::flat_buffer buffer(std::max(options().max_header_bytes, options().relay_buffer_bytes));
    buffer.commit(asio::buffer_copy(buffer.prepare(first.size()), asio::buffer(first)));
    HttpForwarder forwarder(*this, Via::Transparent);
    const RequestRouter route = [&](const RequestHead& head) {
      return examine_transparent_request(head, name, port);
    };
    auto tunnel = co_await forwarder.serve(buffer, route);
    (void)tunnel;  // examine_transparent_request never asks for a tunnel
  }
};

}  // namespace

void start_transparent_session(std::shared_ptr<GatewayState> state, tcp::socket client) {
  GatewaySession::start(std::make_shared<TransparentSession>(std::move(state), std::move(client)));
}

}  // namespace safeinstall::sandbox
