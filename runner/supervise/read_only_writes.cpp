#include "runner/supervise/read_only_writes.h"

#include <fcntl.h>

#include <algorithm>

#include "runner/supervise/process_paths.h"
#include "sandbox/base/path_text.h"

namespace safeinstall::runner {
namespace {

// A dirfd as the caller passed it: an int, also from an ia32 caller whose -100 (AT_FDCWD)
// arrives as 0xffffff9c.
int fd_argument(std::uint64_t value) {
  return static_cast<int>(static_cast<std::int32_t>(value & 0xffffffffU));
}

}  // namespace

std::vector<PathArgument> written_path_arguments(std::string_view call,
                                                 const std::array<std::uint64_t, 6>& a) {
  auto cwd = [](std::uint64_t address) { return PathArgument{AT_FDCWD, address}; };
  auto at = [](std::uint64_t fd, std::uint64_t address) {
    return PathArgument{fd_argument(fd), address};
  };
  if (call == "rename") return {cwd(a[0]), cwd(a[1])};
  if (call == "renameat" || call == "renameat2") return {at(a[0], a[1]), at(a[2], a[3])};
  if (call == "link" || call == "symlink") return {cwd(a[1])};
  if (call == "linkat") return {at(a[2], a[3])};
  if (call == "symlinkat") return {at(a[1], a[2])};
  static constexpr std::string_view kDirfdFirst[] = {"openat",   "openat2",   "mkdirat",
                                                     "unlinkat", "mknodat",   "fchmodat",
                                                     "fchownat", "utimensat", "futimesat"};
  if (std::ranges::find(kDirfdFirst, call) != std::end(kDirfdFirst)) return {at(a[0], a[1])};
  static constexpr std::string_view kPathFirst[] = {
      "open",     "creat",     "mkdir",       "rmdir",        "unlink",
      "mknod",    "truncate",  "chmod",       "chown",        "lchown",
      "setxattr", "lsetxattr", "removexattr", "lremovexattr", "utimes"};
  if (std::ranges::find(kPathFirst, call) != std::end(kPathFirst)) return {cwd(a[0])};
  return {};
}

std::optional<std::string> ReadOnlyWatch::within(const std::string& path) const {
  for (const auto& dir : dirs_)
    if (is_within(path, dir)) return path;
  return std::nullopt;
}

std::optional<std::string> ReadOnlyWatch::watched_target(pid_t pid, int dirfd,
                                                         const std::string& path) const {
  std::string asked = absolute_in_process(pid, dirfd, path);
  if (asked.empty()) return std::nullopt;
  if (auto direct = within(asked)) return direct;
  // Through a symlink: the file itself when it exists, else its directory (a new file).
  if (auto resolved = resolve_in_sandbox(pid, asked)) return within(*resolved);
  auto slash = asked.rfind('/');
  if (slash == std::string::npos || slash == 0) return std::nullopt;
  auto parent = resolve_in_sandbox(pid, asked.substr(0, slash));
  if (!parent) return std::nullopt;
  return within(*parent + asked.substr(slash));
}

}  // namespace safeinstall::runner
