#include "sandbox/host_check/host_knobs.h"

#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <fstream>
#include <sstream>

namespace safeinstall::sandbox::host_check {
namespace {

std::optional<std::string> read_first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
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

}  // namespace

std::optional<long> read_number(const char* path) {
  auto line = read_first_line(path);
  if (!line) return std::nullopt;
  try {
    return std::stol(*line);
  } catch (const std::exception&) {
    return std::nullopt;
  }
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

}  // namespace safeinstall::sandbox::host_check
