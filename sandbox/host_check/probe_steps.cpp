#include "sandbox/host_check/probe_steps.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/confine/userns.h"

namespace safeinstall::sandbox::host_check {

ChildReport enter_user_namespace(uid_t uid, gid_t gid) {
  if (::unshare(CLONE_NEWUSER) != 0) return namespace_failed(CLONE_NEWUSER, errno);
  if (auto mapped = write_identity_maps(::getpid(), uid, gid); !mapped)
    return failed_with(Stage::IdMap, mapped.error());
  if (::geteuid() != uid) return failed(Stage::IdMap, "uid_map written but euid unchanged", 0);
  return succeeded("");
}

ChildReport enter_namespaces(int flags) {
  if (auto r = enter_user_namespace(::geteuid(), ::getegid()); !r.ok) return r;
  for (const auto& kind : kNamespaceKinds) {
    if ((flags & kind.flag) != 0 && kind.flag != CLONE_NEWUSER && ::unshare(kind.flag) != 0)
      return namespace_failed(kind.flag, errno);
  }
  return succeeded("");
}

ChildReport enter_private_mount_namespace(int extra_flags) {
  if (auto r = enter_namespaces(CLONE_NEWNS | extra_flags); !r.ok) return r;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return sys_failed(Stage::Mount, errno, "mount --make-rprivate /");
  return succeeded("");
}

std::string scratch(std::string_view name) {
  return std::string(kScratch) + "/" + std::string(name);
}

ChildReport mount_scratch_tmpfs() {
  if (::mount("tmpfs", kScratch, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=1m") != 0)
    return sys_failed(Stage::Mount, errno, std::string("mount tmpfs on ") + kScratch);
  return succeeded("");
}

ChildReport make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0) return sys_failed(Stage::Other, errno, "mkdir " + path);
  return succeeded("");
}

ChildReport enter_scratch(int extra_flags) {
  if (auto r = enter_private_mount_namespace(extra_flags); !r.ok) return r;
  return mount_scratch_tmpfs();
}

}  // namespace safeinstall::sandbox::host_check
