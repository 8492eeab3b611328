#include "sandbox/host_check/host_check.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include "sandbox/base/error.h"
#include "sandbox/base/fd.h"

namespace safeinstall::sandbox {
namespace {

// ---------------------------------------------------------------------------------------------
// What the host is like: read once, used to turn an errno into a concrete fix.

struct HostKnobs {
  std::optional<long> apparmor_restrict_userns;   // Ubuntu 23.10+: 1 strips caps in a new userns
  std::optional<long> unprivileged_userns_clone;  // Debian/Ubuntu patch: 0 refuses non-root
  std::string container_marker;                   // "/.dockerenv", empty on a plain host
  int seccomp_mode = 0;                           // 2: already under a filter (docker default)
  std::string apparmor_profile;                   // "docker-default (enforce)"; empty if none
  bool has_cap_sys_admin = false;        // namespace policies only restrict callers without it
  std::vector<std::string> proc_covers;  // mounts over /proc/...: make a new proc "too revealing"
  std::vector<std::string> sys_covers;   // same for /sys
};

std::optional<std::string> read_first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

std::optional<long> read_number(const char* path) {
  auto line = read_first_line(path);
  if (!line) return std::nullopt;
  try {
    return std::stol(*line);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// "Seccomp:" and "CapEff:" from /proc/self/status.
void read_process_status(HostKnobs& knobs) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key, value;
    fields >> key >> value;
    if (key == "Seccomp:") knobs.seccomp_mode = std::atoi(value.c_str());
    if (key == "CapEff:") {
      constexpr unsigned kCapSysAdmin = 21;
      const unsigned long long caps = std::strtoull(value.c_str(), nullptr, 16);
      knobs.has_cap_sys_admin = ((caps >> kCapSysAdmin) & 1ULL) != 0;
    }
  }
}

// The kernel allows a new proc or sysfs instance in a user namespace only when an uncovered
// one is already visible, so masks a container runtime puts over /proc or /sys are the reason
// such a mount fails.
void read_covering_mounts(HostKnobs& knobs) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point;
    fields >> id >> parent >> dev >> root >> mount_point;
    // Mounts on permanently empty directories are harmless to the kernel's check.
    if (mount_point.starts_with("/proc/") && !mount_point.starts_with("/proc/sys/fs/binfmt_misc"))
      knobs.proc_covers.push_back(mount_point);
    if (mount_point.starts_with("/sys/") && !mount_point.starts_with("/sys/fs/") &&
        !mount_point.starts_with("/sys/kernel/"))
      knobs.sys_covers.push_back(mount_point);
  }
}

std::string container_marker() {
  for (const char* marker : {"/.dockerenv", "/run/.containerenv"}) {
    if (::access(marker, F_OK) == 0) return marker;
  }
  return {};
}

