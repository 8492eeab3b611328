#pragma once
// What the host is like: read once per `safeinstall check`, used to turn an errno into a
// concrete fix (a sysctl, a container option, an AppArmor knob).

#include <optional>
#include <string>
#include <vector>

namespace safeinstall::sandbox::host_check {

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

HostKnobs read_host_knobs();

// A number in the first line of a /proc or /sys file; nullopt when missing or not a number.
std::optional<long> read_number(const char* path);

// Inside a container, under a seccomp filter or an AppArmor profile: the runtime's
// confinement, rather than the kernel, is the likely reason for a refusal.
bool confined_by_container(const HostKnobs& knobs);

// What of the host's state a reader needs next to a failure, e.g. "already under a seccomp
// filter (Seccomp: 2)"; empty on a plain host.
std::string host_observations(const HostKnobs& knobs);

}  // namespace safeinstall::sandbox::host_check
