#include "sandbox/seccomp/process_memory.h"

#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace safeinstall::sandbox {
namespace {

constexpr std::uint64_t kPage = 4096;
// UIO_MAXIOV: the most iovecs one process_vm_readv takes.
constexpr std::size_t kMaxIovecs = 1024;

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
  // A page's worth at a time (read_some splits at page ends, so an array need not be aligned),
  // up to the terminating NULL: an environment of 30 variables is one read, not the 8 pages
  // `max` pointers could span.
  std::array<char, kPage> raw{};
  std::uint64_t at = address;
  while (pointers.size() < max) {
    std::size_t want = std::min<std::uint64_t>(kPage, (max - pointers.size()) * pointer_size_);
    std::size_t got = read_some(at, raw.data(), want) / pointer_size_;
    for (std::size_t i = 0; i < got; ++i) {
      std::uint64_t pointer = 0;
      if (pointer_size_ == 4) {
        std::uint32_t narrow = 0;
        std::memcpy(&narrow, raw.data() + i * 4, 4);
        pointer = narrow;
      } else {
        std::memcpy(&pointer, raw.data() + i * 8, 8);
      }
      if (pointer == 0) return pointers;
      pointers.push_back(pointer);
    }
    if (got * pointer_size_ < want) break;
    at += want;
  }
  return pointers;
}

std::vector<std::string> ProcessMemory::heads_at(std::span<const std::uint64_t> addresses,
                                                 std::size_t size) const {
  std::vector<std::string> heads(addresses.size());
  std::vector<char> buffer(addresses.size() * size);
  std::vector<struct iovec> remote;
  std::size_t next = 0;
  while (next < addresses.size()) {
    std::size_t batch = std::min(addresses.size() - next, kMaxIovecs);
    remote.clear();
    for (std::size_t k = 0; k < batch; ++k)
      remote.push_back({reinterpret_cast<void*>(addresses[next + k]), size});
    struct iovec local {
      buffer.data() + next* size, batch* size
    };
    ssize_t n = ::process_vm_readv(pid_, &local, 1, remote.data(), batch, 0);
    // A transfer stops at the first address it cannot read: keep the whole heads before it,
    // try that one alone, go on after it.
    std::size_t whole = n > 0 ? static_cast<std::size_t>(n) / size : 0;
    for (std::size_t k = 0; k < whole; ++k)
      heads[next + k].assign(buffer.data() + (next + k) * size, size);
    next += whole;
    if (whole < batch) {
      std::string alone(size, '\0');
      if (read(addresses[next], alone.data(), size)) heads[next] = std::move(alone);
      ++next;
    }
  }
  return heads;
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
