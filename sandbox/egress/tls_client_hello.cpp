#include "sandbox/egress/tls_client_hello.h"

#include <string_view>
#include <vector>

#include "sandbox/egress/egress_policy.h"

namespace safeinstall::sandbox {
namespace {

constexpr std::uint8_t kHandshakeRecord = 0x16;
constexpr std::uint8_t kClientHello = 1;
constexpr std::size_t kRecordHeader = 5;
constexpr std::size_t kMaxRecordPayload = 16384 + 2048;  // TLSPlaintext limit, with slack
constexpr std::uint16_t kServerNameExtension = 0;
constexpr std::uint8_t kHostNameType = 0;

using Status = ClientHelloScan::Status;

// Bounds-checked reading of big-endian fields; any overrun makes the reader fail for good.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  bool ok() const { return ok_; }
  bool empty() const { return offset_ >= bytes_.size(); }
  std::size_t number(std::size_t width) {
    if (!ok_ || bytes_.size() - offset_ < width) {
      ok_ = false;
      return 0;
    }
    std::size_t value = 0;
    for (std::size_t i = 0; i < width; ++i) value = (value << 8) | bytes_[offset_++];
    return value;
  }
  std::span<const std::uint8_t> take(std::size_t length) {
    if (!ok_ || bytes_.size() - offset_ < length) {
      ok_ = false;
      return {};
    }
    auto part = bytes_.subspan(offset_, length);
    offset_ += length;
    return part;
  }
  // A vector<...> with a length prefix of `width` bytes.
  std::span<const std::uint8_t> prefixed(std::size_t width) { return take(number(width)); }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t offset_ = 0;
  bool ok_ = true;
};

ClientHelloScan malformed() {
  return {Status::Malformed, std::nullopt};
}

// server_name extension (RFC 6066): a list with at most one host_name entry.
bool read_server_name(std::span<const std::uint8_t> data, std::optional<std::string>& out) {
  Reader extension(data);
  Reader list(extension.prefixed(2));
  if (!extension.ok() || !extension.empty()) return false;
  while (list.ok() && !list.empty()) {
    auto type = list.number(1);
    auto name = list.prefixed(2);
    if (!list.ok()) return false;
    if (type != kHostNameType) continue;
    if (out) return false;
    auto canonical = canonical_host_name(
        std::string_view(reinterpret_cast<const char*>(name.data()), name.size()));
    if (!canonical || name.empty() || name.back() == '.') return false;
    out = std::move(*canonical);
  }
  return list.ok();
}

ClientHelloScan parse_client_hello_body(std::span<const std::uint8_t> body) {
  Reader hello(body);
  hello.take(2 + 32);  // legacy_version, random
  auto session_id = hello.prefixed(1);
  auto cipher_suites = hello.prefixed(2);
  auto compression = hello.prefixed(1);
  if (!hello.ok() || session_id.size() > 32 || cipher_suites.size() < 2 ||
      cipher_suites.size() % 2 != 0 || compression.empty()) {
    return malformed();
  }
  ClientHelloScan scan{Status::Complete, std::nullopt};
  if (hello.empty()) return scan;  // no extensions at all (very old clients)
  Reader extensions(hello.prefixed(2));
  if (!hello.ok() || !hello.empty()) return malformed();
  bool seen_server_name = false;
  while (!extensions.empty()) {
    auto type = extensions.number(2);
    auto data = extensions.prefixed(2);
    if (!extensions.ok()) return malformed();
    if (type != kServerNameExtension) continue;
    if (seen_server_name || !read_server_name(data, scan.server_name)) return malformed();
    seen_server_name = true;
  }
  return scan;
}

}  // namespace

ClientHelloScan scan_client_hello(std::span<const std::uint8_t> bytes) {
  if (!bytes.empty() && bytes[0] != kHandshakeRecord) return {Status::NotTls, std::nullopt};
  if (bytes.size() > kMaxClientHelloBytes) bytes = bytes.first(kMaxClientHelloBytes);
  std::vector<std::uint8_t> handshake;
  std::size_t offset = 0;
  while (true) {
    if (handshake.size() >= 4) {
      if (handshake[0] != kClientHello) return malformed();
      std::size_t length =
          (std::size_t{handshake[1]} << 16) | (std::size_t{handshake[2]} << 8) | handshake[3];
      if (length + 4 > kMaxClientHelloBytes) return malformed();
      if (handshake.size() >= length + 4) {
        return parse_client_hello_body(std::span(handshake).subspan(4, length));
      }
    }
    if (bytes.size() - offset < kRecordHeader) break;
    auto record = bytes.subspan(offset);
    std::size_t payload = (std::size_t{record[3]} << 8) | record[4];
    if (record[0] != kHandshakeRecord || record[1] != 3 || payload == 0 ||
        payload > kMaxRecordPayload) {
      return malformed();
    }
    if (record.size() < kRecordHeader + payload) break;
    handshake.insert(handshake.end(), record.begin() + kRecordHeader,
                     record.begin() + static_cast<std::ptrdiff_t>(kRecordHeader + payload));
    offset += kRecordHeader + payload;
  }
  // Everything so far is consistent; only a client that keeps sending without finishing is
  // refused, once it passes the bound.
  if (bytes.size() >= kMaxClientHelloBytes) return malformed();
  return {Status::NeedMore, std::nullopt};
}

}  // namespace safeinstall::sandbox
