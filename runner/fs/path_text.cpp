#include "runner/fs/path_text.h"

#include <vector>

namespace safeinstall::runner {

bool is_within(const std::string& path, const std::string& dir) {
  if (dir == "/") return path.starts_with('/');
  return path == dir ||
         (path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/');
}

std::string lexically_normal(const std::string& path, const std::string& cwd) {
  std::string joined = path.starts_with('/') ? path : cwd + "/" + path;
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= joined.size()) {
    std::size_t end = joined.find('/', start);
    if (end == std::string::npos) end = joined.size();
    std::string part = joined.substr(start, end - start);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(std::move(part));
    }
    start = end + 1;
  }
  std::string out;
  for (const auto& part : parts) out += "/" + part;
  return out.empty() ? "/" : out;
}

}  // namespace safeinstall::runner
