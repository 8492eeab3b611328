// Mounts inside the user namespace: the kinds the sandbox's filesystem is built from, and the
// overlay that stages the project's writes.

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sandbox/base/fd.h"
#include "sandbox/confine/mounts.h"
#include "sandbox/host_check/checks.h"
#include "sandbox/host_check/probe_steps.h"

namespace safeinstall::sandbox::host_check {
namespace {

// A bind remount has to repeat the flags the kernel locked when the mount was copied into the
// namespace, or it fails with EPERM.
unsigned long locked_flags(const struct statvfs& vfs) {
  unsigned long flags = 0;
  if (vfs.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (vfs.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (vfs.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (vfs.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (vfs.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (vfs.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

bool is_read_only(const std::string& path) {
  struct statvfs vfs {};
  return ::statvfs(path.c_str(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY) != 0;
}

// Runs `body()` in a probe child standing in the scratch tmpfs of new user, mount and
// `extra_flags` namespaces.
template <typename Body>
ChildReport run_in_scratch(Body&& body, int extra_flags = 0) {
  return run_forked([&body, extra_flags] {
    if (auto r = enter_scratch(extra_flags); !r.ok) return r;
    return body();
  });
}

// Runs `body(view)` in a probe child where `view`, in the scratch tmpfs of a new mount
// namespace, is a bind of the host's root.
template <typename Body>
ChildReport run_on_host_root_bind(Body&& body) {
  return run_in_scratch([&body] {
    const std::string view = scratch("root");
    if (auto r = make_dir(view); !r.ok) return r;
    // Recursive, as the sandbox binds: the kernel refuses a plain bind of a mount whose
    // submounts are locked in the user namespace (EINVAL).
    if (::mount("/", view.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
      return sys_failed(Stage::Mount, errno, "recursive bind of / on " + view);
    return body(view);
  });
}

// A new instance of the filesystem `type` on a directory made for it; the options, when
// given, are named in the failed step.
ChildReport mount_new_instance(const char* type, const std::string& on, unsigned long flags,
                               const char* options = nullptr) {
  if (auto r = make_dir(on); !r.ok) return r;
  if (::mount(type, on.c_str(), type, flags, options) != 0)
    return sys_failed(Stage::Mount, errno,
                      std::string("mount ") + type +
                          (options != nullptr ? std::string(" (") + options + ")" : "") + " on " +
                          on);
  return succeeded("");
}

ChildReport create_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return sys_failed(Stage::Other, errno, "create " + path);
  return succeeded("");
}

// The sandbox's own overlay mount (sandbox/confine/mounts.h), on dirs in the scratch tmpfs:
// a host where the launch's options are refused fails here too.
ChildReport mount_overlay_as_the_sandbox_does() {
  for (const char* dir : {"lower", "upper", "work", "merged"}) {
    if (auto r = make_dir(scratch(dir)); !r.ok) return r;
  }
  if (auto r = create_file(scratch("lower/removed")); !r.ok) return r;
  const StagingOverlay dirs{scratch("lower"), scratch("upper"), scratch("work")};
  if (auto mounted = mount_staging_overlay(scratch("merged"), dirs,
                                           "mount overlay (" + staging_overlay_options(dirs) + ")");
      !mounted)
    return failed_with(Stage::Mount, mounted.error());
  return succeeded("");
}

// Staging relies on both kinds of change landing in the upper dir: new files, and deletions
// recorded as whiteouts (character devices 0:0).
ChildReport verify_staged_changes() {
  if (auto r = create_file(scratch("merged/added")); !r.ok) return r;
  if (::unlink(scratch("merged/removed").c_str()) != 0)
    return sys_failed(Stage::Mount, errno, "unlink a lower file through the overlay");
  struct stat st {};
  if (::lstat(scratch("upper/added").c_str(), &st) != 0)
    return failed(Stage::Mount, "a new file did not appear in the upper dir", 0);
  if (::lstat(scratch("upper/removed").c_str(), &st) != 0 || !S_ISCHR(st.st_mode) ||
      st.st_rdev != makedev(0, 0))
    return failed(Stage::Mount, "a deletion did not leave a whiteout in the upper dir", 0);
  return succeeded(std::string("overlay mounted as the sandbox mounts it (") +
                   kStagingOverlayFeatures + "); a write and a whiteout landed in the upper dir");
}

}  // namespace

void check_tmpfs_mount(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_in_scratch([] {
    struct statfs fs {};
    if (::statfs(kScratch, &fs) != 0 || fs.f_type != TMPFS_MAGIC)
      return failed(Stage::Mount, "mount reported success but /tmp is not tmpfs", 0);
    return succeeded("tmpfs mounted in a private mount namespace");
  });
  record(check, report, MountFs::Tmpfs, knobs);
}

void check_proc_mount(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_forked([] {
    if (auto r = enter_private_mount_namespace(CLONE_NEWPID); !r.ok) return r;
    // Only a process inside the new pid namespace can mount a proc that shows it.
    return run_forked(
        [] {
          if (auto r = mount_scratch_tmpfs(); !r.ok) return r;
          const std::string proc = scratch("proc");
          if (auto r = mount_new_instance("proc", proc, MS_NOSUID | MS_NODEV | MS_NOEXEC); !r.ok)
            return r;
          char self[16] = {};
          const ssize_t n = ::readlink((proc + "/self").c_str(), self, sizeof self - 1);
          if (n != 1 || self[0] != '1')
            return failed(Stage::Mount, "new proc does not show the new pid namespace", 0);
          return succeeded("new proc instance mounted; it shows the new pid namespace (self = 1)");
        },
        kNestedTimeoutMs);
  });
  record(check, report, MountFs::Proc, knobs);
}

void check_devpts_mount(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_in_scratch([] {
    const std::string pts = scratch("pts");
    if (auto r = mount_new_instance("devpts", pts, MS_NOSUID | MS_NOEXEC,
                                    "newinstance,ptmxmode=0666,mode=0620");
        !r.ok)
      return r;
    UniqueFd ptmx(::open((pts + "/ptmx").c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!ptmx) return sys_failed(Stage::Mount, errno, "open " + pts + "/ptmx");
    unsigned int number = 0;
    if (::ioctl(ptmx.get(), TIOCGPTN, &number) != 0)
      return sys_failed(Stage::Mount, errno, "ioctl(TIOCGPTN)");
    // A fresh instance numbers its ptys from 0; the host's would not.
    if (number != 0) return failed(Stage::Mount, "devpts is not a new instance", 0);
    return succeeded("devpts newinstance mounted; first pty is number 0");
  });
  record(check, report, MountFs::Devpts, knobs);
}

void check_sysfs_mount(FeatureCheck& check, const HostKnobs& knobs) {
  // sysfs in a user namespace shows the network namespace, so it needs one of its own.
  const ChildReport report = run_in_scratch(
      [] {
        if (auto r = mount_new_instance("sysfs", scratch("sys"),
                                        MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
            !r.ok)
          return r;
        return succeeded("read-only sysfs of a new network namespace mounted");
      },
      CLONE_NEWNET);
  record(check, report, MountFs::Sysfs, knobs);
}

// Binds the host's root (as the sandbox does) and makes the bind read-only. The bind is never
// written to: if the remount had silently failed, a write would land on the host.
void check_bind_read_only(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_on_host_root_bind([](const std::string& view) {
    struct statvfs vfs {};
    if (::statvfs(view.c_str(), &vfs) != 0)
      return sys_failed(Stage::Other, errno, "statvfs " + view);
    if (::mount(nullptr, view.c_str(), nullptr,
                MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(vfs), nullptr) != 0)
      return sys_failed(Stage::Mount, errno, "remount bind of / read-only");
    if (!is_read_only(view))
      return failed(Stage::Mount, "remount did not make the bind read-only", 0);
    return succeeded("bind of / remounted read-only (locked flags kept)");
  });
  record(check, report, MountFs::Bind, knobs);
}

void check_mount_setattr(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_on_host_root_bind([](const std::string& view) {
    struct mount_attr attr {};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (::mount_setattr(AT_FDCWD, view.c_str(), AT_RECURSIVE, &attr, sizeof attr) != 0)
      return sys_failed(Stage::Mount, errno, "mount_setattr(AT_RECURSIVE, MOUNT_ATTR_RDONLY)");
    // /proc is a separate mount on every host: it shows the change reached submounts.
    if (!is_read_only(view) || (::access("/proc/self", F_OK) == 0 && !is_read_only(view + "/proc")))
      return failed(Stage::Mount, "mount_setattr did not make every submount read-only", 0);
    return succeeded("recursive bind of / made read-only, submounts included, in one call");
  });
  record(check, report, MountFs::SetAttr, knobs);
}

void check_pivot_root(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_in_scratch([] {
    if (auto r = make_dir(scratch("old")); !r.ok) return r;
    if (::syscall(SYS_pivot_root, kScratch, scratch("old").c_str()) != 0)
      return sys_failed(Stage::Mount, errno, "pivot_root into a tmpfs");
    if (::chdir("/") != 0) return sys_failed(Stage::Other, errno, "chdir /");
    if (::umount2("/old", MNT_DETACH) != 0)
      return sys_failed(Stage::Mount, errno, "umount2(/old, MNT_DETACH)");
    if (::access("/etc", F_OK) == 0)
      return failed(Stage::Mount, "the host tree is still visible after pivot_root", 0);
    return succeeded("pivot_root into a tmpfs; old root detached, host tree unreachable");
  });
  record(check, report, MountFs::PivotRoot, knobs);
}

// Overlay staging.
void check_overlayfs(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_in_scratch([] {
    if (auto r = mount_overlay_as_the_sandbox_does(); !r.ok) return r;
    return verify_staged_changes();
  });
  record(check, report, MountFs::Overlay, knobs);
}

}  // namespace safeinstall::sandbox::host_check
