#include "runner/plan/project_access.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "sandbox/base/fd.h"

namespace safeinstall::runner {
namespace {

constexpr const char* kHint = "make it writable, or run from a writable copy; nothing was run";

// access() answers for the effective ids and the mount (EROFS), and refuses writes to an
// immutable directory; the mount's flags and the inode's attributes are read as well, since
// a root invoker passes access() on permission bits alone.
Result<> refuse_read_only_mount(const std::string& project) {
  struct statvfs fs {};
  if (::statvfs(project.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY) != 0)
    return plain_error("the project " + project + " is on a read-only mount", kHint);
  return {};
}

Result<> refuse_immutable(const std::string& project) {
  sandbox::UniqueFd dir(::open(project.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return {};
  int flags = 0;
  if (::ioctl(dir.get(), FS_IOC_GETFLAGS, &flags) != 0) return {};  // not every fs has them
  if ((flags & (FS_IMMUTABLE_FL | FS_APPEND_FL)) != 0)
    return plain_error("the project " + project + " is immutable or append-only (chattr)", kHint);
  return {};
}

}  // namespace

Result<> check_project_writable(const std::string& project) {
  if (auto mount = refuse_read_only_mount(project); !mount) return mount;
  if (auto attributes = refuse_immutable(project); !attributes) return attributes;
  if (::faccessat(AT_FDCWD, project.c_str(), W_OK | X_OK, AT_EACCESS) != 0)
    return sys_error("the project " + project + " is not writable by you", kHint);
  return {};
}

}  // namespace safeinstall::runner
