#include "sandbox/egress/fake_address_pool.h"

namespace safeinstall::sandbox {

FakeAddressPool::FakeAddressPool(boost::asio::ip::address_v4 first, std::size_t capacity)
    : first_(first.to_uint()), capacity_(capacity) {}

std::optional<boost::asio::ip::address_v4> FakeAddressPool::address_for(std::string_view name) {
  if (auto it = by_name_.find(name); it != by_name_.end()) {
    return boost::asio::ip::address_v4(it->second);
  }
  if (by_name_.size() >= capacity_) return std::nullopt;
  auto value = static_cast<std::uint32_t>(first_ + by_name_.size());
  by_name_.emplace(std::string(name), value);
  by_address_.emplace(value, std::string(name));
  return boost::asio::ip::address_v4(value);
}

std::optional<std::string> FakeAddressPool::name_for(
    const boost::asio::ip::address_v4& address) const {
  auto it = by_address_.find(address.to_uint());
  if (it == by_address_.end()) return std::nullopt;
  return it->second;
}

}  // namespace safeinstall::sandbox
