#pragma once
// Paths of a list that may hold a million entries (a change list, a staged tree), stored once
// each, end to end, in a few large blocks. A std::string per entry costs 32 bytes, plus a heap
// block of its own for any path past 15 characters (every path in a node_modules); here a
// path costs its characters, a NUL, and the 8-byte PathRef its entry holds.
//
// A PathRef points into its arena's blocks: it stays valid while the arena lives (moving the
// arena moves the blocks' ownership, not the text), and must not outlive it. Arenas are not
// copied, so a list that owns one is not copied either.

#include <compare>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace safeinstall::runner {

// A path kept in a PathArena: read like a std::string_view. A default PathRef is "".
class PathRef {
 public:
  PathRef() = default;

  std::string_view view() const { return text_ == nullptr ? std::string_view() : text_; }
  operator std::string_view() const { return view(); }  // NOLINT: reads like a string_view
  // NUL-terminated, for system calls.
  const char* c_str() const { return text_ == nullptr ? "" : text_; }
  std::string str() const { return std::string(view()); }
  std::size_t size() const { return view().size(); }
  bool empty() const { return text_ == nullptr || *text_ == '\0'; }

  // strcmp orders as std::string_view does (bytes as unsigned char), without a strlen.
  friend bool operator==(PathRef a, PathRef b) { return std::strcmp(a.c_str(), b.c_str()) == 0; }
  friend bool operator==(PathRef a, std::string_view b) { return a.view() == b; }
  friend bool operator==(PathRef a, const std::string& b) { return a.view() == b; }
  friend bool operator==(PathRef a, const char* b) { return a.view() == b; }
  friend std::strong_ordering operator<=>(PathRef a, PathRef b) {
    return std::strcmp(a.c_str(), b.c_str()) <=> 0;
  }
  friend std::strong_ordering operator<=>(PathRef a, std::string_view b) { return a.view() <=> b; }
  friend std::string operator+(const std::string& a, PathRef b) {
    std::string joined;
    joined.reserve(a.size() + b.size());
    return joined.append(a).append(b.view());
  }
  friend std::string operator+(PathRef a, const std::string& b) {
    std::string joined;
    joined.reserve(a.size() + b.size());
    return joined.append(a.view()).append(b);
  }
  friend std::string operator+(const char* a, PathRef b) { return std::string(a) + b; }
  friend std::string operator+(PathRef a, const char* b) { return a + std::string(b); }

 private:
  friend class PathArena;
  explicit PathRef(const char* text) : text_(text) {}
  const char* text_ = nullptr;  // NUL-terminated, inside an arena's block
};

class PathArena {
 public:
  PathArena() = default;
  PathArena(PathArena&&) noexcept = default;
  PathArena& operator=(PathArena&&) noexcept = default;
  PathArena(const PathArena&) = delete;
  PathArena& operator=(const PathArena&) = delete;
  ~PathArena() = default;

  // A copy of `path` kept here. A path must not contain NUL (no file name can).
  PathRef add(std::string_view path);
  // Bytes taken by the paths added (their characters and NULs), and reserved in blocks.
  std::size_t used() const { return used_; }
  std::size_t reserved() const { return reserved_; }

 private:
  // Blocks grow from small to kMaxBlock, so a short list costs little and a long one few
  // allocations; a block of kMaxBlock is its own mapping (main.cpp), whose untouched tail
  // never becomes resident.
  static constexpr std::size_t kFirstBlock = 4 * 1024;
  static constexpr std::size_t kMaxBlock = 1024 * 1024;

  std::vector<std::unique_ptr<char[]>> blocks_;
  char* free_ = nullptr;  // the next free byte of the last block
  std::size_t left_ = 0;  // bytes free after it
  std::size_t used_ = 0;
  std::size_t reserved_ = 0;
};

}  // namespace safeinstall::runner
