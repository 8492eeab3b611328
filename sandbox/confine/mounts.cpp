#include "sandbox/confine/mounts.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <string>

#include "sandbox/base/fd.h"
#include "sandbox/confine/devices.h"

namespace safeinstall::sandbox {
namespace {

// The host root stays reachable under kOldRoot until the final pivot, so every bind source
// is read from the untouched host tree even when a target hides its parent (a project
// under /tmp or under the hidden home).
constexpr const char* kBase = "/tmp";
constexpr const char* kNewRoot = "/newroot";
constexpr const char* kOldRoot = "/oldroot";
constexpr const char* kHideHint =
    "the sandbox could not be built; run `safeinstall check` for what the host is missing";

std::string in_new_root(const std::string& target) {
  return std::string(kNewRoot) + target;
}
std::string in_old_root(const std::string& source) {
  return std::string(kOldRoot) + source;
}

Result<> make_mount_tree_private() {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return sys_error("make mounts private (mount --make-rprivate /)", kHideHint);
  return {};
}

Result<> mount_tmpfs(const std::string& target, std::uint64_t size, mode_t mode,
                     unsigned long flags = MS_NOSUID | MS_NODEV) {
  char octal[16] = {};
  std::to_chars(octal, octal + sizeof octal - 1, mode, 8);
  std::string options = std::string("mode=") + octal;
  if (size > 0) options += ",size=" + std::to_string(size);
  if (::mount("tmpfs", target.c_str(), "tmpfs", flags, options.c_str()) != 0)
    return sys_error("mount tmpfs on " + target, kHideHint);
  return {};
}

Result<> set_attributes(const std::string& path, std::uint64_t attrs, bool recursive) {
  struct mount_attr attr {};
  attr.attr_set = attrs;
  unsigned int flags = AT_NO_AUTOMOUNT | AT_SYMLINK_NOFOLLOW | (recursive ? AT_RECURSIVE : 0U);
  if (::mount_setattr(AT_FDCWD, path.c_str(), flags, &attr, sizeof attr) == 0) return {};
  if (errno != ENOSYS) return sys_error("set mount attributes on " + path);
  // Kernels before 5.12: a bind remount changes one mount at a time, and must repeat the
  // flags the kernel locked when the mount was copied into this namespace.
  unsigned long remount = MS_REMOUNT | MS_BIND;
  if (attrs & MOUNT_ATTR_RDONLY) remount |= MS_RDONLY;
  if (attrs & MOUNT_ATTR_NOSUID) remount |= MS_NOSUID;
  if (attrs & MOUNT_ATTR_NODEV) remount |= MS_NODEV;
  if (::mount(nullptr, path.c_str(), nullptr, remount, nullptr) != 0)
    return sys_error("remount " + path + " read-only");
  return {};
}

Result<> make_read_only(const std::string& path, bool recursive) {
  return set_attributes(path, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, recursive);
}

// Creates a missing mount point. Only possible below a tmpfs the sandbox mounted itself:
// the host tree is read-only by then, which is the point.
Result<> ensure_mount_point(const std::string& path, bool directory) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return {};
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) {
    errno = ec.value();
    return sys_error("create mount point " + path);
  }
  if (directory) {
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
      return sys_error("create mount point " + path);
    return {};
  }
  UniqueFd fd(::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) return sys_error("create mount point " + path);
  return {};
}

