#include "runner/promotion/background_cleanup.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner/promotion/promotion.h"

namespace safeinstall::runner {
namespace {

using sandbox::UniqueFd;

// linux/ioprio.h is not in every set of kernel headers Debian ships with glibc.
constexpr int kIoprioWhoProcess = 1;
constexpr int kIoprioClassIdle = 3;
constexpr int kIoprioClassShift = 13;

// Nothing of the caller's stays open: a pipe the caller's caller reads would otherwise not
// see its end until the cleaner is done.
void detach_from_caller() {
  ::setsid();
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, STDIN_FILENO);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
  }
  ::close_range(3, ~0U, 0);
  ::setpriority(PRIO_PROCESS, 0, 19);
  ::syscall(SYS_ioprio_set, kIoprioWhoProcess, 0, kIoprioClassIdle << kIoprioClassShift);
}

[[noreturn]] void clean_up_and_exit(const RunDir& run) {
  detach_from_caller();
  ::prctl(PR_SET_NAME, "si-cleanup");  // what ps shows beside the caller's command line
  auto lock = lock_run_dir(run);
  bool ok = lock && *lock && remove_trash(run).has_value();
  ::_exit(ok ? 0 : 1);
}

}  // namespace

Result<void> finish_cleanup_in_background(const RunDir& run) {
  pid_t child = ::fork();
  if (child < 0) return sys_error("start removing the old trees of run " + run.id);
  if (child == 0) {
    // A grandchild, so nobody has to reap the cleaner and it outlives this process.
    pid_t cleaner = ::fork();
    if (cleaner == 0) clean_up_and_exit(run);
    ::_exit(cleaner < 0 ? 1 : 0);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return plain_error("start removing the old trees of run " + run.id + ": fork failed");
  return {};
}

}  // namespace safeinstall::runner
