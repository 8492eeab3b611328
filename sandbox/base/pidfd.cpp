#include "sandbox/base/pidfd.h"

#include <linux/types.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace safeinstall::sandbox {
namespace {

// Debian 12's headers (6.1) predate <linux/pidfd.h>'s PIDFD_GET_INFO; this is its layout as
// of 6.15, the first that carries exit_code.
struct KernelPidfdInfo {
  __u64 mask;
  __u64 cgroupid;
  __u32 pid;
  __u32 tgid;
  __u32 ppid;
  __u32 ruid;
  __u32 rgid;
  __u32 euid;
  __u32 egid;
  __u32 suid;
  __u32 sgid;
  __u32 fsuid;
  __u32 fsgid;
  __s32 exit_code;
};
constexpr __u64 kInfoPid = 1ULL << 0;
constexpr __u64 kInfoExit = 1ULL << 3;
// The size is part of the request: kernels that know no exit_code (6.13, 6.14) refuse it.
constexpr unsigned long kGetInfo = _IOWR(0xFF, 11, KernelPidfdInfo);

}  // namespace

UniqueFd open_pidfd(pid_t pid) {
  return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
}

std::optional<PidfdInfo> read_pidfd_info(int pidfd) {
  KernelPidfdInfo raw{};
  raw.mask = kInfoPid | kInfoExit;
  if (::ioctl(pidfd, kGetInfo, &raw) != 0) return std::nullopt;
  PidfdInfo info;
  if ((raw.mask & kInfoPid) != 0) {
    info.pid = static_cast<pid_t>(raw.pid);
    info.ppid = static_cast<pid_t>(raw.ppid);
  }
  if ((raw.mask & kInfoExit) != 0) info.wait_status = raw.exit_code;
  return info;
}

bool pidfd_keeps_exit_status() {
  static const bool kept = [] {
    // vfork: the child only exits, and the parent waits for nothing else meanwhile.
    pid_t child = ::vfork();
    if (child == 0) ::_exit(0);
    if (child < 0) return false;
    UniqueFd handle = open_pidfd(child);  // a zombie until reaped just below
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (!handle) return false;
    auto info = read_pidfd_info(handle.get());
    return info && info->wait_status == 0;
  }();
  return kept;
}

}  // namespace safeinstall::sandbox
