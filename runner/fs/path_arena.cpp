#include "runner/fs/path_arena.h"

#include <algorithm>
#include <cstring>

namespace safeinstall::runner {

PathRef PathArena::add(std::string_view path) {
  const std::size_t needed = path.size() + 1;
  if (needed > left_) {
    std::size_t next = blocks_.empty() ? kFirstBlock : std::min(2 * reserved_, kMaxBlock);
    next = std::max(next, needed);
    // Not zeroed: pages of the block become resident only as paths are written into them.
    blocks_.push_back(std::make_unique_for_overwrite<char[]>(next));
    free_ = blocks_.back().get();
    left_ = next;
    reserved_ += next;
  }
  char* text = free_;
  std::memcpy(text, path.data(), path.size());
  text[path.size()] = '\0';
  free_ += needed;
  left_ -= needed;
  used_ += needed;
  return PathRef(text);
}

}  // namespace safeinstall::runner
