#pragma once
// Probe children. Every probe runs in a forked child so a namespace or filter it creates never
// touches the caller; everything the child set up dies with it. The child may allocate: glibc
// keeps malloc usable after fork. What a child reports becomes a FeatureCheck here too.

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <string_view>

#include "sandbox/base/error.h"
#include "sandbox/base/fd.h"
#include "sandbox/host_check/host_check.h"
#include "sandbox/host_check/host_fixes.h"
#include "sandbox/host_check/host_knobs.h"

namespace safeinstall::sandbox::host_check {

enum class Stage {
  Namespace,  // creating a namespace (ns_flag says which)
  IdMap,      // writing setgroups/uid_map/gid_map
  Mount,      // a mount, bind, remount or pivot
  Other,
};

// What a probe child sends back: plain bytes, one atomic pipe write.
struct ChildReport {
  bool ok = false;
  Stage stage = Stage::Other;
  int ns_flag = 0;
  int err = 0;          // errno of the failed step; 0 when ok or not a system call failure
  char text[232] = {};  // the failed step, or an observation when ok
};

ChildReport succeeded(std::string_view note);
ChildReport failed(Stage stage, std::string_view step, int err);
// Callers pass errno explicitly and first thing, before anything can overwrite it.
ChildReport sys_failed(Stage stage, int err, std::string_view step);
// The error of a step the sandbox's own code took (sandbox/confine), with its errno.
ChildReport failed_with(Stage stage, const Error& error);
ChildReport namespace_failed(int flag, int err);

void reap(pid_t pid, int* status = nullptr);

// Waits up to `timeout_ms` for the child's report on `fd`, then reaps the child (killing it
// first when it gave no answer).
ChildReport collect_report(int fd, pid_t child, int timeout_ms);

inline constexpr int kProbeTimeoutMs = 2000;
inline constexpr int kNestedTimeoutMs = 1000;  // shorter, so the outer probe still gets its answer

// Runs body in a forked child and returns what it reported. Used both by the caller and, for
// probes that need a second process (pid 1 of a new pid namespace), inside a probe child.
template <typename Body>
ChildReport run_forked(Body&& body, int timeout_ms = kProbeTimeoutMs) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_failed(Stage::Other, errno, "pipe2");
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const pid_t child = ::fork();
  if (child < 0) return sys_failed(Stage::Other, errno, "fork");
  if (child == 0) {
    read_end.reset();
    // Dies with its parent, so a killed `safeinstall check` leaves no probe running.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const ChildReport report = body();
    [[maybe_unused]] const ssize_t written = ::write(write_end.get(), &report, sizeof report);
    ::_exit(0);
  }
  write_end.reset();
  return collect_report(read_end.get(), child, timeout_ms);
}

// Recording results.

void pass(FeatureCheck& check, std::string detail);
void fail(FeatureCheck& check, const ChildReport& report, std::string fix, const HostKnobs& knobs);

// pass() or fail(): `fix` is kept only when the probe failed.
void record(FeatureCheck& check, const ChildReport& report, std::string fix,
            const HostKnobs& knobs);

// Picks the fix by the step that failed: namespace creation and id maps have their own
// causes, distinct from those of the mount the probe was about.
void record(FeatureCheck& check, const ChildReport& report, MountFs fs, const HostKnobs& knobs);

}  // namespace safeinstall::sandbox::host_check
