#include "sandbox/seccomp/process_memory.h"

#include <sys/uio.h>

#include <algorithm>
#include <cstring>

namespace safeinstall::sandbox {
namespace {

constexpr std::uint64_t kPage = 4096;

}  // namespace

std::size_t ProcessMemory::read_some(std::uint64_t address, char* into, std::size_t size) const {
  std::size_t done = 0;
  while (done < size) {
    // One page at a time: process_vm_readv fails a whole segment that crosses into an
    // unmapped page, and a string may end just before one.
    std::uint64_t at = address + done;
    std::size_t chunk = std::min<std::uint64_t>(size - done, kPage - at % kPage);
    struct iovec local {
      into + done, chunk
    };
    struct iovec remote {
      reinterpret_cast<void*>(at), chunk
    };
    ssize_t n = ::process_vm_readv(pid_, &local, 1, &remote, 1, 0);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
    if (static_cast<std::size_t>(n) < chunk) break;
  }
  return done;
}

bool ProcessMemory::read(std::uint64_t address, void* into, std::size_t size) const {
  return read_some(address, static_cast<char*>(into), size) == size;
}

std::optional<std::string> ProcessMemory::string_at(std::uint64_t address, std::size_t max) const {
  if (address == 0) return std::nullopt;
  std::string text;
  char buffer[512];
  while (text.size() < max) {
    std::size_t want = std::min<std::size_t>(sizeof buffer, max - text.size());
    // Stop at page ends so a short string never asks for the next, maybe unmapped, page.
    std::uint64_t at = address + text.size();
    want = std::min<std::uint64_t>(want, kPage - at % kPage);
    std::size_t got = read_some(at, buffer, want);
    if (got == 0) return text.empty() ? std::nullopt : std::optional(text);
    const char* end = static_cast<const char*>(std::memchr(buffer, '\0', got));
    if (end != nullptr) {
      text.append(buffer, static_cast<std::size_t>(end - buffer));
      return text;
    }
    text.append(buffer, got);
  }
  return text;
}

std::vector<std::uint64_t> ProcessMemory::pointer_array_at(std::uint64_t address,
                                                           std::size_t max) const {
  std::vector<std::uint64_t> pointers;
  if (address == 0) return pointers;
  std::vector<char> raw(max * pointer_size_);
  std::size_t got = read_some(address, raw.data(), raw.size()) / pointer_size_;
  for (std::size_t i = 0; i < got; ++i) {
    std::uint64_t pointer = 0;
    if (pointer_size_ == 4) {
      std::uint32_t narrow = 0;
      std::memcpy(&narrow, raw.data() + i * 4, 4);
      pointer = narrow;
    } else {
      std::memcpy(&pointer, raw.data() + i * 8, 8);
    }
    if (pointer == 0) break;
    pointers.push_back(pointer);
  }
  return pointers;
}

std::vector<std::string> ProcessMemory::strings_at(std::uint64_t address, std::size_t max_count,
                                                   std::size_t max_each) const {
  std::vector<std::string> strings;
  for (std::uint64_t pointer : pointer_array_at(address, max_count)) {
    strings.push_back(string_at(pointer, max_each).value_or(""));
  }
  return strings;
}

}  // namespace safeinstall::sandbox
