#include "sandbox/egress/dns/dns_message.h"

#include "sandbox/base/escaped_text.h"

namespace safeinstall::sandbox {
namespace {

constexpr std::size_t kMaxWireName = 255;
constexpr std::uint16_t kFlagResponse = 0x8000;
constexpr std::uint16_t kFlagAuthoritative = 0x0400;
constexpr std::uint16_t kFlagRecursionDesired = 0x0100;
constexpr std::uint16_t kFlagRecursionAvailable = 0x0080;
constexpr std::uint16_t kOpcodeMask = 0x7800;

std::uint16_t read_u16(std::span<const std::uint8_t> bytes, std::size_t offset) {
  return static_cast<std::uint16_t>((bytes[offset] << 8) | bytes[offset + 1]);
}

void put_u16(std::vector<std::uint8_t>& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value & 0xff));
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t value) {
  put_u16(out, static_cast<std::uint16_t>(value >> 16));
  put_u16(out, static_cast<std::uint16_t>(value & 0xffff));
}

bool is_plain_name_byte(std::uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// The reply's flags: response, same opcode, authoritative (the stub is the only source of
// truth for the sandbox), RD echoed, RA set so stub resolvers do not complain.
std::uint16_t reply_flags(const DnsHeader& query, DnsRcode rcode) {
  std::uint16_t flags = kFlagResponse | kFlagAuthoritative | kFlagRecursionAvailable;
  flags = static_cast<std::uint16_t>(flags | (query.flags & (kOpcodeMask | kFlagRecursionDesired)));
  return static_cast<std::uint16_t>(flags | static_cast<std::uint16_t>(rcode));
}

void put_header(std::vector<std::uint8_t>& out, const DnsHeader& header) {
  put_u16(out, header.id);
  put_u16(out, header.flags);
  put_u16(out, header.qdcount);
  put_u16(out, header.ancount);
  put_u16(out, header.nscount);
  put_u16(out, header.arcount);
}

// Reads the question name starting at `offset`; returns the offset past it.
std::optional<std::size_t> read_name(std::span<const std::uint8_t> message, std::size_t offset,
                                     DnsQuery& query) {
  std::size_t wire_length = 0;
  bool hostname = true;
  std::string& name = query.name;
  name.clear();
  while (true) {
    if (offset >= message.size()) return std::nullopt;
    std::uint8_t length = message[offset++];
    ++wire_length;
    if (length == 0) break;
    if ((length & 0xc0) != 0) return std::nullopt;  // pointer or extended label type
    wire_length += length;
    if (wire_length > kMaxWireName || offset + length > message.size()) return std::nullopt;
    if (!name.empty()) name += '.';
    for (std::size_t i = 0; i < length; ++i) {
      std::uint8_t c = message[offset + i];
      if (c >= 'A' && c <= 'Z') c = static_cast<std::uint8_t>(c - 'A' + 'a');
      if (is_plain_name_byte(c)) {
        name += static_cast<char>(c);
      } else {
        append_escaped_byte(name, c);
        hostname = false;
      }
    }
    offset += length;
  }
  if (name.empty()) {
    name = ".";
    hostname = false;
  }
  query.name_is_hostname = hostname;
  return offset;
}

}  // namespace

std::optional<DnsHeader> read_dns_header(std::span<const std::uint8_t> message) {
  if (message.size() < kDnsHeaderSize) return std::nullopt;
  return DnsHeader{read_u16(message, 0), read_u16(message, 2), read_u16(message, 4),
                   read_u16(message, 6), read_u16(message, 8), read_u16(message, 10)};
}

std::expected<DnsQuery, DnsParseError> parse_dns_query(std::span<const std::uint8_t> message) {
  auto header = read_dns_header(message);
  if (!header) return std::unexpected(DnsParseError::TooShort);
  if (header->is_response()) return std::unexpected(DnsParseError::NotAQuery);
  if (header->qdcount != 1) return std::unexpected(DnsParseError::Malformed);
  DnsQuery query;
  query.header = *header;
  auto end = read_name(message, kDnsHeaderSize, query);
  if (!end || *end + 4 > message.size()) return std::unexpected(DnsParseError::Malformed);
  query.type = read_u16(message, *end);
  query.qclass = read_u16(message, *end + 2);
  query.question_end = *end + 4;
  return query;
}

std::vector<std::uint8_t> build_dns_reply(std::span<const std::uint8_t> message,
                                          const DnsQuery& query, DnsRcode rcode,
                                          std::optional<boost::asio::ip::address_v4> address,
                                          std::uint32_t ttl_seconds) {
  std::vector<std::uint8_t> out;
  out.reserve(query.question_end + 16);
  DnsHeader header{query.header.id,
                   reply_flags(query.header, rcode),
                   1,
                   static_cast<std::uint16_t>(address ? 1 : 0),
                   0,
                   0};
  put_header(out, header);
  out.insert(out.end(), message.begin() + kDnsHeaderSize,
             message.begin() + static_cast<std::ptrdiff_t>(query.question_end));
  if (address) {
    put_u16(out, 0xc000 | kDnsHeaderSize);  // pointer to the question's name
    put_u16(out, dns_type::A);
    put_u16(out, kDnsClassIn);
    put_u32(out, ttl_seconds);
    put_u16(out, 4);
    auto bytes = address->to_bytes();
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  return out;
}

std::vector<std::uint8_t> build_dns_error(const DnsHeader& query_header, DnsRcode rcode) {
  std::vector<std::uint8_t> out;
  out.reserve(kDnsHeaderSize);
  put_header(out, DnsHeader{query_header.id, reply_flags(query_header, rcode), 0, 0, 0, 0});
  return out;
}

std::string dns_type_name(std::uint16_t type) {
  switch (type) {
    case 1:
      return "A";
    case 2:
      return "NS";
    case 5:
      return "CNAME";
    case 6:
      return "SOA";
    case 12:
      return "PTR";
    case 15:
      return "MX";
    case 16:
      return "TXT";
    case 28:
      return "AAAA";
    case 33:
      return "SRV";
    case 35:
      return "NAPTR";
    case 64:
      return "SVCB";
    case 65:
      return "HTTPS";
    case 255:
      return "ANY";
    default:
      return "TYPE" + std::to_string(type);
  }
}

}  // namespace safeinstall::sandbox
