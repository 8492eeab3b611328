#pragma once
// Where safeinstall may make a cgroup of its own for one controller, and the small reads and
// writes of cgroup control files, shared by the pids and memory cgroups around a sandbox.

#include <cstdint>
#include <optional>
#include <string>

namespace safeinstall::sandbox {

// The directory to make a child cgroup in for `controller` ("pids", "memory"): our own cgroup
// in that controller's v1 hierarchy when we may write there, else our own cgroup v2 when it
// is delegated and lists the controller in cgroup.subtree_control; nullopt otherwise.
std::optional<std::string> cgroup_parent_for(const std::string& controller);

// Writes `text` to a control file in one write, as cgroupfs expects.
bool write_cgroup_file(const std::string& path, const std::string& text);

// The value of `key` in a flat-keyed control file ("max 3", "oom_kill 1"); 0 when absent.
std::uint64_t read_cgroup_counter(const std::string& path, const std::string& key);

}  // namespace safeinstall::sandbox
