#pragma once
// What the egress gateway saw during a run: hosts contacted (with bytes each way), attempts
// refused (with reason), and every DNS question. The runner keeps the entries as they are
// until it writes them as `network` in the report.

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

#include "sandbox/egress/egress_policy.h"

namespace safeinstall::sandbox {

// How the sandbox reached the gateway: through the HTTP proxy variables, or by dialling a
// fake DNS address that the transparent relay caught.
enum class Via { Proxy, Transparent };
std::string_view to_string(Via via);

struct ContactedHost {
  std::string host;
  std::uint16_t port = 0;
  Via via = Via::Proxy;
  std::uint64_t connections = 0;     // outbound connections opened
  std::uint64_t bytes_sent = 0;      // from the sandbox to the host
  std::uint64_t bytes_received = 0;  // from the host to the sandbox
};

struct RefusedHost {
  std::string host;  // empty when a malformed request named none
  std::uint16_t port = 0;
  RefusalReason reason = RefusalReason::NotAllowed;
  std::uint64_t count = 0;
};

struct DnsQuestion {
  std::string name;  // presentation form, lowercase; unusual bytes escaped as \DDD
  std::string type;  // "A", "AAAA", "TYPE65534"
  bool allowed = false;
  std::uint64_t count = 0;
};

// A decoy credential's value seen in what the sandbox sent through the gateway: whether the
// request was then let through or refused, the value was on its way out.
struct ExfiltrationAttempt {
  std::string decoy;  // the decoy file whose value it was: "~/.aws/credentials"
  std::string where;  // "request line", "header Authorization", "request body", "dns question"
  std::string host;   // the host it was sent to or asked about; empty when none was named
  std::uint64_t count = 0;
};

// The record's lists, in order of first appearance: what the gateway hands on once a run is over.
struct NetworkEntries {
  std::deque<ContactedHost> contacted;
  std::deque<RefusedHost> refused;
  std::deque<DnsQuestion> dns;
  std::deque<ExfiltrationAttempt> exfiltration;
};

class NetworkRecord {
 public:
  // Past this many distinct entries per list, further ones are folded into one entry named
  // "(more hosts)" / "(more names)": a hostile run cannot grow the record without bound.
  static constexpr std::size_t kMaxEntries = 4096;

  // Counts one outbound connection. The entry's address is stable for the record's life, so
  // a relay adds its bytes to it directly as they flow.
  ContactedHost& add_connection(std::string_view host, std::uint16_t port, Via via);
  void add_refusal(std::string_view host, std::uint16_t port, RefusalReason reason);
  void add_dns_question(std::string_view name, std::string_view type, bool allowed);
  void add_exfiltration(std::string_view decoy, std::string_view where, std::string_view host);

  const NetworkEntries& entries() const { return entries_; }
  const std::deque<ContactedHost>& contacted() const { return entries_.contacted; }
  const std::deque<RefusedHost>& refused() const { return entries_.refused; }
  const std::deque<DnsQuestion>& dns() const { return entries_.dns; }
  const std::deque<ExfiltrationAttempt>& exfiltration() const { return entries_.exfiltration; }

 private:
  using HostKey = std::tuple<std::string, std::uint16_t, int>;
  using NameKey = std::tuple<std::string, std::string, bool>;

  NetworkEntries entries_;
  std::map<HostKey, std::size_t> contacted_index_;
  std::map<HostKey, std::size_t> refused_index_;
  std::map<NameKey, std::size_t> dns_index_;
  std::map<std::tuple<std::string, std::string, std::string>, std::size_t> exfiltration_index_;
};

}  // namespace safeinstall::sandbox
