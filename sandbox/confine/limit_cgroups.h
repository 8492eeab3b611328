#pragma once
// Cgroups around the sandbox, where the host lets us make them, so the kernel itself holds
// the limits for every user:
//   - pids: the fork that would pass --pids is refused. RLIMIT_NPROC does the same only for
//     users other than root (the kernel exempts kuid 0).
//   - memory: the tree is held to --memory, and what the kernel's OOM killer does at the
//     limit is counted, so a process killed there between two of the supervisor's samples is
//     still recorded. Without the cgroup, RLIMIT_DATA and sampling are all there is.
//
// Per controller, tried in order: a child of our own cgroup in its v1 hierarchy, then a
// child of our own cgroup v2 when it is delegated and lists the controller in
// subtree_control (one child for both controllers there). Anything else: no cgroup.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace safeinstall::sandbox {

class LimitCgroups {
 public:
  // Makes the cgroups (pids.max = `max_tasks`; a memory limit only when `max_memory` is set)
  // and moves `pid` into them. Controllers the host does not offer are left out.
  static LimitCgroups create(pid_t pid, std::uint64_t max_tasks,
                             std::optional<std::uint64_t> max_memory);

  LimitCgroups() = default;
  LimitCgroups(LimitCgroups&& other) noexcept;
  LimitCgroups& operator=(LimitCgroups&& other) noexcept;
  // Removes the cgroups; they are empty once the sandbox's init has been reaped.
  ~LimitCgroups();

  // Removes the empty cgroups of sandboxes whose init no longer exists (a safeinstall killed
  // before it could clean up); returns how many. Cgroups still holding a process stay.
  static std::size_t remove_stale();

  bool holds_memory() const { return !memory_.empty(); }
  // How many forks the kernel refused at pids.max so far (pids.events "max").
  std::uint64_t refused_forks() const;
  // How many processes the kernel's OOM killer killed at the memory limit so far.
  std::uint64_t memory_kills() const;

 private:
  std::vector<std::string> made_;  // every directory made, removed in reverse
  std::string pids_;               // the directory holding pids.max, if any
  std::string memory_;             // the directory holding the memory limit, if any
  bool memory_v1_ = false;
};

}  // namespace safeinstall::sandbox
