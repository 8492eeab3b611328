// cgroup v2 delegation: whether the caller may make cgroups for resource limits.

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <string>

#include "sandbox/host_check/checks.h"
#include "sandbox/host_check/probe.h"

namespace safeinstall::sandbox::host_check {
namespace {

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

}  // namespace

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
  record(
      check, report,
      report.err == EROFS
          ? std::string("/sys/fs/cgroup is mounted read-only (typical in containers): run the "
                        "container with --cgroupns=private and a writable cgroup mount")
          : std::string("the caller's cgroup is not delegated: run safeinstall in a delegated "
                        "scope, e.g. systemd-run --user --scope -p Delegate=yes safeinstall ..."),
      knobs);
}

}  // namespace safeinstall::sandbox::host_check