HostKnobs read_host_knobs() {
  HostKnobs knobs;
  knobs.apparmor_restrict_userns =
      read_number("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
  knobs.unprivileged_userns_clone = read_number("/proc/sys/kernel/unprivileged_userns_clone");
  knobs.container_marker = container_marker();
  if (auto profile = read_first_line("/proc/self/attr/apparmor/current");
      profile && *profile != "unconfined")
    knobs.apparmor_profile = *profile;
  read_process_status(knobs);
  read_covering_mounts(knobs);
  return knobs;
}

bool confined_by_container(const HostKnobs& knobs) {
  return !knobs.container_marker.empty() || knobs.seccomp_mode == 2 ||
         !knobs.apparmor_profile.empty();
}

// What of the host's state a reader needs next to a failure, e.g. "already under a seccomp
// filter (Seccomp: 2)".
std::string host_observations(const HostKnobs& knobs) {
  std::vector<std::string> seen;
  if (knobs.apparmor_restrict_userns.value_or(0) != 0)
    seen.push_back("kernel.apparmor_restrict_unprivileged_userns=" +
                   std::to_string(*knobs.apparmor_restrict_userns));
  if (knobs.unprivileged_userns_clone && *knobs.unprivileged_userns_clone == 0)
    seen.push_back("kernel.unprivileged_userns_clone=0");
  if (!knobs.container_marker.empty())
    seen.push_back("inside a container (" + knobs.container_marker + " exists)");
  if (knobs.seccomp_mode == 2) seen.push_back("already under a seccomp filter (Seccomp: 2)");
  if (!knobs.apparmor_profile.empty()) seen.push_back("AppArmor profile " + knobs.apparmor_profile);
  std::string text;
  for (const auto& item : seen) text += (text.empty() ? "" : ", ") + item;
  return text;
}

// ---------------------------------------------------------------------------------------------
// Fix texts.

constexpr const char* kContainerFix =
    "run the container with --security-opt seccomp=unconfined (or a seccomp profile allowing "
    "clone/unshare/mount/pivot_root) and --security-opt apparmor=unconfined "
    "--security-opt systempaths=unconfined";
constexpr const char* kAppArmorFix =
    "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or install an AppArmor "
    "profile granting userns for safeinstall's path";
constexpr const char* kUserNsCloneFix =
    "sudo sysctl -w kernel.unprivileged_userns_clone=1 (persist it in /etc/sysctl.d/)";

struct NamespaceKind {
  int flag;
  const char* clone_flag;  // "CLONE_NEWUSER"
  const char* sysctl;      // "user.max_user_namespaces"
  const char* config;      // "CONFIG_USER_NS"
};

constexpr NamespaceKind kNamespaceKinds[] = {
    {CLONE_NEWUSER, "CLONE_NEWUSER", "user.max_user_namespaces", "CONFIG_USER_NS"},
    {CLONE_NEWNS, "CLONE_NEWNS", "user.max_mnt_namespaces", "CONFIG_NAMESPACES"},
    {CLONE_NEWPID, "CLONE_NEWPID", "user.max_pid_namespaces", "CONFIG_PID_NS"},
    {CLONE_NEWNET, "CLONE_NEWNET", "user.max_net_namespaces", "CONFIG_NET_NS"},
    {CLONE_NEWIPC, "CLONE_NEWIPC", "user.max_ipc_namespaces", "CONFIG_IPC_NS"},
    {CLONE_NEWUTS, "CLONE_NEWUTS", "user.max_uts_namespaces", "CONFIG_UTS_NS"},
    {CLONE_NEWCGROUP, "CLONE_NEWCGROUP", "user.max_cgroup_namespaces", "CONFIG_CGROUPS"},
};

const NamespaceKind* namespace_kind(int flag) {
  for (const auto& kind : kNamespaceKinds) {
    if (kind.flag == flag) return &kind;
  }
  return nullptr;
}

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

std::string proc_or_sys_cover_fix(const std::vector<std::string>& covers, const char* root) {
  std::string listed;
  for (std::size_t i = 0; i < covers.size() && i < 4; ++i)
    listed += (i == 0 ? "" : ", ") + covers[i];
  return std::string("the host's ") + root + " is partly covered (" + listed +
         "), and the kernel mounts a new instance in a user namespace only while an uncovered "
         "one is visible: " +
         kContainerFix;
}

enum class MountFs { Tmpfs, Proc, Devpts, Sysfs, Bind, SetAttr, PivotRoot, Overlay };

const char* mount_fs_name(MountFs fs) {
  switch (fs) {
    case MountFs::Tmpfs:
      return "tmpfs";
    case MountFs::Proc:
      return "proc";
    case MountFs::Devpts:
      return "devpts";
    case MountFs::Sysfs:
      return "sysfs";
    case MountFs::Bind:
      return "bind";
    case MountFs::SetAttr:
      return "mount_setattr";
    case MountFs::PivotRoot:
      return "pivot_root";
    case MountFs::Overlay:
      return "overlay";
  }
  return "mount";
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
        return "this overlayfs rejects `userxattr` or the tmpfs upper dir: Linux 5.11 or newer is "
               "needed; `dmesg` shows overlayfs's reason";
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

// ---------------------------------------------------------------------------------------------
// Probe children. Every probe runs in a forked child so a namespace or filter it creates never
// touches the caller; everything the child set up dies with it. The child may allocate: glibc
// keeps malloc usable after fork.

enum class Stage {
  Namespace,  // creating a namespace (ns_flag says which)
  IdMap,      // writing setgroups/uid_map/gid_map
  Mount,      // a mount, bind, remount or pivot
  Other,
};

// What a probe child sends back: plain bytes, one atomic pipe write.
struct ChildReport {
  bool ok = false;
  Stage stage = Stage::Other;
  int ns_flag = 0;
  int err = 0;          // errno of the failed step; 0 when ok or not a system call failure
  char text[232] = {};  // the failed step, or an observation when ok
};

void set_text(ChildReport& report, std::string_view text) {
  const std::size_t n = std::min(text.size(), sizeof report.text - 1);
  std::memcpy(report.text, text.data(), n);
  report.text[n] = '\0';
}

ChildReport succeeded(std::string_view note) {
  ChildReport report;
  report.ok = true;
  set_text(report, note);
  return report;
}

ChildReport failed(Stage stage, std::string_view step, int err) {
  ChildReport report;
  report.stage = stage;
  report.err = err;
  set_text(report, step);
  return report;
}

// Callers pass errno explicitly and first thing, before anything can overwrite it.
ChildReport sys_failed(Stage stage, int err, std::string_view step) {
  return failed(stage, step, err);
}

ChildReport namespace_failed(int flag, int err) {
  const NamespaceKind* kind = namespace_kind(flag);
  ChildReport report = failed(Stage::Namespace,
                              std::string("unshare(") + (kind ? kind->clone_flag : "?") + ")", err);
  report.ns_flag = flag;
  return report;
}

enum class ReadResult { Complete, Eof, Timeout };

ReadResult read_with_deadline(int fd, void* buffer, std::size_t size, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto* bytes = static_cast<char*>(buffer);
  std::size_t done = 0;
  while (done < size) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return ReadResult::Timeout;
    pollfd pfd{fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return ready == 0 ? ReadResult::Timeout : ReadResult::Eof;
    const ssize_t n = ::read(fd, bytes + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ReadResult::Eof;
    done += static_cast<std::size_t>(n);
  }
  return ReadResult::Complete;
}

void reap(pid_t pid, int* status = nullptr) {
  int ignored = 0;
  while (::waitpid(pid, status != nullptr ? status : &ignored, 0) < 0 && errno == EINTR) {
  }
}

ChildReport collect_report(int fd, pid_t child, int timeout_ms) {
  ChildReport report;
  const ReadResult result = read_with_deadline(fd, &report, sizeof report, timeout_ms);
  // A probe the kernel blocks forever must not hang `safeinstall check`.
  if (result != ReadResult::Complete) ::kill(child, SIGKILL);
  int status = 0;
  reap(child, &status);
  if (result == ReadResult::Complete) return report;
  if (result == ReadResult::Timeout)
    return failed(Stage::Other,
                  "probe process gave no answer within " + std::to_string(timeout_ms) + " ms",
                  ETIMEDOUT);
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return failed(Stage::Other,
                  std::string("probe process killed by SIG") + (name != nullptr ? name : "?"), 0);
  }
  return failed(Stage::Other, "probe process exited without a report", 0);
}

constexpr int kProbeTimeoutMs = 2000;
constexpr int kNestedTimeoutMs = 1000;  // shorter, so the outer probe still gets its answer

// Runs body in a forked child and returns what it reported. Used both by the caller and, for
// probes that need a second process (pid 1 of a new pid namespace), inside a probe child.
template <typename Body>
ChildReport run_forked(Body&& body, int timeout_ms = kProbeTimeoutMs) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_failed(Stage::Other, errno, "pipe2");
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const pid_t child = ::fork();
  if (child < 0) return sys_failed(Stage::Other, errno, "fork");
  if (child == 0) {
    read_end.reset();
    // Dies with its parent, so a killed `safeinstall check` leaves no probe running.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const ChildReport report = body();
    [[maybe_unused]] const ssize_t written = ::write(write_end.get(), &report, sizeof report);
    ::_exit(0);
  }
  write_end.reset();
  return collect_report(read_end.get(), child, timeout_ms);
}

// ---------------------------------------------------------------------------------------------
// Steps a probe child takes.

ChildReport write_file(const char* path, std::string_view content) {
  UniqueFd fd(::open(path, O_WRONLY | O_CLOEXEC));
  if (!fd) return sys_failed(Stage::IdMap, errno, std::string("open ") + path);
  if (::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size()))
    return sys_failed(Stage::IdMap, errno, std::string("write ") + path);
  return succeeded("");
}

