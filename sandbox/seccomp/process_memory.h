#pragma once
// Reading another process's memory (process_vm_readv) to see the arguments of a call it is
// making: strings, pointer arrays, small structs. Whatever is read may change under the
// reader's feet (another thread of the target can rewrite it): good for recording, never the
// only gate of a security decision.

#include <sys/types.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace safeinstall::sandbox {

class ProcessMemory {
 public:
  // `pointer_size` is 4 for ia32 callers, whose pointer arrays hold 32-bit addresses.
  ProcessMemory(pid_t pid, std::size_t pointer_size = 8) : pid_(pid), pointer_size_(pointer_size) {}

  struct Range {
    std::uint64_t address = 0;
    std::size_t size = 0;
  };
  // Reads these ranges ahead, in one call, each as far as it is readable; a later read that
  // lies wholly inside what came is served from it. An exec's path and its argv and envp
  // arrays are one call then, not three.
  void prefetch(std::initializer_list<Range> ranges);
  // The first read string_at(address, max) and pointer_array_at(address, max) make: what a
  // prefetch() must cover for them to make none.
  static Range string_head(std::uint64_t address, std::size_t max);
  Range pointer_array_head(std::uint64_t address, std::size_t max) const;

  // Up to `max` bytes of the NUL-terminated string at `address`; nullopt if unreadable.
  std::optional<std::string> string_at(std::uint64_t address, std::size_t max = 4096) const;
  // The pointers of a NULL-terminated array (argv, envp), at most `max` of them.
  std::vector<std::uint64_t> pointer_array_at(std::uint64_t address, std::size_t max) const;
  // Exactly `size` bytes, or false.
  bool read(std::uint64_t address, void* into, std::size_t size) const;
  // The strings of a NULL-terminated array, each cut at `max_each` bytes.
  std::vector<std::string> strings_at(std::uint64_t address, std::size_t max_count,
                                      std::size_t max_each) const;
  // The first `size` bytes at each address, read with one process_vm_readv for many
  // addresses rather than one each; shorter where the readable pages end ("" for an address
  // that cannot be read at all).
  std::vector<std::string> prefixes_at(std::span<const std::uint64_t> addresses,
                                       std::size_t size) const;

 private:
  // Each range as far as it is readable, in as few calls as the iovec limit allows.
  std::vector<std::string> read_ranges(std::span<const Range> ranges) const;
  // Copies [address, address + size) from what prefetch() read, if it holds all of it.
  bool from_prefetched(std::uint64_t address, char* into, std::size_t size) const;
  // Reads up to `size` bytes, stopping at the first unmapped page; returns the bytes read.
  std::size_t read_some(std::uint64_t address, char* into, std::size_t size) const;

  pid_t pid_;
  std::size_t pointer_size_;
  struct Prefetched {
    std::uint64_t address = 0;
    std::string bytes;
  };
  std::vector<Prefetched> prefetched_;
};

}  // namespace safeinstall::sandbox
