#include "runner/supervise/exec_exits.h"

#include <sys/wait.h>

#include <algorithm>

#include "sandbox/base/pidfd.h"

namespace safeinstall::runner {

void record_exit(ProcessRecord& record, int wait_status) {
  if (WIFEXITED(wait_status)) record.exit_code = WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) record.signal = WTERMSIG(wait_status);
}

void ExecExits::keep(std::size_t record, sandbox::UniqueFd pidfd) {
  if (pidfd) pidfds_.insert_or_assign(record, std::move(pidfd));
}

void ExecExits::collect(ProcessTree& tree, bool all) {
  if (!all && pidfds_.size() < collect_at_) return;
  auto& records = tree.records();
  for (auto it = pidfds_.begin(); it != pidfds_.end();) {
    auto info = sandbox::read_pidfd_info(it->second.get());
    if (info && !info->wait_status) {
      ++it;
      continue;
    }
    // Exited, or gone without a status to tell: nothing more will come of this pidfd.
    if (info && it->first < records.size()) record_exit(records[it->first], *info->wait_status);
    it = pidfds_.erase(it);
  }
  // The ones still running are read again only after as many new ones: a long-lived process
  // costs each later exec a constant share, not a read per exec.
  collect_at_ = std::max(kFirstBatch, 2 * pidfds_.size());
}

bool ExecExits::running(std::size_t record) const {
  auto it = pidfds_.find(record);
  if (it == pidfds_.end()) return false;
  auto info = sandbox::read_pidfd_info(it->second.get());
  return info && info->pid != 0 && !info->wait_status;
}

}  // namespace safeinstall::runner
