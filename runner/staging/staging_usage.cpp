#include "runner/staging/staging_usage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>

#include "runner/fs/fs_tree.h"
#include "runner/staging/change_list.h"

namespace safeinstall::runner {
namespace {

// Levels open at once. Real package trees are far shallower; what lies deeper is left
// unmeasured and the usage marked incomplete, which the caller backs with the filesystem's
// own count (runner/staging/staging_watch.h).
constexpr std::size_t kMaxLevels = 64;

// The directory, or null where it cannot be read (gone, or not readable by its owner).
DirStream open_stream(int parent, const std::string& name) {
  auto dir = open_directory_stream(parent, name, name);
  return dir ? std::move(*dir) : nullptr;
}

std::uint64_t cost_of(const struct stat& st) {
  if (!S_ISREG(st.st_mode)) return 0;
  auto allocated = static_cast<std::uint64_t>(st.st_blocks) * 512;
  return std::max(allocated, static_cast<std::uint64_t>(st.st_size));
}

bool over(const StagingUsage& usage, const StagingBudget& budget) {
  return (budget.bytes && usage.bytes > *budget.bytes) ||
         (budget.entries && usage.entries > *budget.entries);
}

class Measurer {
 public:
  explicit Measurer(const StagingBudget& budget) : budget_(budget) { levels_.reserve(kMaxLevels); }

  void measure(const std::string& root) {
    auto top = open_directory_stream(AT_FDCWD, root, root);
    if (!top) {
      if (top.error().err != ENOENT) usage_.complete = false;
      return;
    }
    levels_.push_back(std::move(*top));
    while (!levels_.empty() && !over(usage_, budget_)) step();
    levels_.clear();
  }

  StagingUsage usage() const { return usage_; }
  bool done() const { return over(usage_, budget_); }

 private:
  void step() {
    DIR* dir = levels_.back().get();
    const struct dirent* entry = ::readdir(dir);
    if (entry == nullptr) {
      levels_.pop_back();
      return;
    }
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") return;
    ++usage_.entries;
    unsigned char type = entry->d_type;
    if (type != DT_REG && type != DT_DIR && type != DT_UNKNOWN) return;
    struct stat st {};
    if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) return;
    usage_.bytes += cost_of(st);
    if (S_ISDIR(st.st_mode)) descend(::dirfd(dir), entry->d_name);
  }

  void descend(int parent, const char* name) {
    if (levels_.size() >= kMaxLevels) {
      usage_.complete = false;
      return;
    }
    DirStream sub = open_stream(parent, name);
    if (!sub) {
      usage_.complete = false;
      return;
    }
    levels_.push_back(std::move(sub));
  }

  StagingBudget budget_;
  StagingUsage usage_;
  std::vector<DirStream> levels_;
};

std::string mib(std::uint64_t bytes) {
  return std::to_string(bytes >> 20) + " MiB";
}

}  // namespace

StagingUsage measure_staged(const std::vector<std::string>& roots, const StagingBudget& budget) {
  Measurer measurer(budget);
  for (const auto& root : roots) {
    if (measurer.done()) break;
    measurer.measure(root);
  }
  return measurer.usage();
}

StagingUsage staged_usage_of(const ChangeList& changes) {
  StagingUsage usage;
  for (const auto& change : changes.changes) {
    if (change.change == ChangeKind::deleted) continue;
    ++usage.entries;
    if (change.type == EntryType::file) usage.bytes += change.size;
  }
  return usage;
}

std::string staging_over_budget(const StagingUsage& usage, const StagingBudget& budget) {
  if (budget.bytes && usage.bytes > *budget.bytes)
    return "disk: at least " + mib(usage.bytes) + " staged, over --disk " + mib(*budget.bytes);
  if (budget.entries && usage.entries > *budget.entries)
    return "files: more than " + std::to_string(*budget.entries) +
           " files and directories staged, over --files " + std::to_string(*budget.entries);
  return {};
}

}  // namespace safeinstall::runner
