#pragma once
// How each process that exec'd ended: its pidfd is opened while its exec waits for the
// supervisor (so it names that process and no other), kept, and read in batches. Kernels
// from 6.15 keep the exit status on the pidfd after the process is reaped, so no exit is
// missed however early its parent reaps it, and no exit wakes the supervisor.

#include <sys/types.h>

#include <cstddef>
#include <map>

#include "runner/supervise/process_tree.h"
#include "sandbox/base/fd.h"

namespace safeinstall::runner {

class ExecExits {
 public:
  // Keeps `pidfd`, the handle on the process of tree record `record`.
  void keep(std::size_t record, sandbox::UniqueFd pidfd);
  // Lets go of record `record`'s pidfd: its exit is not to be recorded there.
  void forget(std::size_t record) { pidfds_.erase(record); }

  // Writes the exit code or signal of each kept process that has exited into its record, and
  // lets go of its pidfd. Unless `all`, only once enough have gathered since the last time,
  // so that each exec costs a bounded share of the reads.
  void collect(ProcessTree& tree, bool all);

  // Whether the process of record `record` is known to run still: while it does, its pid is
  // not another's. False when its pidfd is not kept or it has exited.
  bool running(std::size_t record) const;

  std::size_t kept() const { return pidfds_.size(); }

 private:
  static constexpr std::size_t kFirstBatch = 64;
  std::map<std::size_t, sandbox::UniqueFd> pidfds_;
  std::size_t collect_at_ = kFirstBatch;
};

// The exit code or signal of `wait_status` (as waitpid gives it) into `record`.
void record_exit(ProcessRecord& record, int wait_status);

}  // namespace safeinstall::runner
