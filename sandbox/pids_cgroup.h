#pragma once
// A pids cgroup around the sandbox, where the host lets us make one: the kernel then refuses
// the fork that would pass the limit, for every user. RLIMIT_NPROC does the same only for
// users other than root (the kernel exempts kuid 0), so without a cgroup root's sandbox is
// held by the supervisor's sampling alone.
//
// Tried in order: a child of our own cgroup v2 (when it is delegated and lists pids in
// subtree_control), then a child of our cgroup v1 pids hierarchy. Anything else: no cgroup.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace safeinstall::sandbox {

class PidsCgroup {
 public:
  // Creates the cgroup with pids.max = `max` and moves `pid` into it; nullopt when the host
  // offers no writable pids controller.
  static std::optional<PidsCgroup> create(pid_t pid, std::uint64_t max);

  PidsCgroup(PidsCgroup&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  PidsCgroup& operator=(PidsCgroup&& other) noexcept {
    std::swap(path_, other.path_);
    return *this;
  }
  // Removes the cgroup; it is empty once the sandbox's init has been reaped.
  ~PidsCgroup();

  const std::string& path() const { return path_; }
  // How many forks the kernel refused at pids.max so far (pids.events "max").
  std::uint64_t refused_forks() const;

 private:
  explicit PidsCgroup(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace safeinstall::sandbox
