#include "sandbox/host_check/host_fixes.h"

#include <algorithm>
#include <cerrno>
#include <optional>

#include "sandbox/confine/mounts.h"

namespace safeinstall::sandbox::host_check {
namespace {

constexpr const char* kAppArmorFix =
    "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or install an AppArmor "
    "profile granting userns for safeinstall's path";
constexpr const char* kUserNsCloneFix =
    "sudo sysctl -w kernel.unprivileged_userns_clone=1 (persist it in /etc/sysctl.d/)";

std::optional<long> namespace_limit(const NamespaceKind& kind) {
  std::string path = std::string("/proc/sys/") + kind.sysctl;
  std::replace(path.begin(), path.end(), '.', '/');
  return read_number(path.c_str());
}

std::string raise_limit_fix(const NamespaceKind& kind) {
  return std::string("sudo sysctl -w ") + kind.sysctl + "=15000 (persist it in /etc/sysctl.d/)";
}

// EPERM/EACCES: some policy said no. The knobs are tried from the most specific to the most
// general; the two sysctls only restrict callers without CAP_SYS_ADMIN.
std::string namespace_policy_fix(const HostKnobs& knobs, bool unprivileged) {
  if (unprivileged && knobs.apparmor_restrict_userns.value_or(0) != 0) return kAppArmorFix;
  if (unprivileged && knobs.unprivileged_userns_clone && *knobs.unprivileged_userns_clone == 0)
    return kUserNsCloneFix;
  if (confined_by_container(knobs)) return kContainerFix;
  return "a security policy refuses namespaces: check SELinux (user_namespace { create }) and "
         "other LSM denials in `dmesg`; unshare(CLONE_NEWUSER) is also refused inside a chroot, "
         "so run safeinstall from the real root";
}

std::string namespace_limit_fix(const NamespaceKind* kind) {
  if (kind != nullptr) {
    const auto limit = namespace_limit(*kind);
    if (limit && *limit == 0)
      return std::string(kind->sysctl) + " is 0, which disables them: " + raise_limit_fix(*kind);
    return std::string("the limit ") + kind->sysctl + "=" +
           (limit ? std::to_string(*limit) : std::string("?")) +
           " is used up, or namespaces nest more than 32 deep: " + raise_limit_fix(*kind);
  }
  for (const auto& each : kNamespaceKinds) {
    if (const auto limit = namespace_limit(each); limit && *limit == 0)
      return std::string(each.sysctl) + " is 0, which disables them: " + raise_limit_fix(each);
  }
  return "a namespace limit is reached (sysctl user.max_*_namespaces) or namespaces nest more "
         "than 32 deep: raise the limit, e.g. sudo sysctl -w user.max_user_namespaces=15000";
}

std::string proc_or_sys_cover_fix(const std::vector<std::string>& covers, const char* root) {
  std::string listed;
  for (std::size_t i = 0; i < covers.size() && i < 4; ++i)
    listed += (i == 0 ? "" : ", ") + covers[i];
  return std::string("the host's ") + root + " is partly covered (" + listed +
         "), and the kernel mounts a new instance in a user namespace only while an uncovered "
         "one is visible: " +
         kContainerFix;
}

const char* mount_fs_name(MountFs fs) {
  static constexpr const char* kNames[] = {"tmpfs", "proc",          "devpts",     "sysfs",
                                           "bind",  "mount_setattr", "pivot_root", "overlay"};
  return kNames[static_cast<int>(fs)];
}

std::string mount_policy_fix(MountFs fs, const HostKnobs& knobs) {
  if (knobs.apparmor_restrict_userns.value_or(0) != 0 && !knobs.has_cap_sys_admin)
    return std::string("the new user namespace has no capabilities: ") + kAppArmorFix;
  if (fs == MountFs::Proc && !knobs.proc_covers.empty())
    return proc_or_sys_cover_fix(knobs.proc_covers, "/proc");
  if (fs == MountFs::Sysfs && !knobs.sys_covers.empty())
    return proc_or_sys_cover_fix(knobs.sys_covers, "/sys");
  if (confined_by_container(knobs)) return kContainerFix;
  if (fs == MountFs::Overlay)
    return "overlayfs in a user namespace needs Linux 5.11 or newer (Ubuntu kernels since 5.11 "
           "carry it too); upgrade the kernel";
  return std::string("the kernel or an LSM refuses ") + mount_fs_name(fs) +
         " mounts in a user namespace; `dmesg` names the refusing policy";
}

}  // namespace

const NamespaceKind* namespace_kind(int flag) {
  for (const auto& kind : kNamespaceKinds) {
    if (kind.flag == flag) return &kind;
  }
  return nullptr;
}

std::string namespace_fix(int err, int flag, const HostKnobs& knobs, bool unprivileged) {
  const NamespaceKind* kind = namespace_kind(flag);
  switch (err) {
    case EPERM:
    case EACCES:
      return namespace_policy_fix(knobs, unprivileged);
    case ENOSPC:
    case EUSERS:  // what kernels before 4.9 returned for the nesting limit
      return namespace_limit_fix(kind);
    case EINVAL:
      return std::string("the kernel was built without ") +
             (kind != nullptr ? kind->config
                              : "namespace support (CONFIG_USER_NS and the other CONFIG_*_NS)") +
             " (or the caller is multi-threaded): use a distribution kernel, all of which have it";
    case ENOSYS:
      return confined_by_container(knobs)
                 ? std::string(kContainerFix)
                 : std::string("the kernel lacks this system call: Linux 5.11 or newer is needed");
    case ENOMEM:
      return "the kernel is out of memory, or pid namespaces nest too deep; free memory and retry";
    default:
      return std::string("unexpected error from ") +
             (kind != nullptr ? kind->clone_flag : "namespace creation") +
             "; `dmesg` may name the refusing policy";
  }
}

std::string mount_fix(int err, MountFs fs, const HostKnobs& knobs) {
  switch (err) {
    case EPERM:
    case EACCES:
      return mount_policy_fix(fs, knobs);
    case ENODEV:
      return fs == MountFs::Overlay
                 ? std::string(
                       "overlayfs is not available: sudo modprobe overlay (add it to "
                       "/etc/modules-load.d/ to persist)")
                 : std::string("the kernel has no ") + mount_fs_name(fs) + " filesystem";
    case EINVAL:
      if (fs == MountFs::Overlay)
        return std::string("this overlayfs rejects an option the sandbox mounts with (") +
               kStagingOverlayFeatures +
               ") or the tmpfs upper dir: Linux 5.11 or newer is needed; `dmesg` shows "
               "overlayfs's reason";
      if (fs == MountFs::PivotRoot)
        return "the current root is not a mount point (a chroot, or a system running from the "
               "initramfs rootfs): run safeinstall from a normally mounted root filesystem";
      return std::string("the kernel rejects this ") + mount_fs_name(fs) +
             " mount; `dmesg` shows the reason";
    case ENOSYS:
      if (confined_by_container(knobs)) return kContainerFix;
      return fs == MountFs::SetAttr
                 ? std::string(
                       "mount_setattr needs Linux 5.12; safeinstall falls back to one "
                       "read-only remount per mount")
                 : std::string("the kernel lacks this system call; upgrade the kernel");
    default:
      return std::string("unexpected error mounting ") + mount_fs_name(fs) +
             "; `dmesg` may show the kernel's reason";
  }
}

}  // namespace safeinstall::sandbox::host_check
