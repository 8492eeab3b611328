// User namespaces, and the other namespaces created inside one, as the sandbox creates them.

#include <grp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "sandbox/host_check/checks.h"
#include "sandbox/host_check/probe_steps.h"

namespace safeinstall::sandbox::host_check {
namespace {

constexpr uid_t kNobody = 65534;

// Root is exempt from the policies that restrict unprivileged users, so as root the tool also
// tries what an ordinary user would get.
ChildReport become_nobody() {
  if (::setgroups(0, nullptr) != 0) return sys_failed(Stage::Other, errno, "setgroups(0)");
  if (::setresgid(kNobody, kNobody, kNobody) != 0)
    return sys_failed(Stage::Other, errno, "setresgid(65534)");
  if (::setresuid(kNobody, kNobody, kNobody) != 0)
    return sys_failed(Stage::Other, errno, "setresuid(65534)");
  // Changing uid makes the process non-dumpable, which hands /proc/self/uid_map to root.
  if (::prctl(PR_SET_DUMPABLE, 1) != 0)
    return sys_failed(Stage::Other, errno, "prctl(PR_SET_DUMPABLE)");
  return succeeded("");
}

}  // namespace

void check_user_namespace(FeatureCheck& check, const HostKnobs& knobs) {
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  const ChildReport report = run_forked([&] {
    if (auto r = enter_user_namespace(uid, gid); !r.ok) return r;
    return succeeded("unshare(CLONE_NEWUSER), setgroups deny, uid " + std::to_string(uid) +
                     " and gid " + std::to_string(gid) + " mapped to themselves");
  });
  record(check, report, namespace_fix(report.err, CLONE_NEWUSER, knobs, !knobs.has_cap_sys_admin),
         knobs);
}

void check_unprivileged_user_namespace(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_forked([] {
    if (auto r = become_nobody(); !r.ok) return r;
    if (auto r = enter_user_namespace(kNobody, kNobody); !r.ok) return r;
    return succeeded("as uid 65534: unshare(CLONE_NEWUSER) and uid/gid maps written");
  });
  record(check, report,
         report.stage == Stage::Other
             ? std::string("could not switch to uid 65534 to test; run `safeinstall check` as an "
                           "ordinary user instead")
             : namespace_fix(report.err, CLONE_NEWUSER, knobs, true),
         knobs);
}

// Other namespaces, each inside a user namespace as the sandbox creates them.
void check_namespace(FeatureCheck& check, const HostKnobs& knobs, int flag) {
  const ChildReport report = run_forked([flag] {
    if (auto r = enter_namespaces(flag); !r.ok) return r;
    return succeeded(std::string("unshare(") + namespace_kind(flag)->clone_flag +
                     ") inside a new user namespace");
  });
  record(check, report, MountFs::Tmpfs, knobs);
}

// A pid namespace only shows once a process is born into it.
void check_pid_namespace(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_forked([] {
    if (auto r = enter_namespaces(CLONE_NEWPID); !r.ok) return r;
    return run_forked(
        [] {
          if (::getpid() != 1) return failed(Stage::Other, "first child is not pid 1", 0);
          return succeeded(
              "unshare(CLONE_NEWPID) inside a new user namespace; first child is pid 1");
        },
        kNestedTimeoutMs);
  });
  record(check, report, MountFs::Tmpfs, knobs);
}

}  // namespace safeinstall::sandbox::host_check
