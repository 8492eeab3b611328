#pragma once
// Extended attributes on staged entries, and which of them may reach the project.
//
// Promotion moves contents, not the command's metadata. Without privileges, a process can set
// on files and directories it owns:
//   - any `user.*` xattr, including overlayfs' own names when it writes where no overlay
//     guards them (the direct dirs): `user.overlay.redirect=/etc` or `user.overlay.opaque`
//     in a promoted tree would steer the next overlay mounted over the project;
//   - POSIX ACLs (`system.posix_acl_access`, `system.posix_acl_default`), which can grant
//     another user write access exactly as a world-writable mode does.
// Those are foreign: recorded with the change and removed before promotion. `trusted.*` and
// `security.*` need privileges the sandbox does not have; overlayfs' own `user.overlay.*`
// bookkeeping in the overlay's upper dir (which the sandbox cannot write) is what describes
// the staged tree (change_list.h).

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "sandbox/base/error.h"

namespace safeinstall::runner {

enum class XattrKind {
  overlay,  // user.overlay.* / trusted.overlay.*: overlayfs' own names
  foreign,  // any other user.*, and POSIX ACLs: never promoted
  other,    // trusted.*, security.*: beyond the sandbox's reach
};
XattrKind classify_xattr(std::string_view name);

// The xattr names of `name` in `dirfd`, the entry itself and not what it may link to,
// without opening it (an owner-unreadable file still has names). Empty where the filesystem
// keeps none.
Result<std::vector<std::string>> xattr_names_at(int dirfd, const std::string& name,
                                                const std::string& shown);
// The same for an open file or directory.
Result<std::vector<std::string>> xattr_names_of(int fd, const std::string& shown);

// Removes `names` from `name` in `dirfd` (one already gone is not an error) and leaves it
// with permission bits `mode`: the owner can remove a user.* xattr only with the write bit
// on, so it is on meanwhile.
Result<void> strip_xattrs_at(int dirfd, const std::string& name,
                             const std::vector<std::string>& names, mode_t mode,
                             const std::string& shown);

}  // namespace safeinstall::runner
