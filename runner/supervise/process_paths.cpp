#include "runner/supervise/process_paths.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/base/fd.h"
#include "sandbox/base/path_text.h"
#include "sandbox/base/proc.h"

namespace safeinstall::runner {

using sandbox::UniqueFd;

std::string absolute_in_process(pid_t pid, int dirfd, const std::string& path) {
  if (path.starts_with('/')) return lexically_normal(path);
  std::string base = dirfd == AT_FDCWD
                         ? read_proc_link(proc_path(pid, "cwd"))
                         : read_proc_link(proc_path(pid, "fd/") + std::to_string(dirfd));
  if (!base.starts_with('/')) return {};
  return lexically_normal(path, base);
}

std::optional<std::string> resolve_in_sandbox(pid_t pid, const std::string& path, struct stat* st) {
  UniqueFd root(::open(proc_path(pid, "root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return std::nullopt;
  struct open_how how {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  UniqueFd found(
      static_cast<int>(::syscall(SYS_openat2, root.get(), path.c_str(), &how, sizeof how)));
  if (!found) return std::nullopt;
  if (st != nullptr && ::fstat(found.get(), st) != 0) return std::nullopt;
  std::string resolved = read_proc_link("/proc/self/fd/" + std::to_string(found.get()));
  return resolved.starts_with('/') ? std::optional(resolved) : std::nullopt;
}

}  // namespace safeinstall::runner
