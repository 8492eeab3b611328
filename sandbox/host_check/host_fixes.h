#pragma once
// What to change on the host when a probe fails: the fix for an errno, picked by what was
// tried (a namespace, a kind of mount) and by what the host is like.

#include <sched.h>

#include <string>

#include "sandbox/host_check/host_knobs.h"

namespace safeinstall::sandbox::host_check {

inline constexpr const char* kContainerFix =
    "run the container with --security-opt seccomp=unconfined (or a seccomp profile allowing "
    "clone/unshare/mount/pivot_root) and --security-opt apparmor=unconfined "
    "--security-opt systempaths=unconfined";

struct NamespaceKind {
  int flag;
  const char* clone_flag;  // "CLONE_NEWUSER"
  const char* sysctl;      // "user.max_user_namespaces"
  const char* config;      // "CONFIG_USER_NS"
};

inline constexpr NamespaceKind kNamespaceKinds[] = {
    {CLONE_NEWUSER, "CLONE_NEWUSER", "user.max_user_namespaces", "CONFIG_USER_NS"},
    {CLONE_NEWNS, "CLONE_NEWNS", "user.max_mnt_namespaces", "CONFIG_NAMESPACES"},
    {CLONE_NEWPID, "CLONE_NEWPID", "user.max_pid_namespaces", "CONFIG_PID_NS"},
    {CLONE_NEWNET, "CLONE_NEWNET", "user.max_net_namespaces", "CONFIG_NET_NS"},
    {CLONE_NEWIPC, "CLONE_NEWIPC", "user.max_ipc_namespaces", "CONFIG_IPC_NS"},
    {CLONE_NEWUTS, "CLONE_NEWUTS", "user.max_uts_namespaces", "CONFIG_UTS_NS"},
    {CLONE_NEWCGROUP, "CLONE_NEWCGROUP", "user.max_cgroup_namespaces", "CONFIG_CGROUPS"},
};

// The entry for one CLONE_NEW* flag; nullptr for 0 or an unknown flag.
const NamespaceKind* namespace_kind(int flag);

// The fix for creating the namespace `flag` (0: any) failing with `err`. `unprivileged`: the
// caller has no CAP_SYS_ADMIN, so the sysctls that only restrict such callers may apply.
std::string namespace_fix(int err, int flag, const HostKnobs& knobs, bool unprivileged);

enum class MountFs { Tmpfs, Proc, Devpts, Sysfs, Bind, SetAttr, PivotRoot, Overlay };

// The fix for a mount of kind `fs` failing with `err` inside a user namespace.
std::string mount_fix(int err, MountFs fs, const HostKnobs& knobs);

}  // namespace safeinstall::sandbox::host_check