std::string identity_map(unsigned id) {
  return std::to_string(id) + " " + std::to_string(id) + " 1\n";
}

// The same shape the launcher uses: one id mapped to itself, setgroups denied.
ChildReport enter_user_namespace(uid_t uid, gid_t gid) {
  if (::unshare(CLONE_NEWUSER) != 0) return namespace_failed(CLONE_NEWUSER, errno);
  if (auto r = write_file("/proc/self/setgroups", "deny\n"); !r.ok) return r;
  if (auto r = write_file("/proc/self/uid_map", identity_map(uid)); !r.ok) return r;
  if (auto r = write_file("/proc/self/gid_map", identity_map(gid)); !r.ok) return r;
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

// A user + mount namespace whose mounts can never propagate back to the host.
ChildReport enter_private_mount_namespace(int extra_flags = 0) {
  if (auto r = enter_namespaces(CLONE_NEWNS | extra_flags); !r.ok) return r;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return sys_failed(Stage::Mount, errno, "mount --make-rprivate /");
  return succeeded("");
}

// Scratch space for every mount probe: a tmpfs over /tmp inside the probe's own mount
// namespace, so directories made there never reach the host's /tmp.
constexpr const char* kScratch = "/tmp";

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

ChildReport enter_scratch(int extra_flags = 0) {
  if (auto r = enter_private_mount_namespace(extra_flags); !r.ok) return r;
  return mount_scratch_tmpfs();
}

// ---------------------------------------------------------------------------------------------
// Recording results.

void pass(FeatureCheck& check, std::string detail) {
  check.ok = true;
  check.detail = std::move(detail);
  check.fix.clear();
}

std::string describe(const ChildReport& report) {
  std::string text = report.text;
  if (report.err != 0)
    text += std::string(": ") + errno_name(report.err) + " (" + std::strerror(report.err) + ")";
  return text;
}

void fail(FeatureCheck& check, const ChildReport& report, std::string fix, const HostKnobs& knobs) {
  check.ok = false;
  check.detail = describe(report);
  if (const auto seen = host_observations(knobs); !seen.empty()) check.detail += "; host: " + seen;
  check.fix = fix.empty() ? "see detail; `dmesg` may name the refusing policy" : std::move(fix);
}

// Picks the fix by the step that failed: namespace creation and id maps have their own
// causes, distinct from those of the mount the probe was about.
std::string fix_for(const ChildReport& report, MountFs fs, const HostKnobs& knobs) {
  if (report.stage == Stage::Namespace || report.stage == Stage::IdMap)
    return namespace_fix(report.err, report.ns_flag, knobs, !knobs.has_cap_sys_admin);
  return mount_fix(report.err, fs, knobs);
}

void record(FeatureCheck& check, const ChildReport& report, MountFs fs, const HostKnobs& knobs) {
  if (report.ok) return pass(check, report.text);
  fail(check, report, fix_for(report, fs, knobs), knobs);
}

// ---------------------------------------------------------------------------------------------
// User namespaces.

void check_user_namespace(FeatureCheck& check, const HostKnobs& knobs) {
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  const ChildReport report = run_forked([&] {
    if (auto r = enter_user_namespace(uid, gid); !r.ok) return r;
    return succeeded("unshare(CLONE_NEWUSER), setgroups deny, uid " + std::to_string(uid) +
                     " and gid " + std::to_string(gid) + " mapped to themselves");
  });
  if (report.ok) return pass(check, report.text);
  fail(check, report, namespace_fix(report.err, CLONE_NEWUSER, knobs, !knobs.has_cap_sys_admin),
       knobs);
}

constexpr uid_t kNobody = 65534;

// Root is exempt from the policies that restrict unprivileged users, so as root the tool also
// tries what an ordinary user would get.
ChildReport become_nobody() {
  if (::setgroups(0, nullptr) != 0) return sys_failed(Stage::Other, errno, "setgroups(0)");
  if (::setresgid(kNobody, kNobody, kNobody) != 0)
    return sys_failed(Stage::Other, errno, "setresgid(65534)");
  if (::setresuid(kNobody, kNobody, kNobody) != 0)
    return sys_failed(Stage::Other, errno, "setresuid(65534)");
  // Changing uid makes the process non-dumpable, which hands /proc/self/uid_map to root.
  if (::prctl(PR_SET_DUMPABLE, 1) != 0)
    return sys_failed(Stage::Other, errno, "prctl(PR_SET_DUMPABLE)");
  return succeeded("");
}

void check_unprivileged_user_namespace(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_forked([] {
    if (auto r = become_nobody(); !r.ok) return r;
    if (auto r = enter_user_namespace(kNobody, kNobody); !r.ok) return r;
    return succeeded("as uid 65534: unshare(CLONE_NEWUSER) and uid/gid maps written");
  });
  if (report.ok) return pass(check, report.text);
  std::string fix = report.stage == Stage::Other
                        ? std::string(
                              "could not switch to uid 65534 to test; run `safeinstall "
                              "check` as an ordinary user instead")
                        : namespace_fix(report.err, CLONE_NEWUSER, knobs, true);
  fail(check, report, std::move(fix), knobs);
}

// ---------------------------------------------------------------------------------------------
// Other namespaces, each inside a user namespace as the sandbox creates them.

void check_namespace(FeatureCheck& check, const HostKnobs& knobs, int flag) {
  const ChildReport report = run_forked([flag] {
    if (auto r = enter_namespaces(flag); !r.ok) return r;
    return succeeded(std::string("unshare(") + namespace_kind(flag)->clone_flag +
                     ") inside a new user namespace");
  });
  record(check, report, MountFs::Tmpfs, knobs);
}

void check_mount_namespace(FeatureCheck& c, const HostKnobs& k) {
  check_namespace(c, k, CLONE_NEWNS);
}
void check_net_namespace(FeatureCheck& c, const HostKnobs& k) {
  check_namespace(c, k, CLONE_NEWNET);
}
void check_ipc_namespace(FeatureCheck& c, const HostKnobs& k) {
  check_namespace(c, k, CLONE_NEWIPC);
}
void check_uts_namespace(FeatureCheck& c, const HostKnobs& k) {
  check_namespace(c, k, CLONE_NEWUTS);
}
void check_cgroup_namespace(FeatureCheck& c, const HostKnobs& k) {
  check_namespace(c, k, CLONE_NEWCGROUP);
}

// A pid namespace only shows once a process is born into it.
void check_pid_namespace(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_forked([] {
    if (auto r = enter_namespaces(CLONE_NEWPID); !r.ok) return r;
    return run_forked(
        [] {
          if (::getpid() != 1) return failed(Stage::Other, "first child is not pid 1", 0);
          return succeeded(
              "unshare(CLONE_NEWPID) inside a new user namespace; first child is pid 1");
        },
        kNestedTimeoutMs);
  });
  record(check, report, MountFs::Tmpfs, knobs);
}

// ---------------------------------------------------------------------------------------------
// Mounts inside the user namespace.

void check_tmpfs_mount(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_forked([] {
    if (auto r = enter_scratch(); !r.ok) return r;
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
          if (auto r = make_dir(proc); !r.ok) return r;
          if (::mount("proc", proc.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
            return sys_failed(Stage::Mount, errno, "mount proc on " + proc);
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
  const ChildReport report = run_forked([] {
    if (auto r = enter_scratch(); !r.ok) return r;
    const std::string pts = scratch("pts");
    if (auto r = make_dir(pts); !r.ok) return r;
    if (::mount("devpts", pts.c_str(), "devpts", MS_NOSUID | MS_NOEXEC,
                "newinstance,ptmxmode=0666,mode=0620") != 0)
      return sys_failed(Stage::Mount, errno, "mount devpts (newinstance) on " + pts);
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
  const ChildReport report = run_forked([] {
    // sysfs in a user namespace shows the network namespace, so it needs one of its own.
    if (auto r = enter_scratch(CLONE_NEWNET); !r.ok) return r;
    const std::string sys = scratch("sys");
    if (auto r = make_dir(sys); !r.ok) return r;
    if (::mount("sysfs", sys.c_str(), "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                nullptr) != 0)
      return sys_failed(Stage::Mount, errno, "mount sysfs on " + sys);
    return succeeded("read-only sysfs of a new network namespace mounted");
  });
  record(check, report, MountFs::Sysfs, knobs);
}

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

// Binds the host's root (as the sandbox does) and makes the bind read-only. The bind is never
// written to: if the remount had silently failed, a write would land on the host.
void check_bind_read_only(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_forked([] {
    if (auto r = enter_scratch(); !r.ok) return r;
    const std::string view = scratch("root");
    if (auto r = make_dir(view); !r.ok) return r;
    // Recursive, as the sandbox binds: the kernel refuses a plain bind of a mount whose
    // submounts are locked in the user namespace (EINVAL).
    if (::mount("/", view.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
      return sys_failed(Stage::Mount, errno, "recursive bind of / on " + view);
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
  const ChildReport report = run_forked([] {
    if (auto r = enter_scratch(); !r.ok) return r;
    const std::string view = scratch("root");
    if (auto r = make_dir(view); !r.ok) return r;
    if (::mount("/", view.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
      return sys_failed(Stage::Mount, errno, "recursive bind of / on " + view);
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
  const ChildReport report = run_forked([] {
    if (auto r = enter_scratch(); !r.ok) return r;
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

// ---------------------------------------------------------------------------------------------
// Overlay staging.

ChildReport create_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return sys_failed(Stage::Other, errno, "create " + path);
  return succeeded("");
}

ChildReport mount_staging_overlay() {
  for (const char* dir : {"lower", "upper", "work", "merged"}) {
    if (auto r = make_dir(scratch(dir)); !r.ok) return r;
  }
  if (auto r = create_file(scratch("lower/removed")); !r.ok) return r;
  const std::string options = "lowerdir=" + scratch("lower") + ",upperdir=" + scratch("upper") +
                              ",workdir=" + scratch("work") + ",userxattr";
  if (::mount("overlay", scratch("merged").c_str(), "overlay", MS_NOSUID | MS_NODEV,
              options.c_str()) != 0)
    return sys_failed(Stage::Mount, errno, "mount overlay (" + options + ")");
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
  return succeeded(
      "overlay with userxattr mounted; a write and a whiteout landed in the upper dir");
}

void check_overlayfs(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_forked([] {
    if (auto r = enter_scratch(); !r.ok) return r;
    if (auto r = mount_staging_overlay(); !r.ok) return r;
    return verify_staged_changes();
  });
  record(check, report, MountFs::Overlay, knobs);
}

// ---------------------------------------------------------------------------------------------
// seccomp.

using SeccompContext = std::unique_ptr<void, decltype(&seccomp_release)>;

std::string seccomp_fix(int err, const HostKnobs& knobs, bool notify) {
  if (err == EINVAL || err == ENOSYS || err == EOPNOTSUPP) {
    if (confined_by_container(knobs) && err == ENOSYS) return kContainerFix;
    return notify ? "seccomp user notification needs Linux 5.5 or newer (5.0 for the listener, "
                    "5.5 to let calls continue) and libseccomp 2.5; upgrade the kernel"
                  : "the kernel was built without CONFIG_SECCOMP_FILTER; use a distribution "
                    "kernel, all of which have it";
  }
  if (err == EACCES || err == EPERM)
    return confined_by_container(knobs) ? std::string(kContainerFix)
                                        : std::string(
                                              "a security policy refuses seccomp filters; "
                                              "`dmesg` names it");
  if (err == EBUSY)
    return "a seccomp listener already exists in this process tree (nested notifying filters "
           "need Linux 6.x); run safeinstall outside other sandboxes that use user notification";
  return "unexpected seccomp error; `dmesg` may show the kernel's reason";
}

// libseccomp returns -errno.
ChildReport seccomp_failed(int rc, std::string_view step) {
  return failed(Stage::Other, step, -rc);
}

ChildReport load_filter(uint32_t action, int syscall_nr, SeccompContext& ctx) {
  ctx.reset(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return failed(Stage::Other, "seccomp_init", ENOMEM);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return sys_failed(Stage::Other, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
  if (int rc = seccomp_rule_add(ctx.get(), action, syscall_nr, 0); rc < 0)
    return seccomp_failed(rc, "seccomp_rule_add");
  if (int rc = seccomp_load(ctx.get()); rc < 0) return seccomp_failed(rc, "seccomp_load");
  return succeeded("");
}

void check_seccomp_filter(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_forked([] {
    SeccompContext ctx(nullptr, seccomp_release);
    if (auto r = load_filter(SCMP_ACT_ERRNO(ESRCH), SCMP_SYS(getppid), ctx); !r.ok) return r;
    // getppid cannot fail on its own: ESRCH proves the filter runs.
    errno = 0;
    if (::syscall(SYS_getppid) != -1 || errno != ESRCH)
      return failed(Stage::Other, "filter loaded but getppid was not refused", 0);
    return succeeded("no_new_privs set, filter loaded and enforced (libseccomp API level " +
                     std::to_string(seccomp_api_get()) + ")");
  });
  if (report.ok) return pass(check, report.text);
  fail(check, report, seccomp_fix(report.err, knobs, false), knobs);
}

// Answers one notification with "continue", as the supervisor does for execve and connect.
ChildReport continue_one_notification(int listener) {
  pollfd pfd{listener, POLLIN, 0};
  if (::poll(&pfd, 1, kNestedTimeoutMs) != 1)
    return failed(Stage::Other, "no notification arrived within 1 s", ETIMEDOUT);
  seccomp_notif* request = nullptr;
  seccomp_notif_resp* response = nullptr;
  if (int rc = seccomp_notify_alloc(&request, &response); rc < 0)
    return seccomp_failed(rc, "seccomp_notify_alloc");
  std::unique_ptr<seccomp_notif, void (*)(seccomp_notif*)> owned_request(
      request, [](seccomp_notif* p) { seccomp_notify_free(p, nullptr); });
  std::unique_ptr<seccomp_notif_resp, void (*)(seccomp_notif_resp*)> owned_response(
      response, [](seccomp_notif_resp* p) { seccomp_notify_free(nullptr, p); });
  if (int rc = seccomp_notify_receive(listener, request); rc < 0)
    return seccomp_failed(rc, "seccomp_notify_receive");
  response->id = request->id;
  response->error = 0;
  response->val = 0;
  response->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  if (int rc = seccomp_notify_respond(listener, response); rc < 0)
    return seccomp_failed(rc, "seccomp_notify_respond (continue)");
  return succeeded("");
}

void check_seccomp_notify(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_forked([] {
    SeccompContext ctx(nullptr, seccomp_release);
    if (auto r = load_filter(SCMP_ACT_NOTIFY, SCMP_SYS(getppid), ctx); !r.ok) return r;
    const int listener = seccomp_notify_fd(ctx.get());
    if (listener < 0) return seccomp_failed(listener, "seccomp_notify_fd");
    const pid_t self = ::getpid();
    const pid_t traced = ::fork();
    if (traced < 0) return sys_failed(Stage::Other, errno, "fork");
    if (traced == 0) ::_exit(::syscall(SYS_getppid) == self ? 0 : 1);
    ChildReport answered = continue_one_notification(listener);
    if (!answered.ok) ::kill(traced, SIGKILL);
    int status = 0;
    reap(traced, &status);
    if (!answered.ok) return answered;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      return failed(Stage::Other, "the continued syscall returned a wrong result", 0);
    return succeeded("listener fd received a notification and let the syscall continue");
  });
  if (report.ok) return pass(check, report.text);
  fail(check, report, seccomp_fix(report.err, knobs, true), knobs);
}

// ---------------------------------------------------------------------------------------------
// Process handles.

void check_pidfd_open(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_forked([] {
    const pid_t child = ::fork();
    if (child < 0) return sys_failed(Stage::Other, errno, "fork");
    if (child == 0) ::_exit(0);
    // A zombie still has its pid, so the race with the child's exit is harmless.
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child, 0)));
    const int err = errno;
    ChildReport result = succeeded("pidfd_open on a child; poll reported its exit");
    if (!pidfd) {
      result = sys_failed(Stage::Other, err, "pidfd_open");
    } else {
      pollfd pfd{pidfd.get(), POLLIN, 0};
      if (::poll(&pfd, 1, kNestedTimeoutMs) != 1)
        result = failed(Stage::Other, "poll on the pidfd did not report the exit", 0);
    }
    reap(child);
    return result;
  });
  if (report.ok) return pass(check, report.text);
  fail(check, report,
       report.err == ENOSYS && !confined_by_container(knobs)
           ? "pidfd_open needs Linux 5.3; safeinstall falls back to waitpid and signals"
           : (report.err == ENOSYS || report.err == EPERM ? kContainerFix
                                                          : "unexpected pidfd_open error"),
       knobs);
}

// struct clone_args as of Linux 5.3 (CLONE_ARGS_SIZE_VER0). Spelled out here because
// <linux/sched.h> clashes with glibc's <sched.h>.
struct CloneArgsV0 {
  std::uint64_t flags;
  std::uint64_t pidfd;
  std::uint64_t child_tid;
  std::uint64_t parent_tid;
  std::uint64_t exit_signal;
  std::uint64_t stack;
  std::uint64_t stack_size;
  std::uint64_t tls;
};

void check_clone3(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_forked([] {
    CloneArgsV0 args{};
    args.exit_signal = SIGCHLD;
    const long child = ::syscall(SYS_clone3, &args, sizeof args);
    if (child == 0) ::_exit(0);  // nothing may run in a raw clone3 child but _exit
    if (child < 0) return sys_failed(Stage::Other, errno, "clone3");
    reap(static_cast<pid_t>(child));
    return succeeded("clone3 created a child");
  });
  if (report.ok) return pass(check, report.text);
  fail(check, report,
       report.err == ENOSYS && confined_by_container(knobs)
           ? std::string("clone3 is refused with ENOSYS by the container's seccomp profile (older "
                         "Docker default); safeinstall falls back to clone. Or: ") +
                 kContainerFix
           : std::string("clone3 needs Linux 5.3; safeinstall falls back to clone"),
       knobs);
}

// ---------------------------------------------------------------------------------------------
// Network and cgroups.

ChildReport bring_loopback_up() {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return sys_failed(Stage::Other, errno, "socket(AF_INET)");
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &request) != 0)
    return sys_failed(Stage::Other, errno, "ioctl(SIOCGIFFLAGS, lo)");
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &request) != 0)
    return sys_failed(Stage::Other, errno, "ioctl(SIOCSIFFLAGS, lo up)");
  return succeeded("");
}

// The gateway's listeners live on the sandbox's loopback: a connection over it proves it works.
ChildReport connect_over_loopback() {
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener || !client) return sys_failed(Stage::Other, errno, "socket(AF_INET)");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  auto* generic = reinterpret_cast<sockaddr*>(&address);
  if (::bind(listener.get(), generic, length) != 0 || ::listen(listener.get(), 1) != 0 ||
      ::getsockname(listener.get(), generic, &length) != 0)
    return sys_failed(Stage::Other, errno, "listen on 127.0.0.1");
  if (::connect(client.get(), generic, length) != 0)
    return sys_failed(Stage::Other, errno, "connect to 127.0.0.1");
  return succeeded("");
}

void check_loopback(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_forked([] {
    if (auto r = enter_namespaces(CLONE_NEWNET); !r.ok) return r;
    if (auto r = bring_loopback_up(); !r.ok) return r;
    if (auto r = connect_over_loopback(); !r.ok) return r;
    return succeeded("lo brought up in a new network namespace; TCP over 127.0.0.1 works");
  });
  if (report.ok) return pass(check, report.text);
  if (report.stage == Stage::Namespace || report.stage == Stage::IdMap)
    return fail(check, report, fix_for(report, MountFs::Tmpfs, knobs), knobs);
  fail(check, report,
       confined_by_container(knobs)
           ? std::string(kContainerFix)
           : std::string("the kernel refused to configure loopback in a new network namespace; "
                         "`dmesg` may name the refusing policy"),
       knobs);
}

// The caller's cgroup, from the cgroup v2 line "0::/path".
std::optional<std::string> own_cgroup_v2_path() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("0::")) return line.substr(3);
  }
  return std::nullopt;
}

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

std::string cgroup_layout() {
  struct statfs fs {};
  if (::statfs(kCgroupRoot, &fs) != 0) return std::string(kCgroupRoot) + " is missing";
  if (fs.f_type == CGROUP2_SUPER_MAGIC) return {};
  struct statfs unified {};
  const bool hybrid =
      ::statfs("/sys/fs/cgroup/unified", &unified) == 0 && unified.f_type == CGROUP2_SUPER_MAGIC;
  return hybrid ? "cgroup hybrid mode: /sys/fs/cgroup holds v1 hierarchies, cgroup2 only at "
                  "/sys/fs/cgroup/unified without controllers"
                : "cgroup v1: /sys/fs/cgroup is not cgroup2";
}

// Creates and removes an empty cgroup below the caller's own: the only honest test of
// delegation, and an empty cgroup can always be removed again.
void check_cgroup_delegation(FeatureCheck& check, const HostKnobs& knobs) {
  if (const auto layout = cgroup_layout(); !layout.empty()) {
    check.ok = false;
    check.detail = layout;
    check.fix =
        "boot with systemd.unified_cgroup_hierarchy=1 (pure cgroup v2) to get resource "
        "limits; until then safeinstall limits with rlimits only";
    return;
  }
  const auto own = own_cgroup_v2_path();
  if (!own) {
    check.ok = false;
    check.detail = "/proc/self/cgroup has no cgroup v2 entry";
    check.fix = "boot with systemd.unified_cgroup_hierarchy=1 (pure cgroup v2)";
    return;
  }
  const std::string dir = std::string(kCgroupRoot) + (*own == "/" ? "" : *own);
  const ChildReport report = run_forked([&dir] {
    const std::string probe = dir + "/safeinstall-check-" + std::to_string(::getpid());
    if (::mkdir(probe.c_str(), 0755) != 0) return sys_failed(Stage::Other, errno, "mkdir " + probe);
    if (::rmdir(probe.c_str()) != 0) return sys_failed(Stage::Other, errno, "rmdir " + probe);
    return succeeded("cgroup2 at /sys/fs/cgroup; created and removed a child cgroup under " + dir);
  });
  if (report.ok) return pass(check, report.text);
  fail(check, report,
       report.err == EROFS
           ? std::string("/sys/fs/cgroup is mounted read-only (typical in containers): run the "
                         "container with --cgroupns=private and a writable cgroup mount")
           : std::string("the caller's cgroup is not delegated: run safeinstall in a delegated "
                         "scope, e.g. systemd-run --user --scope -p Delegate=yes safeinstall ..."),
       knobs);
}

// ---------------------------------------------------------------------------------------------
// The list.

struct CheckSpec {
  const char* name;
  const char* description;
  bool required;
  bool needs_user_namespace;
  void (*run)(FeatureCheck&, const HostKnobs&);
};

constexpr CheckSpec kUserNamespace{"user-namespace", "user namespaces with uid/gid maps", true,
                                   false, check_user_namespace};
constexpr CheckSpec kUnprivilegedUserNamespace{
    "user-namespace-unprivileged", "user namespaces for an unprivileged user (tried as uid 65534)",
    false, false, check_unprivileged_user_namespace};

constexpr CheckSpec kChecks[] = {
    {"mount-namespace", "mount namespace inside the user namespace", true, true,
     check_mount_namespace},
    {"pid-namespace", "pid namespace inside the user namespace", true, true, check_pid_namespace},
    {"net-namespace", "network namespace inside the user namespace", true, true,
     check_net_namespace},
    {"ipc-namespace", "IPC namespace inside the user namespace", true, true, check_ipc_namespace},
    {"uts-namespace", "UTS (hostname) namespace inside the user namespace", true, true,
     check_uts_namespace},
    {"cgroup-namespace", "cgroup namespace inside the user namespace", true, true,
     check_cgroup_namespace},
    {"tmpfs-mount", "tmpfs mounts (throwaway home and /tmp)", true, true, check_tmpfs_mount},
    {"proc-mount", "a fresh /proc for the sandbox's pid namespace", true, true, check_proc_mount},
    {"devpts-mount", "a private devpts instance for /dev/pts", true, true, check_devpts_mount},
    {"sysfs-mount", "read-only /sys of the sandbox's network namespace", false, true,
     check_sysfs_mount},
    {"bind-read-only", "read-only bind mounts of the host tree", true, true, check_bind_read_only},
    {"mount-setattr", "recursive read-only in one call (mount_setattr; a fallback exists)", false,
     true, check_mount_setattr},
    {"pivot-root", "pivot_root into a new root (host tree unreachable)", true, true,
     check_pivot_root},
    {"overlayfs-userxattr", "overlayfs in a user namespace (needed for staging)", false, true,
     check_overlayfs},
    {"seccomp-filter", "no_new_privs and a seccomp filter", true, false, check_seccomp_filter},
    {"seccomp-notify", "seccomp user notification (recording execve/connect)", false, false,
     check_seccomp_notify},
    {"pidfd-open", "pidfd_open (race-free child handles)", false, false, check_pidfd_open},
    {"clone3", "clone3 system call", false, false, check_clone3},
    {"loopback", "loopback up in a new network namespace (egress gateway)", true, true,
     check_loopback},
    {"cgroup2-delegation", "cgroup v2 subtree writable by the caller (resource limits)", false,
     false, check_cgroup_delegation},
};

FeatureCheck run_check(const CheckSpec& spec, const HostKnobs& knobs) {
  FeatureCheck check;
  check.name = spec.name;
  check.description = spec.description;
  check.required = spec.required;
  spec.run(check, knobs);
  return check;
}

// Without a user namespace every dependent probe would fail with the same error; one pointer
// to the cause reads better than a dozen copies of it.
FeatureCheck not_tried(const CheckSpec& spec, const FeatureCheck& user_namespace) {
  FeatureCheck check;
  check.name = spec.name;
  check.description = spec.description;
  check.required = spec.required;
  check.detail = "not tried: needs a user namespace, and the user-namespace check failed";
  check.fix = "fix user-namespace first: " + user_namespace.fix;
  return check;
}

}  // namespace

std::vector<FeatureCheck> check_host_features() {
  const HostKnobs knobs = read_host_knobs();
  std::vector<FeatureCheck> checks;
  checks.push_back(run_check(kUserNamespace, knobs));
  const FeatureCheck user_namespace = checks.front();
  // As root the sandbox works either way, but the tool must work for ordinary users too.
  if (::geteuid() == 0) checks.push_back(run_check(kUnprivilegedUserNamespace, knobs));
  for (const auto& spec : kChecks) {
    if (spec.needs_user_namespace && !user_namespace.ok)
      checks.push_back(not_tried(spec, user_namespace));
    else
      checks.push_back(run_check(spec, knobs));
  }
  return checks;
}

bool sandbox_can_be_built(const std::vector<FeatureCheck>& checks) {
  return std::all_of(checks.begin(), checks.end(),
                     [](const FeatureCheck& check) { return check.ok || !check.required; });
}

std::string explain_namespace_failure(int err) {
  const HostKnobs knobs = read_host_knobs();
  std::string hint = namespace_fix(err, 0, knobs, !knobs.has_cap_sys_admin);
  if (const auto seen = host_observations(knobs); !seen.empty()) hint += " (host: " + seen + ")";
  return hint + "; `safeinstall check` tests every feature the sandbox needs";
}

}  // namespace safeinstall::sandbox
