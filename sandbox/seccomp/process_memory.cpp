#include "sandbox/seccomp/process_memory.h"

#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

namespace safeinstall::sandbox {
namespace {

constexpr std::uint64_t kPage = 4096;
// UIO_MAXIOV: the most iovecs one process_vm_readv takes.
constexpr std::size_t kMaxIovecs = 1024;

}  // namespace

std::size_t ProcessMemory::read_some(std::uint64_t address, char* into, std::size_t size) const {
  // The remote range is cut at page ends, in one call: a transfer stops at the first segment
  // it cannot read, so what it returns ends where the readable pages do (process_vm_readv
  // may fail a whole segment that crosses into an unmapped page).
  constexpr std::size_t kPagesPerCall = 16;
  std::size_t done = 0;
  while (done < size) {
    std::array<struct iovec, kPagesPerCall> remote{};
    std::size_t count = 0;
    std::size_t planned = 0;
    for (std::uint64_t at = address + done; count < remote.size() && done + planned < size;
         ++count) {
      std::size_t chunk = std::min<std::uint64_t>(size - done - planned, kPage - at % kPage);
      remote[count] = {reinterpret_cast<void*>(at), chunk};
      planned += chunk;
      at += chunk;
    }
    struct iovec local {
      into + done, planned
    };
    ssize_t n = ::process_vm_readv(pid_, &local, 1, remote.data(), count, 0);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
    if (static_cast<std::size_t>(n) < planned) break;
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

std::vector<std::string> ProcessMemory::prefixes_at(std::span<const std::uint64_t> addresses,
                                                    std::size_t size) const {
  std::vector<std::string> prefixes(addresses.size());
  std::vector<char> buffer;
  std::vector<struct iovec> remote;
  std::vector<std::size_t> owner;  // the address each segment belongs to
  std::size_t next = 0;
  while (next < addresses.size()) {
    // As many addresses as fit one call, each cut at page ends (read_some says why).
    remote.clear();
    owner.clear();
    std::size_t total = 0;
    std::size_t end = next;
    for (; end < addresses.size() && remote.size() + size / kPage + 2 <= kMaxIovecs; ++end) {
      std::uint64_t at = addresses[end];
      for (std::size_t left = size; left > 0;) {
        std::size_t chunk = std::min<std::uint64_t>(left, kPage - at % kPage);
        remote.push_back({reinterpret_cast<void*>(at), chunk});
        owner.push_back(end);
        at += chunk;
        left -= chunk;
        total += chunk;
      }
    }
    buffer.resize(total);
    struct iovec local {
      buffer.data(), total
    };
    ssize_t n = ::process_vm_readv(pid_, &local, 1, remote.data(), remote.size(), 0);
    std::size_t got = n > 0 ? static_cast<std::size_t>(n) : 0;
    // The transfer stopped at the first segment it could not read: the address it belongs to
    // keeps what came before, and those after it are read again.
    std::size_t offset = 0;
    std::optional<std::size_t> stopped;
    for (std::size_t i = 0; i < remote.size(); ++i) {
      std::size_t take = std::min(remote[i].iov_len, got - offset);
      prefixes[owner[i]].append(buffer.data() + offset, take);
      offset += take;
      if (take < remote[i].iov_len) {
        stopped = owner[i];
        break;
      }
    }
    next = stopped ? *stopped + 1 : end;
  }
  return prefixes;
}

std::vector<std::string> ProcessMemory::strings_at(std::uint64_t address, std::size_t max_count,
                                                   std::size_t max_each) const {
  // Each string's first bytes in one call for all; only one longer than that is read on alone.
  constexpr std::size_t kHead = 256;
  auto pointers = pointer_array_at(address, max_count);
  auto heads = prefixes_at(pointers, std::min(kHead, max_each));
  std::vector<std::string> strings;
  strings.reserve(pointers.size());
  for (std::size_t i = 0; i < pointers.size(); ++i) {
    std::size_t end = heads[i].find('\0');
    if (end != std::string::npos) {
      heads[i].resize(end);
      strings.push_back(std::move(heads[i]));
    } else if (heads[i].size() == max_each) {
      strings.push_back(std::move(heads[i]));
    } else {
      strings.push_back(string_at(pointers[i], max_each).value_or(""));
    }
  }
  return strings;
}

}  // namespace safeinstall::sandbox
