#pragma once
// The sandbox's filesystem view: an empty read-only root holding only what the spec binds
// onto it (the allow-listed host paths, read-only, with paths inside hidden), fresh tmpfs
// for home and /tmp, a minimal /dev, a new /proc, and the project.

#include <string>
#include <vector>

#include "sandbox/base/error.h"
#include "sandbox/base/fd.h"
#include "sandbox/base/spec.h"

namespace safeinstall::sandbox {

// Runs inside the new user+mount namespace (as its pid 1, before exec). On success the
// process's root is the new tree and the host's tree is no longer reachable from it.
// `watched` receives an fd (read-only, close-on-exec) of each FileContent mount marked
// `watched`, in the order of `mounts`.
Result<> build_filesystem(const std::vector<MountSpec>& mounts, std::vector<UniqueFd>& watched);

// An overlay that stages writes, its dirs as the mounting process sees them: writes land in
// `upper`, the tree at `lower` stays untouched, `work` is overlayfs' scratch beside `upper`.
struct StagingOverlay {
  std::string lower;
  std::string upper;
  std::string work;
};

// How every staging overlay is mounted. The sandbox is always in a user namespace, so
// overlayfs keeps whiteouts' and opaque dirs' markers in user.overlay.* xattrs (userxattr), for
// root and unprivileged invokers alike. No redirects are created (nofollow: a renamed lower dir
// is copied up whole), no metacopy, no index: the upper dir alone must describe every change.
// `volatile`: the overlay never syncs its upper filesystem — otherwise tearing the sandbox down
// would sync the whole filesystem holding the staging dir (seconds after a large install); a
// run cut short by a crash is thrown away anyway, and promotion renames what is staged, like
// the package manager writing in place would have.
inline constexpr const char* kStagingOverlayFeatures =
    "userxattr,redirect_dir=nofollow,metacopy=off,index=off,volatile";

// The full option string: the dirs, escaped, and kStagingOverlayFeatures.
std::string staging_overlay_options(const StagingOverlay& dirs);

// Mounts a staging overlay on `target`, nosuid and nodev, as the sandbox does for the project
// and the package caches; `safeinstall check` tries the very same call, so it cannot pass where
// the launch would fail. `step` names the mount in the error.
Result<> mount_staging_overlay(const std::string& target, const StagingOverlay& dirs,
                               const std::string& step);

}  // namespace safeinstall::sandbox
