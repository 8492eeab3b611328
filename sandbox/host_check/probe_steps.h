#pragma once
// Steps a probe child takes to stand where the sandbox stands: in a user namespace mapped as
// the launcher maps it, in the other namespaces it creates, with private scratch space.

#include <sys/types.h>

#include <string>
#include <string_view>

#include "sandbox/host_check/probe.h"

namespace safeinstall::sandbox::host_check {

// unshare(CLONE_NEWUSER), then the launcher's own id maps: `uid` and `gid` mapped to
// themselves, setgroups denied.
ChildReport enter_user_namespace(uid_t uid, gid_t gid);

// A user namespace for the caller's ids, then each other CLONE_NEW* namespace in `flags`.
ChildReport enter_namespaces(int flags);

// A user + mount namespace whose mounts can never propagate back to the host.
ChildReport enter_private_mount_namespace(int extra_flags = 0);

// Scratch space for every mount probe: a tmpfs over /tmp inside the probe's own mount
// namespace, so directories made there never reach the host's /tmp.
inline constexpr const char* kScratch = "/tmp";

std::string scratch(std::string_view name);
ChildReport mount_scratch_tmpfs();
ChildReport make_dir(const std::string& path);

// enter_private_mount_namespace(extra_flags), then the scratch tmpfs.
ChildReport enter_scratch(int extra_flags = 0);

}  // namespace safeinstall::sandbox::host_check
