// Process handles: pidfd_open and clone3, each with a fallback when missing.

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

#include "sandbox/base/fd.h"
#include "sandbox/host_check/checks.h"
#include "sandbox/host_check/probe.h"

namespace safeinstall::sandbox::host_check {
namespace {

// struct clone_args as of Linux 5.3 (CLONE_ARGS_SIZE_VER0). Spelled out here because
// <linux/sched.h> clashes with glibc's <sched.h>.
struct CloneArgsV0 {
  std::uint64_t flags;
  std::uint64_t pidfd;
  std::uint64_t child_tid;
  std::uint64_t parent_tid;
  std::uint64_t exit_signal;
  std::uint64_t stack;
  std::uint64_t stack_size;
  std::uint64_t tls;
};

}  // namespace

void check_pidfd_open(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_forked([] {
    const pid_t child = ::fork();
    if (child < 0) return sys_failed(Stage::Other, errno, "fork");
    if (child == 0) ::_exit(0);
    // A zombie still has its pid, so the race with the child's exit is harmless.
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child, 0)));
    const int err = errno;
    ChildReport result = succeeded("pidfd_open on a child; poll reported its exit");
    if (!pidfd) {
      result = sys_failed(Stage::Other, err, "pidfd_open");
    } else {
      pollfd pfd{pidfd.get(), POLLIN, 0};
      if (::poll(&pfd, 1, kNestedTimeoutMs) != 1)
        result = failed(Stage::Other, "poll on the pidfd did not report the exit", 0);
    }
    reap(child);
    return result;
  });
  record(check, report,
         report.err == ENOSYS && !confined_by_container(knobs)
             ? "pidfd_open needs Linux 5.3; safeinstall falls back to waitpid and signals"
             : (report.err == ENOSYS || report.err == EPERM ? kContainerFix
                                                            : "unexpected pidfd_open error"),
         knobs);
}

void check_clone3(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_forked([] {
    CloneArgsV0 args{};
    args.exit_signal = SIGCHLD;
    const long child = ::syscall(SYS_clone3, &args, sizeof args);
    if (child == 0) ::_exit(0);  // nothing may run in a raw clone3 child but _exit
    if (child < 0) return sys_failed(Stage::Other, errno, "clone3");
    reap(static_cast<pid_t>(child));
    return succeeded("clone3 created a child");
  });
  record(
      check, report,
      report.err == ENOSYS && confined_by_container(knobs)
          ? std::string("clone3 is refused with ENOSYS by the container's seccomp profile (older "
                        "Docker default); safeinstall falls back to clone. Or: ") +
                kContainerFix
          : std::string("clone3 needs Linux 5.3; safeinstall falls back to clone"),
      knobs);
}

}  // namespace safeinstall::sandbox::host_check
