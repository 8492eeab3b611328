#pragma once
// One function a feature check: each runs its probe and fills in the check's outcome, detail
// and fix. host_check.cpp lists them in the order `safeinstall check` reports them.

#include "sandbox/host_check/host_check.h"
#include "sandbox/host_check/host_knobs.h"

namespace safeinstall::sandbox::host_check {

using CheckFunction = void (*)(FeatureCheck&, const HostKnobs&);

// namespace_checks.cpp
void check_user_namespace(FeatureCheck& check, const HostKnobs& knobs);
void check_unprivileged_user_namespace(FeatureCheck& check, const HostKnobs& knobs);
void check_pid_namespace(FeatureCheck& check, const HostKnobs& knobs);
// The namespace `flag` (CLONE_NEW*) inside a new user namespace.
void check_namespace(FeatureCheck& check, const HostKnobs& knobs, int flag);
template <int Flag>
void check_namespace_of(FeatureCheck& check, const HostKnobs& knobs) {
  check_namespace(check, knobs, Flag);
}

// mount_checks.cpp
void check_tmpfs_mount(FeatureCheck& check, const HostKnobs& knobs);
void check_proc_mount(FeatureCheck& check, const HostKnobs& knobs);
void check_devpts_mount(FeatureCheck& check, const HostKnobs& knobs);
void check_sysfs_mount(FeatureCheck& check, const HostKnobs& knobs);
void check_bind_read_only(FeatureCheck& check, const HostKnobs& knobs);
void check_mount_setattr(FeatureCheck& check, const HostKnobs& knobs);
void check_pivot_root(FeatureCheck& check, const HostKnobs& knobs);
void check_overlayfs(FeatureCheck& check, const HostKnobs& knobs);

// seccomp_checks.cpp
void check_seccomp_filter(FeatureCheck& check, const HostKnobs& knobs);
void check_seccomp_notify(FeatureCheck& check, const HostKnobs& knobs);

// process_checks.cpp
void check_pidfd_open(FeatureCheck& check, const HostKnobs& knobs);
void check_clone3(FeatureCheck& check, const HostKnobs& knobs);

// network_checks.cpp
void check_loopback(FeatureCheck& check, const HostKnobs& knobs);

// cgroup_checks.cpp
void check_cgroup_delegation(FeatureCheck& check, const HostKnobs& knobs);

}  // namespace safeinstall::sandbox::host_check
