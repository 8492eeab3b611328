// DNS messages as the stub receives them (UDP or TCP): header and question parsing, the
// policy decision, the fake address pool and the answer builder.
#include <cstddef>
#include <cstdint>
#include <span>

#include "sandbox/egress/dns/dns_responder.h"

using namespace safeinstall::sandbox;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const EgressPolicy policy =
      *EgressPolicy::parse({"registry.npmjs.org", "*.pythonhosted.org", "a.b:80"});
  static FakeAddressPool pool;
  static NetworkRecord record;
  static DnsResponder responder(policy, pool, record, 60);

  std::span<const std::uint8_t> message(data, size);
  auto reply = responder.respond(message);
  if (!reply) return 0;
  // Every reply is a response to this query's id, never larger than the query plus one A
  // record, and parses back as a header.
  auto header = read_dns_header(*reply);
  if (!header || !header->is_response() || size < kDnsHeaderSize) __builtin_trap();
  if (header->id != ((data[0] << 8) | data[1])) __builtin_trap();
  if (reply->size() > size + 16) __builtin_trap();
  if (header->ancount == 1) {
    auto query = parse_dns_query(message);
    if (!query || !query->name_is_hostname || !policy.allows_name(query->name)) __builtin_trap();
  }
  return 0;
}
