#pragma once
// Moving bytes between the sandbox's connection and the outside one, both ways at once,
// counting what moved: through one fixed buffer per direction for the first bytes, then with
// splice(2) through a pipe, so a bulk transfer never passes through the supervisor's memory.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <span>

namespace safeinstall::sandbox {

struct ContactedHost;

// When bytes last moved on a connection; the idle watchdog reads it.
struct ActivityClock {
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  void touch() { last = std::chrono::steady_clock::now(); }
};

// Relays until both directions have ended. An end of stream is passed on as a half-close
// (shutdown of the peer's sending side), so request/response protocols that half-close
// work; any error closes both sockets, ending the other direction too.
boost::asio::awaitable<void> relay_both_ways(boost::asio::ip::tcp::socket& client,
                                             boost::asio::ip::tcp::socket& upstream,
                                             ContactedHost& counts, ActivityClock& activity,
                                             std::size_t buffer_bytes);

// Relays exactly `length` bytes from `from` to `to` (an HTTP body of known length), adding
// them to `counter`; not a byte more is read from `from`. Spliced when the body is large.
// False when either side failed or ended early.
boost::asio::awaitable<bool> relay_exactly(boost::asio::ip::tcp::socket& from,
                                           boost::asio::ip::tcp::socket& to, std::uint64_t length,
                                           std::uint64_t& counter, ActivityClock& activity,
                                           std::size_t buffer_bytes);

// Writes bytes the gateway already read from the client (a peeked ClientHello, bytes that
// followed a CONNECT head) to the upstream, counting them as sent.
boost::asio::awaitable<bool> send_upstream(boost::asio::ip::tcp::socket& upstream,
                                           std::span<const std::uint8_t> bytes,
                                           ContactedHost& counts, ActivityClock& activity);

}  // namespace safeinstall::sandbox
