#pragma once
// Which hosts the sandbox may reach: host patterns from --allow-host / profiles, and the
// classification of resolved addresses that keeps the sandbox off the host's own network.

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/base/error.h"

namespace safeinstall::sandbox {

// Why the gateway refused something; the strings are the report's `network.refused.reason`.
enum class RefusalReason {
  NotAllowed,      // no pattern names this host and port
  PrivateAddress,  // the host resolved only to loopback/private/link-local/... addresses
  SniMismatch,     // the name sent (TLS SNI or HTTP Host) differs from the name dialled
  Malformed,       // the request or query could not be understood
};
std::string_view to_string(RefusalReason reason);

inline constexpr std::uint16_t kDefaultAllowedPort = 443;

// One parsed pattern: `registry.npmjs.org`, `*.pythonhosted.org:443`, `203.0.113.7:8080`,
// `[2001:db8::1]`.
struct HostPattern {
  enum class Kind {
    Exact,       // this host name only
    Subdomains,  // `*.example.org`: strict subdomains, not example.org itself
    Address,     // an IP literal, matched exactly
  };
  Kind kind = Kind::Exact;
  std::string host;  // lowercase, no trailing dot, no `*.`; canonical text for addresses
  std::optional<boost::asio::ip::address> address;  // for Kind::Address
  std::uint16_t port = kDefaultAllowedPort;

  // The pattern as a user would write it, canonicalised: `*.pythonhosted.org:443`.
  std::string text() const;
};

// Parses one pattern; the error names the pattern and says what is wrong with it.
Result<HostPattern> parse_host_pattern(std::string_view text);

// A host name as the gateway compares it: lowercase, without one trailing dot, every label
// letters/digits/`-`/`_`, at most 253 characters. Names whose last label is numeric
// (`2130706433`, `1.2.3`) are rejected: resolvers read them as IPv4 numbers.
std::optional<std::string> canonical_host_name(std::string_view name);

// `203.0.113.7`, `2001:db8::1` or `[2001:db8::1]`; no zone ids, no shorthand IPv4 forms.
std::optional<boost::asio::ip::address> parse_ip_literal(std::string_view text);

// True for addresses a sandbox must not reach unless a pattern lists them exactly:
// unspecified, 0.0.0.0/8, loopback, RFC 1918, CGNAT 100.64.0.0/10, link-local (cloud
// metadata 169.254.169.254), multicast, 240.0.0.0/4 and broadcast, fc00::/7, fe80::/10,
// fec0::/10, ff00::/8, and the IPv6 forms that embed such an IPv4 address (mapped,
// compatible, NAT64 64:ff9b::/96, 6to4). Documentation ranges are public here.
bool is_non_public_address(const boost::asio::ip::address& address);

class EgressPolicy {
 public:
  EgressPolicy() = default;
  explicit EgressPolicy(std::vector<HostPattern> patterns) : patterns_(std::move(patterns)) {}

  // Parses every pattern; the first bad one fails the whole policy.
  static Result<EgressPolicy> parse(const std::vector<std::string>& patterns);

  enum class Decision { Allowed, NotAllowed, Malformed };
  // `host` as a client wrote it (name, IPv4, bracketed or bare IPv6).
  Decision decide(std::string_view host, std::uint16_t port) const;
  bool allows(std::string_view host, std::uint16_t port) const {
    return decide(host, port) == Decision::Allowed;
  }

  // For the DNS stub: a name some pattern allows on some port.
  bool allows_name(std::string_view name) const;

  // After resolution: public addresses pass; others only when listed exactly with this port.
  bool permits_address(const boost::asio::ip::address& address, std::uint16_t port) const;

  const std::vector<HostPattern>& patterns() const { return patterns_; }

  // Audit mode (--audit): every host name and public address is allowed on every port, to
  // learn what a command needs; what a name resolves to still has to pass permits_address(),
  // so the host's loopback, private networks and cloud metadata stay out of reach.
  void allow_any_public_host() { any_public_host_ = true; }

 private:
  bool name_matches(const std::string& name, std::uint16_t port, bool any_port) const;

  std::vector<HostPattern> patterns_;
  bool any_public_host_ = false;
};

}  // namespace safeinstall::sandbox