bool host_path_is_directory(const std::string& host_path) {
  struct stat st {};
  return ::stat(in_old_root(host_path).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<> bind(const std::string& source, const std::string& target, bool read_only) {
  std::string from = in_old_root(source);
  std::string to = in_new_root(target);
  if (auto r = ensure_mount_point(to, host_path_is_directory(source)); !r) return r;
  if (::mount(from.c_str(), to.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    return sys_error("bind " + source + " on " + target);
  if (read_only) return make_read_only(to, true);
  return set_attributes(to, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, true);
}

Result<> hide_directory(const std::string& target) {
  std::string to = in_new_root(target);
  // Left writable until the final pivot so later mounts can create their mount points in it.
  return mount_tmpfs(to, 64 * 1024, 0755, MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

Result<> hide_file(const std::string& target) {
  std::string to = in_new_root(target);
  if (::mount(in_old_root("/dev/null").c_str(), to.c_str(), nullptr, MS_BIND, nullptr) != 0)
    return sys_error("hide " + target);
  // Not nodev: the hidden file should read as empty, not fail as a blocked device.
  return set_attributes(to, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, false);
}

Result<> mount_proc(const std::string& target) {
  std::string to = in_new_root(target);
  if (::mount("proc", to.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    return sys_error("mount a new /proc on " + target, kHideHint);
  // Host-global knobs stay read-only: uid 0 in a root invoker's sandbox is the host's uid 0,
  // which sysctl files check for instead of capabilities.
  for (const char* sub : {"/sys", "/sysrq-trigger", "/irq", "/bus", "/fs"}) {
    std::string path = to + sub;
    if (::access(path.c_str(), F_OK) != 0) continue;
    if (::mount(path.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
      return sys_error("protect " + target + sub);
    if (auto r = make_read_only(path, true); !r) return r;
  }
  return {};
}

Result<> mount_sys(const std::string& target) {
  std::string to = in_new_root(target);
  unsigned long flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (::mount("sysfs", to.c_str(), "sysfs", flags, nullptr) == 0) return {};
  // Some hosts refuse a fresh sysfs in a user namespace; /sys then stays an empty directory
  // (the host's is never shown instead).
  return {};
}

// The content lives in the staging tmpfs; once bound, the mount keeps it alive after the
// staging tmpfs is detached.
// A watched file (a decoy) is readable by its owner only, as the real one would be.
Result<> bind_file_content(const MountSpec& m, std::vector<UniqueFd>& watched) {
  const std::string& target = m.target;
  const std::string& content = m.content;
  static int counter = 0;
  std::string source = "/content-" + std::to_string(++counter);
  {
    mode_t mode = m.watched ? 0600 : 0644;
    UniqueFd fd(::open(source.c_str(), O_CREAT | O_WRONLY | O_EXCL | O_CLOEXEC, mode));
    if (!fd) return sys_error("create the content of " + target);
    if (::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size()))
      return sys_error("write the content of " + target);
  }
  std::string to = in_new_root(target);
  if (auto r = ensure_mount_point(to, false); !r) return r;  // e.g. ~/.npmrc in the new home
  if (::mount(source.c_str(), to.c_str(), nullptr, MS_BIND, nullptr) != 0)
    return sys_error("bind " + target);
  if (auto r = set_attributes(to, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, false);
      !r)
    return r;
  if (!m.watched) return {};
  // Opened before any watch exists, so this open is never taken for a read by the command.
  UniqueFd file(::open(source.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!file) return sys_error("open " + target + " for the supervisor to watch");
  watched.push_back(std::move(file));
  return {};
}

// overlayfs splits its options at ',' and lowerdir at ':', and unescapes '\\' first.
std::string overlay_escaped(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '\\' || c == ',' || c == ':') out += '\\';
    out += c;
  }
  return out;
}

Result<> mount_overlay(const MountSpec& m) {
  std::string to = in_new_root(m.target);
  if (auto r = ensure_mount_point(to, true); !r) return r;
  const StagingOverlay dirs{in_old_root(m.source), in_old_root(m.upper), in_old_root(m.work)};
  return mount_staging_overlay(
      to, dirs,
      "mount an overlay on " + m.target + " (lower " + m.source + ", upper " + m.upper + ")");
}

Result<> make_symlink(const std::string& target, const std::string& content) {
  std::string at = in_new_root(target);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(at).parent_path(), ec);
  if (::symlink(content.c_str(), at.c_str()) != 0 && errno != EEXIST)
    return sys_error("create the link " + target + " -> " + content);
  return {};
}

// The root is empty: what a fresh filesystem is mounted on may first have to be made.
bool needs_directory_mount_point(MountKind kind) {
  return kind == MountKind::HideDir || kind == MountKind::Proc || kind == MountKind::Dev ||
         kind == MountKind::Sys;
}

Result<> apply(const MountSpec& m, std::vector<UniqueFd>& watched) {
  if (needs_directory_mount_point(m.kind)) {
    if (auto r = ensure_mount_point(in_new_root(m.target), true); !r) return r;
  }
  switch (m.kind) {
    case MountKind::BindReadOnly:
      return bind(m.source, m.target, true);
    case MountKind::BindReadWrite:
      return bind(m.source, m.target, false);
    case MountKind::Tmpfs: {
      std::string to = in_new_root(m.target);
      if (auto r = ensure_mount_point(to, true); !r) return r;
      return mount_tmpfs(to, m.size_bytes, m.mode);
    }
    case MountKind::HideDir:
      return hide_directory(m.target);
    case MountKind::HideFile:
      return hide_file(m.target);
    case MountKind::Proc:
      return mount_proc(m.target);
    case MountKind::Dev:
      return build_dev(in_new_root(m.target), kOldRoot);
    case MountKind::Sys:
      return mount_sys(m.target);
    case MountKind::FileContent:
      return bind_file_content(m, watched);
    case MountKind::Overlay:
      return mount_overlay(m);
    case MountKind::Symlink:
      return make_symlink(m.target, m.content);
  }
  return plain_error("unknown mount kind for " + m.target);
}

Result<> enter_base() {
  if (auto r = mount_tmpfs(kBase, 1024 * 1024, 0700); !r) return r;
  std::string new_root = std::string(kBase) + kNewRoot;
  std::string old_root = std::string(kBase) + kOldRoot;
  if (::mkdir(new_root.c_str(), 0755) != 0 || ::mkdir(old_root.c_str(), 0755) != 0)
    return sys_error("create " + new_root);
  if (::syscall(SYS_pivot_root, kBase, old_root.c_str()) != 0)
    return sys_error("pivot_root into the staging tmpfs", kHideHint);
  if (::chdir("/") != 0) return sys_error("chdir /");
  return {};
}

// Nothing of the host is there unless a mount spec puts it there. Writable until every
// mount point is made, then sealed.
Result<> make_empty_root() {
  if (::mkdir(kNewRoot, 0755) != 0 && errno != EEXIST) return sys_error("create the new root");
  return mount_tmpfs(kNewRoot, 1024 * 1024, 0755, MS_NOSUID | MS_NODEV);
}

Result<> seal_root() {
  return make_read_only(kNewRoot, false);
}

// The sandbox's hide tmpfs were left writable for nested mount points; seal them now.
Result<> seal_hidden_directories(const std::vector<MountSpec>& mounts) {
  for (const auto& m : mounts) {
    if (m.kind != MountKind::HideDir) continue;
    if (auto r = make_read_only(in_new_root(m.target), false); !r) return r;
  }
  return {};
}

Result<> pivot_into_new_root() {
  if (::chdir(kNewRoot) != 0) return sys_error("chdir to the new root");
  // pivot_root(".", ".") stacks the old root on the new one; detaching it leaves only the
  // sandbox tree, with no directory on it from which the host tree could be reached.
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return sys_error("pivot_root into the new root");
  if (::umount2(".", MNT_DETACH) != 0) return sys_error("detach the host root");
  if (::chdir("/") != 0) return sys_error("chdir /");
  return {};
}

}  // namespace

std::string staging_overlay_options(const StagingOverlay& dirs) {
  return "lowerdir=" + overlay_escaped(dirs.lower) + ",upperdir=" + overlay_escaped(dirs.upper) +
         ",workdir=" + overlay_escaped(dirs.work) + "," + kStagingOverlayFeatures;
}

Result<> mount_staging_overlay(const std::string& target, const StagingOverlay& dirs,
                               const std::string& step) {
  const std::string options = staging_overlay_options(dirs);
  if (::mount("overlay", target.c_str(), "overlay", MS_NOSUID | MS_NODEV, options.c_str()) != 0)
    return sys_error(step,
                     "overlayfs in a user namespace needs Linux 5.11 or later and an upper dir "
                     "on a filesystem with user xattrs (ext4, xfs, btrfs; tmpfs from 6.6)");
  return {};
}

Result<> build_filesystem(const std::vector<MountSpec>& mounts, std::vector<UniqueFd>& watched) {
  if (auto r = make_mount_tree_private(); !r) return r;
  if (auto r = enter_base(); !r) return r;
  if (auto r = make_empty_root(); !r) return r;
  for (const auto& m : mounts) {
    if (auto r = apply(m, watched); !r) return r;
  }
  if (auto r = seal_hidden_directories(mounts); !r) return r;
  if (auto r = seal_root(); !r) return r;
  return pivot_into_new_root();
}

}  // namespace safeinstall::sandbox
