#include "sandbox/egress/network_record.h"

namespace safeinstall::sandbox {
namespace {

constexpr std::string_view kMoreHosts = "(more hosts)";
constexpr std::string_view kMoreNames = "(more names)";
constexpr std::size_t kMaxRecordedText = 260;

// Hosts and names come from hostile clients: keep printable ASCII, escape the rest as \xHH
// (so the report stays valid UTF-8 and one line per entry), and bound the length.
std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    if (out.size() >= kMaxRecordedText) {
      out += "...";
      break;
    }
    if (c > 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

// Finds the entry for `key`, creating it with `make` while there is room and folding it into
// the overflow key's entry once the list is full.
template <typename Entry, typename Key, typename Make>
Entry& find_or_add(std::deque<Entry>& entries, std::map<Key, std::size_t>& index, Key key,
                   Key overflow_key, Make make) {
  if (auto it = index.find(key); it != index.end()) return entries[it->second];
  if (entries.size() >= NetworkRecord::kMaxEntries) key = std::move(overflow_key);
  if (auto it = index.find(key); it != index.end()) return entries[it->second];
  index.emplace(key, entries.size());
  entries.push_back(make(key));
  return entries.back();
}

}  // namespace

std::string_view to_string(Via via) {
  return via == Via::Proxy ? "proxy" : "transparent";
}

ContactedHost& NetworkRecord::add_connection(std::string_view host, std::uint16_t port, Via via) {
  auto& entry = find_or_add(
      entries_.contacted, contacted_index_, HostKey{printable(host), port, static_cast<int>(via)},
      HostKey{std::string(kMoreHosts), 0, static_cast<int>(via)}, [via](const HostKey& k) {
        return ContactedHost{std::get<0>(k), std::get<1>(k), via};
      });
  ++entry.connections;
  return entry;
}

void NetworkRecord::add_refusal(std::string_view host, std::uint16_t port, RefusalReason reason) {
  auto& entry = find_or_add(
      entries_.refused, refused_index_, HostKey{printable(host), port, static_cast<int>(reason)},
      HostKey{std::string(kMoreHosts), 0, static_cast<int>(reason)}, [reason](const HostKey& k) {
        return RefusedHost{std::get<0>(k), std::get<1>(k), reason};
      });
  ++entry.count;
}

void NetworkRecord::add_dns_question(std::string_view name, std::string_view type, bool allowed) {
  auto& entry =
      find_or_add(entries_.dns, dns_index_, NameKey{printable(name), printable(type), allowed},
                  NameKey{std::string(kMoreNames), "*", allowed}, [](const NameKey& k) {
                    return DnsQuestion{std::get<0>(k), std::get<1>(k), std::get<2>(k)};
                  });
  ++entry.count;
}

void NetworkRecord::add_exfiltration(std::string_view decoy, std::string_view where,
                                     std::string_view host) {
  using Key = std::tuple<std::string, std::string, std::string>;
  auto& entry = find_or_add(
      entries_.exfiltration, exfiltration_index_,
      Key{std::string(decoy), std::string(where.substr(0, kMaxRecordedText)), printable(host)},
      Key{std::string(decoy), "*", std::string(kMoreHosts)}, [](const Key& k) {
        return ExfiltrationAttempt{std::get<0>(k), std::get<1>(k), std::get<2>(k)};
      });
  ++entry.count;
}

}  // namespace safeinstall::sandbox
