#pragma once
// User namespace id maps, written by the supervisor for its child.

#include <sys/types.h>

#include "sandbox/base/error.h"

namespace safeinstall::sandbox {

// Maps outer uid/gid to the same ids inside, after denying setgroups (required for
// unprivileged callers, and keeps supplementary groups from being dropped to gain access).
Result<> write_identity_maps(pid_t child, uid_t uid, gid_t gid);

}  // namespace safeinstall::sandbox
