#pragma once
// Sampling the sandbox's process tree from the host when no cgroup is delegated: the tree is
// walked from the sandbox's init through /proc/PID/task/TID/children (orphans are reparented
// to init, so nothing escapes the walk), summing what each process uses.

#include <sys/types.h>

#include <cstdint>

namespace safeinstall::runner {

struct TreeSample {
  std::uint64_t tasks = 0;  // threads, as RLIMIT_NPROC and pids.max count them
  std::uint64_t processes = 0;
  std::uint64_t rss_kib = 0;  // sum of the processes' resident sets
  std::uint64_t cpu_ms = 0;   // user + system, including reaped descendants
};

// Stops walking once `stop_at_tasks` is exceeded: a fork bomb's tree must not slow the
// sampler that is about to stop it.
TreeSample sample_tree(pid_t init, std::uint64_t stop_at_tasks = UINT64_MAX);

}  // namespace safeinstall::runner
