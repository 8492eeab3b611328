#include "sandbox/confine/written_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "sandbox/base/fd.h"

namespace safeinstall::sandbox {
namespace {

struct Walk {
  dev_t device;
  std::size_t limit;
  std::vector<WrittenFile> found;
};

void walk(int dir_fd, const std::string& prefix, Walk& state) {
  DirStream dir = dir_stream(UniqueFd(::dup(dir_fd)));
  if (!dir) return;
  while (struct dirent* entry = ::readdir(dir.get())) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (state.found.size() >= state.limit) break;
    struct stat st {};
    if (::fstatat(::dirfd(dir.get()), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    // A different device is a mount point the sandbox put there, not something written.
    if (st.st_dev != state.device) continue;
    std::string path = prefix.empty() ? name : prefix + "/" + name;
    state.found.push_back({path, st.st_mode, static_cast<std::uint64_t>(st.st_size)});
    if (!S_ISDIR(st.st_mode)) continue;
    UniqueFd child(::openat(::dirfd(dir.get()), name.c_str(),
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (child) walk(child.get(), path, state);
  }
}

}  // namespace

std::vector<WrittenFile> list_written_files(const std::string& dir, std::size_t limit) {
  UniqueFd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st {};
  if (!root || ::fstat(root.get(), &st) != 0) return {};
  Walk state{st.st_dev, limit, {}};
  walk(root.get(), "", state);
  return state.found;
}

}  // namespace safeinstall::sandbox
