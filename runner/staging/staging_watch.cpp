#include "runner/staging/staging_watch.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>

namespace safeinstall::runner {
namespace {

// Where no inode count can trigger a walk, one every 25 samples (5 s): a 40k-entry tree
// costs tens of milliseconds to walk, well under 1 % of the time between walks.
constexpr unsigned kBlindSamplesPerWalk = 25;

struct FsFigures {
  std::uint64_t used_bytes = 0;
  std::uint64_t used_inodes = 0;
  bool counts_inodes = false;
  bool ok = false;
};

FsFigures figures_of(const std::string& path) {
  struct statvfs vfs {};
  FsFigures figures;
  if (::statvfs(path.c_str(), &vfs) != 0) return figures;
  figures.ok = true;
  figures.used_bytes = static_cast<std::uint64_t>(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
  figures.counts_inodes = vfs.f_files > 0;
  figures.used_inodes = static_cast<std::uint64_t>(vfs.f_files - vfs.f_ffree);
  return figures;
}

std::uint64_t grown(std::uint64_t now, std::uint64_t then) {
  return now > then ? now - then : 0;
}

std::uint64_t room(std::uint64_t budget, std::uint64_t used) {
  return budget > used ? budget - used : 0;
}

}  // namespace

StagingWatch::StagingWatch(std::vector<std::string> roots, StagingBudget budget)
    : roots_(std::move(roots)), budget_(budget) {
  std::vector<dev_t> seen;
  for (const auto& root : roots_) {
    struct stat st {};
    if (::stat(root.c_str(), &st) != 0 || std::ranges::find(seen, st.st_dev) != seen.end())
      continue;
    seen.push_back(st.st_dev);
    FsFigures figures = figures_of(root);
    if (!figures.ok) continue;
    filesystems_.push_back({root, figures.used_bytes, figures.used_inodes, figures.counts_inodes});
    blind_to_entries_ = blind_to_entries_ || !figures.counts_inodes;
  }
}

StagingWatch::Growth StagingWatch::growth_since_start() const {
  Growth growth;
  for (const auto& fs : filesystems_) {
    FsFigures now = figures_of(fs.path);
    if (!now.ok) continue;
    growth.bytes += grown(now.used_bytes, fs.bytes_at_start);
    if (fs.counts_inodes) growth.inodes += grown(now.used_inodes, fs.inodes_at_start);
  }
  return growth;
}

// Whether the staged trees could now be past the budget: what the last walk found plus
// everything the filesystems grew by since.
bool StagingWatch::triggered(const Growth& now) {
  ++samples_since_walk_;
  if (budget_.bytes &&
      grown(now.bytes, growth_at_walk_.bytes) > room(*budget_.bytes, usage_at_walk_.bytes))
    return true;
  if (!budget_.entries) return false;
  if (grown(now.inodes, growth_at_walk_.inodes) > room(*budget_.entries, usage_at_walk_.entries))
    return true;
  return blind_to_entries_ && samples_since_walk_ >= kBlindSamplesPerWalk;
}

std::string StagingWatch::walk(const Growth& now) {
  ++walks_;
  StagingUsage usage = measure_staged(roots_, budget_);
  if (!usage.complete) {
    // What the walk could not see may hold anything the filesystems grew by.
    usage.bytes = std::max(usage.bytes, now.bytes);
    usage.entries = std::max(usage.entries, now.inodes);
  }
  usage_at_walk_ = usage;
  growth_at_walk_ = now;
  samples_since_walk_ = 0;
  return staging_over_budget(usage, budget_);
}

std::string StagingWatch::check() {
  if (!budget_.any()) return {};
  Growth now = growth_since_start();
  return triggered(now) ? walk(now) : std::string();
}

std::string StagingWatch::final_check() {
  if (!budget_.any()) return {};
  Growth now = growth_since_start();
  if (triggered(now) || blind_to_entries_) return walk(now);
  return {};
}

}  // namespace safeinstall::runner
