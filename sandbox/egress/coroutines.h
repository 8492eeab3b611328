#pragma once
// What the gateway's coroutines share: short names for Asio, and the completion token that
// hands an error back as a value. A refused, reset or timed-out connection is an outcome the
// gateway records, not an exception.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace safeinstall::sandbox {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
inline constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

}  // namespace safeinstall::sandbox
