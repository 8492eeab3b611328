#include "runner/shim/tool_lookup.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "runner/shim/shim_table.h"
#include "sandbox/base/fd.h"

namespace safeinstall::runner {
namespace {

enum class Candidate { none, shim, tool };

// `dir/tool` into `out`; an empty PATH entry means the current directory, as for execvp.
bool join(std::string_view dir, std::string_view tool, char (&out)[PATH_MAX]) {
  if (dir.empty()) dir = ".";
  if (dir.size() + 1 + tool.size() + 1 > PATH_MAX) return false;
  std::memcpy(out, dir.data(), dir.size());
  out[dir.size()] = '/';
  std::memcpy(out + dir.size() + 1, tool.data(), tool.size());
  out[dir.size() + 1 + tool.size()] = '\0';
  return true;
}

Candidate classify(const char* path, const struct stat& self) {
  struct stat st {};
  if (::stat(path, &st) != 0 || !S_ISREG(st.st_mode) || ::access(path, X_OK) != 0)
    return Candidate::none;
  if (st.st_dev == self.st_dev && st.st_ino == self.st_ino) return Candidate::shim;
  return is_shim_file(path) ? Candidate::shim : Candidate::tool;
}

// Calls `visit(entry, candidate, path)` for each PATH entry in order until it returns true.
template <typename Visit>
void each_entry(std::string_view path_list, std::string_view tool, const struct stat& self,
                Visit&& visit) {
  char path[PATH_MAX];
  std::size_t start = 0;
  while (start <= path_list.size()) {
    auto colon = path_list.find(':', start);
    if (colon == std::string_view::npos) colon = path_list.size();
    auto entry = path_list.substr(start, colon - start);
    Candidate kind = join(entry, tool, path) ? classify(path, self) : Candidate::none;
    if (visit(entry, kind, path)) return;
    start = colon + 1;
  }
}

}  // namespace

bool is_shim_file(const char* path) {
  sandbox::UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return false;
  char head[128];
  ssize_t n = ::read(fd.get(), head, sizeof head);
  return n > 0 && looks_like_shim(std::string_view(head, static_cast<std::size_t>(n)));
}

bool find_real_tool(std::string_view path_list, std::string_view tool, const struct stat& self,
                    char (&found)[PATH_MAX]) {
  bool any = false;
  each_entry(path_list, tool, self, [&](std::string_view, Candidate kind, const char* path) {
    if (kind != Candidate::tool) return false;
    std::strcpy(found, path);
    any = true;
    return true;
  });
  return any;
}

std::string path_without_shims(std::string_view path_list, std::string_view tool,
                               const struct stat& self) {
  std::string kept;
  bool first = true;
  each_entry(path_list, tool, self, [&](std::string_view entry, Candidate kind, const char*) {
    if (kind == Candidate::shim) return false;
    if (!first) kept += ':';
    kept += entry;
    first = false;
    return false;
  });
  return kept;
}

}  // namespace safeinstall::runner
