#include "sandbox/egress/dns/dns_responder.h"

namespace safeinstall::sandbox {

constexpr unsigned kOpcodeQuery = 0;

std::optional<std::vector<std::uint8_t>> DnsResponder::respond(
    std::span<const std::uint8_t> message) {
  auto query = parse_dns_query(message);
  if (!query) {
    record_.add_refusal("", kDnsPort, RefusalReason::Malformed);
    if (query.error() != DnsParseError::Malformed) return std::nullopt;
    return build_dns_error(*read_dns_header(message), DnsRcode::FormErr);
  }
  if (query->header.opcode() != kOpcodeQuery) {
    record_.add_refusal("", kDnsPort, RefusalReason::Malformed);
    return build_dns_error(query->header, DnsRcode::NotImp);
  }
  return answer(message, *query);
}

std::vector<std::uint8_t> DnsResponder::answer(std::span<const std::uint8_t> message,
                                               const DnsQuery& query) {
  bool internet_class = query.qclass == kDnsClassIn || query.qclass == kDnsClassAny;
  bool allowed = internet_class && query.name_is_hostname && policy_.allows_name(query.name);
  std::string recorded_name = query.name;
  if (decoys_ != nullptr) {
    if (auto decoy = decoys_->find(query.name)) {
      recorded_name = masked_decoy_host(query.name, *decoy);
      record_.add_exfiltration(*decoy, "dns question", recorded_name);
    }
  }
  record_.add_dns_question(recorded_name, dns_type_name(query.type), allowed);
  if (!internet_class) return build_dns_reply(message, query, DnsRcode::Refused, std::nullopt, 0);
  if (!allowed) return build_dns_reply(message, query, DnsRcode::NxDomain, std::nullopt, 0);
  if (query.type != dns_type::A && query.type != dns_type::ANY) {
    // AAAA, HTTPS, MX...: the name exists but has nothing of that type here, so clients fall
    // back to the A record without waiting.
    return build_dns_reply(message, query, DnsRcode::NoError, std::nullopt, 0);
  }
  auto canonical = canonical_host_name(query.name);
  auto address = canonical ? addresses_.address_for(*canonical) : std::nullopt;
  if (!address) return build_dns_reply(message, query, DnsRcode::ServFail, std::nullopt, 0);
  return build_dns_reply(message, query, DnsRcode::NoError, address, ttl_);
}

}  // namespace safeinstall::sandbox
