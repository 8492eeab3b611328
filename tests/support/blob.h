#pragma once
// What si-registry serves at /blob/N: N bytes of a fixed 64-character cycle, so a test can
// check a download byte for byte without storing anything.

#include <cstddef>
#include <string>
#include <string_view>

namespace safeinstall::test {

inline constexpr std::string_view kBlobCycle =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
static_assert(kBlobCycle.size() == 64);

// The first `size` bytes of /blob/<anything >= size>.
inline std::string registry_blob(std::size_t size) {
  std::string out;
  out.reserve(size);
  for (std::size_t i = 0; i < size; ++i) out += kBlobCycle[i % kBlobCycle.size()];
  return out;
}

}  // namespace safeinstall::test
