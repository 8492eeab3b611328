#pragma once
// --disk and --files while the command runs, at the supervisor's 200 ms sampling, without
// walking a 40k-file node_modules five times a second.
//
// The trigger is the filesystems holding the staged trees: statfs says how many blocks and
// inodes are in use, and what the sandbox stages can grow them by no more than it wrote. So
// the trees are only walked (runner/staging/staging_usage.h) when that growth since the last walk,
// added to what the last walk found, could pass the budget. Other writers on the same
// filesystem can fire the trigger too; the walk then finds the sandbox within its budget and
// the next walk waits for as much growth again. Where the walk cannot see everything (an
// unreadable or very deep directory), the filesystem's growth since the start stands in for it.
// A filesystem that keeps no inode count (btrfs) cannot trigger --files: there the trees are
// walked every few seconds instead.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "runner/staging/staging_usage.h"

namespace safeinstall::runner {

class StagingWatch {
 public:
  // Takes the filesystems' figures now, before the command writes anything.
  StagingWatch(std::vector<std::string> roots, StagingBudget budget);

  // One sample: what passed the budget, or empty. Walks only when the trigger fires.
  std::string check();
  // Once more after the sandbox ended: a burst between the last sample and the end.
  std::string final_check();

  std::uint64_t walks() const { return walks_; }

 private:
  struct Filesystem {
    std::string path;  // a root on it
    std::uint64_t bytes_at_start = 0;
    std::uint64_t inodes_at_start = 0;
    bool counts_inodes = false;
  };
  struct Growth {
    std::uint64_t bytes = 0;
    std::uint64_t inodes = 0;
  };

  Growth growth_since_start() const;
  bool triggered(const Growth& now);
  std::string walk(const Growth& now);

  std::vector<std::string> roots_;
  StagingBudget budget_;
  std::vector<Filesystem> filesystems_;
  bool blind_to_entries_ = false;  // some filesystem keeps no inode count
  Growth growth_at_walk_;
  StagingUsage usage_at_walk_;
  unsigned samples_since_walk_ = 0;
  std::uint64_t walks_ = 0;
};

}  // namespace safeinstall::runner
