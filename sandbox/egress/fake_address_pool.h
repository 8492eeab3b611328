#pragma once
// The fake addresses the DNS stub hands out: one loopback address per allowed name, stable
// for the run, so the transparent relay can tell from the dialled address which name the
// client meant.

#include <boost/asio/ip/address_v4.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace safeinstall::sandbox {

class FakeAddressPool {
 public:
  // 127.77.0.1 upward: inside 127.0.0.0/8, so the sandbox's loopback carries it to the
  // transparent listeners on 0.0.0.0, and clear of 127.0.0.1 where the proxy and DNS listen.
  static constexpr std::uint32_t kDefaultFirst = 0x7f4d0001;  // 127.77.0.1
  static constexpr std::size_t kDefaultCapacity = 65534;      // up to 127.77.255.254

  explicit FakeAddressPool(
      boost::asio::ip::address_v4 first = boost::asio::ip::address_v4(kDefaultFirst),
      std::size_t capacity = kDefaultCapacity);

  // The name's address, assigning the next free one on first use; nullopt once the pool is
  // exhausted. `name` must already be canonical (see canonical_host_name).
  std::optional<boost::asio::ip::address_v4> address_for(std::string_view name);
  // The name an address was handed out for; nullopt for any other address.
  std::optional<std::string> name_for(const boost::asio::ip::address_v4& address) const;

  std::size_t size() const { return by_name_.size(); }

 private:
  std::uint32_t first_;
  std::size_t capacity_;
  std::map<std::string, std::uint32_t, std::less<>> by_name_;
  std::map<std::uint32_t, std::string> by_address_;
};

}  // namespace safeinstall::sandbox
