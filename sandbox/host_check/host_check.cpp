#include "sandbox/host_check/host_check.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>

#include "sandbox/host_check/checks.h"
#include "sandbox/host_check/host_fixes.h"
#include "sandbox/host_check/host_knobs.h"

namespace safeinstall::sandbox {
namespace host_check {
namespace {

struct CheckSpec {
  const char* name;
  const char* description;
  bool required;
  bool needs_user_namespace;
  CheckFunction run;
};

constexpr CheckSpec kUserNamespace{"user-namespace", "user namespaces with uid/gid maps", true,
                                   false, check_user_namespace};
constexpr CheckSpec kUnprivilegedUserNamespace{
    "user-namespace-unprivileged", "user namespaces for an unprivileged user (tried as uid 65534)",
    false, false, check_unprivileged_user_namespace};

constexpr CheckSpec kChecks[] = {
    {"mount-namespace", "mount namespace inside the user namespace", true, true,
     check_namespace_of<CLONE_NEWNS>},
    {"pid-namespace", "pid namespace inside the user namespace", true, true, check_pid_namespace},
    {"net-namespace", "network namespace inside the user namespace", true, true,
     check_namespace_of<CLONE_NEWNET>},
    {"ipc-namespace", "IPC namespace inside the user namespace", true, true,
     check_namespace_of<CLONE_NEWIPC>},
    {"uts-namespace", "UTS (hostname) namespace inside the user namespace", true, true,
     check_namespace_of<CLONE_NEWUTS>},
    {"cgroup-namespace", "cgroup namespace inside the user namespace", true, true,
     check_namespace_of<CLONE_NEWCGROUP>},
    {"tmpfs-mount", "tmpfs mounts (throwaway home and /tmp)", true, true, check_tmpfs_mount},
    {"proc-mount", "a fresh /proc for the sandbox's pid namespace", true, true, check_proc_mount},
    {"devpts-mount", "a private devpts instance for /dev/pts", true, true, check_devpts_mount},
    {"sysfs-mount", "read-only /sys of the sandbox's network namespace", false, true,
     check_sysfs_mount},
    {"bind-read-only", "read-only bind mounts of the host tree", true, true, check_bind_read_only},
    {"mount-setattr", "recursive read-only in one call (mount_setattr; a fallback exists)", false,
     true, check_mount_setattr},
    {"pivot-root", "pivot_root into a new root (host tree unreachable)", true, true,
     check_pivot_root},
    // Required: every run stages the project through this overlay, and none starts without it.
    {"overlayfs-userxattr", "overlayfs in a user namespace (needed for staging)", true, true,
     check_overlayfs},
    {"seccomp-filter", "no_new_privs and a seccomp filter", true, false, check_seccomp_filter},
    {"seccomp-notify", "seccomp user notification (recording execve/connect)", false, false,
     check_seccomp_notify},
    {"pidfd-open", "pidfd_open (race-free child handles)", false, false, check_pidfd_open},
    {"clone3", "clone3 system call", false, false, check_clone3},
    {"loopback", "loopback up in a new network namespace (egress gateway)", true, true,
     check_loopback},
    {"cgroup2-delegation", "cgroup v2 subtree writable by the caller (resource limits)", false,
     false, check_cgroup_delegation},
};

FeatureCheck run_check(const CheckSpec& spec, const HostKnobs& knobs) {
  FeatureCheck check;
  check.name = spec.name;
  check.description = spec.description;
  check.required = spec.required;
  spec.run(check, knobs);
  return check;
}

// Without a user namespace every dependent probe would fail with the same error; one pointer
// to the cause reads better than a dozen copies of it.
FeatureCheck not_tried(const CheckSpec& spec, const FeatureCheck& user_namespace) {
  FeatureCheck check;
  check.name = spec.name;
  check.description = spec.description;
  check.required = spec.required;
  check.detail = "not tried: needs a user namespace, and the user-namespace check failed";
  check.fix = "fix user-namespace first: " + user_namespace.fix;
  return check;
}

std::vector<FeatureCheck> run_every_check() {
  const HostKnobs knobs = read_host_knobs();
  std::vector<FeatureCheck> checks;
  checks.push_back(run_check(kUserNamespace, knobs));
  const FeatureCheck user_namespace = checks.front();
  // As root the sandbox works either way, but the tool must work for ordinary users too.
  if (::geteuid() == 0) checks.push_back(run_check(kUnprivilegedUserNamespace, knobs));
  for (const auto& spec : kChecks) {
    if (spec.needs_user_namespace && !user_namespace.ok)
      checks.push_back(not_tried(spec, user_namespace));
    else
      checks.push_back(run_check(spec, knobs));
  }
  return checks;
}

std::string namespace_failure_hint(int err) {
  const HostKnobs knobs = read_host_knobs();
  std::string hint = namespace_fix(err, 0, knobs, !knobs.has_cap_sys_admin);
  if (const auto seen = host_observations(knobs); !seen.empty()) hint += " (host: " + seen + ")";
  return hint + "; `safeinstall check` tests every feature the sandbox needs";
}

}  // namespace
}  // namespace host_check

std::vector<FeatureCheck> check_host_features() {
  return host_check::run_every_check();
}

bool sandbox_can_be_built(const std::vector<FeatureCheck>& checks) {
  return std::all_of(checks.begin(), checks.end(),
                     [](const FeatureCheck& check) { return check.ok || !check.required; });
}

std::string explain_namespace_failure(int err) {
  return host_check::namespace_failure_hint(err);
}

}  // namespace safeinstall::sandbox
