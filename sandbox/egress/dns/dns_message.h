#pragma once
// The few parts of the DNS wire format the stub needs: the header, one question, and
// answers with at most one A record. Anything else in a query is left unread.
//
// Why not a library: Debian 12's c-ares (1.18) parses replies and builds queries but has no
// server-side query parser; libunbound exposes a resolver, not its wire parser; ldns parses
// whole messages (ldns_wire2pkt) but would be a new runtime dependency that parses every
// section and record type we never look at, and as an uninstrumented system library the
// fuzzer could not see inside it. Reading a header and one question is ~100 lines that the
// fuzz target covers completely.

#include <boost/asio/ip/address_v4.hpp>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace safeinstall::sandbox {

inline constexpr std::size_t kDnsHeaderSize = 12;
// Queries are small; anything longer is refused rather than buffered (UDP and TCP alike).
inline constexpr std::size_t kMaxDnsMessage = 4096;

enum class DnsRcode : std::uint8_t {
  NoError = 0,
  FormErr = 1,
  ServFail = 2,
  NxDomain = 3,
  NotImp = 4,
  Refused = 5,
};

namespace dns_type {
inline constexpr std::uint16_t A = 1;
inline constexpr std::uint16_t AAAA = 28;
inline constexpr std::uint16_t ANY = 255;
}  // namespace dns_type
inline constexpr std::uint16_t kDnsClassIn = 1;
inline constexpr std::uint16_t kDnsClassAny = 255;

struct DnsHeader {
  std::uint16_t id = 0;
  std::uint16_t flags = 0;
  std::uint16_t qdcount = 0;
  std::uint16_t ancount = 0;
  std::uint16_t nscount = 0;
  std::uint16_t arcount = 0;

  bool is_response() const { return (flags & 0x8000) != 0; }
  unsigned opcode() const { return (flags >> 11) & 0xfu; }
  bool recursion_desired() const { return (flags & 0x0100) != 0; }
};

struct DnsQuery {
  DnsHeader header;
  // Presentation form, lowercase, no trailing dot ("." for the root); bytes other than
  // letters, digits, `-` and `_` escaped as \DDD, so the text is unambiguous and printable.
  std::string name;
  bool name_is_hostname = false;  // no escapes were needed: a candidate for the policy
  std::uint16_t type = 0;
  std::uint16_t qclass = 0;
  std::size_t question_end = 0;  // offset just past the question in the message
};

enum class DnsParseError {
  TooShort,   // not even a header: nothing to answer
  NotAQuery,  // QR is set: never answer a response (no reflection loops)
  Malformed,  // header readable, question not: answer FORMERR
};

std::optional<DnsHeader> read_dns_header(std::span<const std::uint8_t> message);

// Reads the header and the single question; QDCOUNT must be 1. Compression pointers are not
// accepted in the question: a query has nothing earlier for them to point at.
std::expected<DnsQuery, DnsParseError> parse_dns_query(std::span<const std::uint8_t> message);

// A reply to `query` (whose bytes are `message`): the question echoed as sent (so a client's
// 0x20 case randomisation matches), and one A record when `address` is given.
std::vector<std::uint8_t> build_dns_reply(std::span<const std::uint8_t> message,
                                          const DnsQuery& query, DnsRcode rcode,
                                          std::optional<boost::asio::ip::address_v4> address,
                                          std::uint32_t ttl_seconds);

// A header-only reply (no question) for queries whose question could not be read.
std::vector<std::uint8_t> build_dns_error(const DnsHeader& query_header, DnsRcode rcode);

// "A", "AAAA", "HTTPS", ... or "TYPE1234" as in RFC 3597.
std::string dns_type_name(std::uint16_t type);

}  // namespace safeinstall::sandbox
