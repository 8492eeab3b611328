#pragma once
// Reads the server name (SNI) from the first bytes a TLS client sends, without decrypting
// anything: the transparent relay uses it to refuse a connection whose SNI names another
// host than the fake address it dialled (domain fronting through an allowed address).

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace safeinstall::sandbox {

// A ClientHello larger than this (across however many records) is refused as malformed:
// real ones, post-quantum key shares included, are a few KiB.
inline constexpr std::size_t kMaxClientHelloBytes = 32 * 1024;

struct ClientHelloScan {
  enum class Status {
    NeedMore,   // a prefix of a plausible ClientHello: read more bytes and scan again
    Complete,   // the whole ClientHello was read; server_name is set if it carries SNI
    NotTls,     // the first byte is not a TLS handshake record
    Malformed,  // TLS framing or ClientHello structure is broken, or too large
  };
  Status status = Status::NeedMore;
  std::optional<std::string> server_name;  // canonical host name (lowercase, no trailing dot)
};

// `bytes` is everything the client sent so far. The ClientHello may be split over several
// TLS records and over several reads; scanning again with more bytes is the way to resume.
ClientHelloScan scan_client_hello(std::span<const std::uint8_t> bytes);

}  // namespace safeinstall::sandbox
