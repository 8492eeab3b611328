#include "sandbox/base/path_text.h"

#include <algorithm>
#include <vector>

namespace safeinstall {
namespace {

// The components of a path with "." and empty ones dropped and ".." applied; a ".." that
// would climb above an absolute path's root is dropped, one above a relative path's start
// is kept.
std::vector<std::string_view> normal_components(std::string_view path, bool absolute) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..")
        parts.pop_back();
      else if (!absolute)
        parts.push_back(part);
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = end + 1;
  }
  return parts;
}

// Whether every component is a name: no empty, "." or ".." ones (so no "//", no trailing
// "/" except the root's). Most paths are, and compare without being rebuilt.
bool is_plain(std::string_view path) {
  if (path == "/") return true;
  std::size_t start = path.starts_with('/') ? 1 : 0;
  while (true) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (end == path.size()) return true;
    start = end + 1;
  }
}

}  // namespace

bool is_within(std::string_view path, std::string_view dir) {
  if (path.empty() || dir.empty() || path.starts_with('/') != dir.starts_with('/')) return false;
  if (!is_plain(path) || !is_plain(dir)) {
    const bool absolute = dir.starts_with('/');
    auto inner = normal_components(path, absolute);
    auto outer = normal_components(dir, absolute);
    if (inner.size() < outer.size() || !std::equal(outer.begin(), outer.end(), inner.begin()))
      return false;
    // "../x" climbs out of "." (and "../../x" out of ".."): no ".." may follow the dir.
    return inner.size() == outer.size() || inner[outer.size()] != "..";
  }
  if (dir == "/") return true;
  return path == dir ||
         (path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/');
}

std::string lexically_normal(const std::string& path, const std::string& cwd) {
  std::string joined;
  if (!path.starts_with('/')) {
    joined = cwd;
    joined += '/';
  }
  joined += path;
  std::string out;
  // Absolute even when `cwd` is not: the kernel resolves against some directory.
  for (auto part : normal_components(joined, true)) {
    out += '/';
    out += part;
  }
  return out.empty() ? "/" : out;
}

}  // namespace safeinstall
