#pragma once
// The engine behind `safeinstall check`: tries every kernel feature the sandbox relies on, each
// in a throwaway child process, and says per feature what was observed and how to fix the host.
// Nothing here prints; the runner decides how to show the result.

#include <string>
#include <vector>

namespace safeinstall::sandbox {

struct FeatureCheck {
  std::string name;         // short id, e.g. "user-namespace"
  std::string description;  // "unprivileged user namespaces"
  bool ok = false;
  bool required = true;  // false: optional feature (sandbox still works, something degrades)
  std::string detail;    // what was observed: "unshare(CLONE_NEWUSER): EPERM (...)", or what worked
  std::string fix;       // how to fix the host, empty when ok
};

// Runs every check, in this order (names are stable; reports and tests key on them):
//   user-namespace, user-namespace-unprivileged (only when the caller is root; optional),
//   mount-namespace, pid-namespace, net-namespace, ipc-namespace, uts-namespace,
//   cgroup-namespace, tmpfs-mount, proc-mount, devpts-mount, sysfs-mount (optional),
//   bind-read-only, mount-setattr (optional), pivot-root, overlayfs-userxattr,
//   seccomp-filter, seccomp-notify (optional), pidfd-open (optional), clone3 (optional),
//   loopback, cgroup2-delegation (optional).
// Checks that need a user namespace are reported as not tried, pointing at user-namespace,
// when that one fails. The caller's own namespaces, mounts and files are never changed.
std::vector<FeatureCheck> check_host_features();

// True when every required check passed.
bool sandbox_can_be_built(const std::vector<FeatureCheck>& checks);

// The best hint for a clone()/unshare() failure with this errno, naming the host setting
// (sysctl, container option, AppArmor knob) that explains it. Reads the host's knobs.
std::string explain_namespace_failure(int err);

}  // namespace safeinstall::sandbox
