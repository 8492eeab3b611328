#include "sandbox/seccomp/process_memory.h"

#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

namespace safeinstall::sandbox {
namespace {

constexpr std::uint64_t kPage = 4096;
// What a string is read by: most are shorter, and a longer one takes another read.
constexpr std::size_t kStringChunk = 512;
// UIO_MAXIOV: the most iovecs one process_vm_readv takes.
constexpr std::size_t kMaxIovecs = 1024;

}  // namespace

ProcessMemory::Range ProcessMemory::string_head(std::uint64_t address, std::size_t max) {
  return {address, std::min(kStringChunk, max)};
}

ProcessMemory::Range ProcessMemory::pointer_array_head(std::uint64_t address,
                                                       std::size_t max) const {
  return {address, static_cast<std::size_t>(std::min<std::uint64_t>(kPage, max * pointer_size_))};
}

void ProcessMemory::prefetch(std::initializer_list<Range> ranges) {
  std::vector<Range> wanted(ranges);
  auto read = read_ranges(wanted);
  for (std::size_t i = 0; i < read.size(); ++i) {
    if (!read[i].empty()) prefetched_.push_back({wanted[i].address, std::move(read[i])});
  }
}

bool ProcessMemory::from_prefetched(std::uint64_t address, char* into, std::size_t size) const {
  for (const auto& p : prefetched_) {
    if (address < p.address || address - p.address > p.bytes.size() ||
        p.bytes.size() - (address - p.address) < size)
      continue;
    std::memcpy(into, p.bytes.data() + (address - p.address), size);
    return true;
  }
  return false;
}

std::size_t ProcessMemory::read_some(std::uint64_t address, char* into, std::size_t size) const {
  if (from_prefetched(address, into, size)) return size;
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
  char buffer[kStringChunk];
  while (text.size() < max) {
    // A read that runs into an unmapped page comes back short (read_some), not failed.
    auto [at, want] = string_head(address + text.size(), max - text.size());
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
    std::size_t want = pointer_array_head(at, max - pointers.size()).size;
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

std::vector<std::string> ProcessMemory::read_ranges(std::span<const Range> ranges) const {
  std::vector<std::string> read(ranges.size());
  std::vector<char> buffer;
  // Each range is cut at page ends into pieces; consecutive pieces in one page share one
  // remote segment spanning them. The kernel pins a segment's pages once per segment, so
  // thirty environment variables in two pages cost two pinnings, not thirty; the bytes between
  // them lie in pages already readable, and are read and dropped.
  struct Piece {
    std::uint64_t address = 0;
    std::size_t size = 0;
    std::size_t range = 0;
    std::size_t segment = 0;
  };
  std::vector<Piece> pieces;
  std::vector<struct iovec> remote;
  std::vector<std::size_t> at_in_buffer;  // where each segment lands in `buffer`
  std::size_t next = 0;
  while (next < ranges.size()) {
    // As many ranges as fit one call (read_some says why pieces end at pages); those
    // prefetched already are served from there.
    pieces.clear();
    remote.clear();
    std::size_t end = next;
    for (; end < ranges.size() && pieces.size() + ranges[end].size / kPage + 2 <= kMaxIovecs;
         ++end) {
      auto [at, left] = ranges[end];
      read[end].resize(left);
      if (from_prefetched(at, read[end].data(), left)) continue;
      read[end].clear();
      while (left > 0) {
        std::size_t chunk = std::min<std::uint64_t>(left, kPage - at % kPage);
        pieces.push_back({at, chunk, end, 0});
        at += chunk;
        left -= chunk;
      }
    }
    if (end == next) break;  // a range too large for one call: not read here
    if (pieces.empty()) {
      next = end;
      continue;
    }
    for (auto& piece : pieces) {
      if (!remote.empty()) {
        auto& last = remote.back();
        auto start = reinterpret_cast<std::uint64_t>(last.iov_base);
        if (start / kPage == piece.address / kPage) {
          std::uint64_t from = std::min(start, piece.address);
          std::uint64_t to = std::max(start + last.iov_len, piece.address + piece.size);
          last = {reinterpret_cast<void*>(from), static_cast<std::size_t>(to - from)};
          piece.segment = remote.size() - 1;
          continue;
        }
      }
      remote.push_back({reinterpret_cast<void*>(piece.address), piece.size});
      piece.segment = remote.size() - 1;
    }
    at_in_buffer.assign(remote.size(), 0);
    std::size_t total = 0;
    for (std::size_t i = 0; i < remote.size(); ++i) {
      at_in_buffer[i] = total;
      total += remote[i].iov_len;
    }
    buffer.resize(total);
    struct iovec local {
      buffer.data(), total
    };
    ssize_t n = ::process_vm_readv(pid_, &local, 1, remote.data(), remote.size(), 0);
    std::size_t got = n > 0 ? static_cast<std::size_t>(n) : 0;
    // The transfer stopped at the first segment it could not read: the range the first piece
    // there belongs to keeps what came before, and those after it are read again.
    std::optional<std::size_t> stopped;
    for (const auto& piece : pieces) {
      const auto& segment = remote[piece.segment];
      std::size_t offset = at_in_buffer[piece.segment] +
                           (piece.address - reinterpret_cast<std::uint64_t>(segment.iov_base));
      std::size_t take = offset < got ? std::min(piece.size, got - offset) : 0;
      read[piece.range].append(buffer.data() + offset, take);
      if (take < piece.size) {
        stopped = piece.range;
        break;
      }
    }
    next = stopped ? *stopped + 1 : end;
  }
  return read;
}

std::vector<std::string> ProcessMemory::prefixes_at(std::span<const std::uint64_t> addresses,
                                                    std::size_t size) const {
  std::vector<Range> ranges;
  ranges.reserve(addresses.size());
  for (std::uint64_t address : addresses) ranges.push_back({address, size});
  return read_ranges(ranges);
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
