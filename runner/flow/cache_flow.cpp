#include "runner/flow/cache_flow.h"

#include <sys/stat.h>
#include <unistd.h>

#include "runner/fs/fs_tree.h"
#include "runner/fs/path_text.h"
#include "runner/messages.h"
#include "runner/plan/run_plan.h"
#include "sandbox/base/path_text.h"

namespace safeinstall::runner {
namespace {

// Violations listed one by one before the rest are summed up: `rm -rf` of a cache would
// otherwise fill the report with thousands of lines saying the same.
constexpr std::size_t kFindingsListed = 20;

void record_tampering(RunRecord& record, const CacheStaging& cache, const CacheReview& review) {
  const auto& findings = review.tampering;
  for (std::size_t i = 0; i < findings.size() && i < kFindingsListed; ++i) {
    record.violations.push_back({ViolationKind::cache, cache.decl.name +
                                                           " cache: " + findings[i].path + ": " +
                                                           findings[i].problem + "; discarded"});
  }
  if (findings.size() > kFindingsListed) {
    record.violations.push_back(
        {ViolationKind::cache, cache.decl.name +
                                   " cache: " + std::to_string(findings.size() - kFindingsListed) +
                                   " more changes to existing entries; discarded"});
  }
  record.violations.push_back(
      {ViolationKind::cache, cache.decl.name +
                                 " cache: the run changed existing cache entries, so nothing it "
                                 "wrote to the cache was kept"});
}

bool trusted(const RunRecord& record) {
  return record.verdict == VerdictKind::promoted && record.exit_code == 0;
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Kept for a later promotion, which would make it trusted.
bool promotable_later(const RunRecord& record) {
  return (record.verdict == VerdictKind::held || record.verdict == VerdictKind::staged) &&
         record.exit_code == 0;
}

std::string merged_text(const CacheMergeResult& merged) {
  return std::to_string(merged.files_added) + " files and " +
         std::to_string(merged.entries_appended) + " index entries added";
}

// One kept cache of a stored run: reviewed as after the run, then merged.
std::string merge_kept_cache(const CacheDecl& decl, const std::string& root,
                             const std::string& staging) {
  CacheStaging cache;
  cache.decl = decl;
  cache.root = root;
  cache.persistent = root + "/" + decl.name;
  cache.upper = staging + "/upper";
  cache.work = staging + "/work";
  if (auto made = make_private_directory(cache.persistent); !made)
    return "the " + decl.name + " cache: " + made.error().message();
  auto review = review_cache(cache);
  if (!review) return "the " + decl.name + " cache was left as it was: " + review.error().message();
  if (review->tampered())
    return "the " + decl.name + " cache: the run changed existing entries (" +
           review->tampering.front().path + ": " + review->tampering.front().problem +
           "); nothing it wrote was merged";
  std::string said = "the " + decl.name + " cache: nothing new to add";
  if (!review->empty()) {
    auto merged = merge_cache(cache, *review);
    if (!merged) return "the " + decl.name + " cache was not updated: " + merged.error().message();
    said = "the " + decl.name + " cache: " + merged_text(*merged);
  }
  if (auto removed = remove_cache_staging(cache); !removed)
    said += "; leftovers: " + removed.error().message();
  ::rmdir(staging.c_str());
  return said;
}

}  // namespace

std::vector<CacheStaging> stage_caches(RunRecord& record, const std::string& run_dir) {
  std::vector<CacheStaging> caches;
  auto decls = builtin_caches(record.command);
  if (decls.empty() || !record.plan) return caches;
  auto root = default_cache_root();
  if (!root) {
    tell("package caches are off for this run: " + root.error().message());
    return caches;
  }
  if (is_within(*root, record.project)) {
    tell("package caches are off for this run: the cache dir " + *root +
         " is inside the project; set SAFEINSTALL_CACHE_DIR to a directory outside it");
    return caches;
  }
  for (const auto& decl : decls) {
    auto cache = prepare_cache(decl, *root, run_dir, record.plan->home);
    if (!cache) {
      tell("the " + decl.name + " cache is off for this run: " + cache.error().message());
      continue;
    }
    caches.push_back(std::move(*cache));
  }
  if (auto mounted = mount_caches(*record.plan, caches); !mounted) {
    tell("package caches are off for this run: " + mounted.error().message());
    caches.clear();
  }
  return caches;
}

std::vector<ReviewedCache> review_caches(RunRecord& record, std::vector<CacheStaging> caches,
                                         const StagingBudget& budget) {
  std::vector<ReviewedCache> reviewed;
  for (auto& cache : caches) {
    auto review = review_cache(cache, budget.bytes);
    if (!review) {
      tell("the " + cache.decl.name + " cache was left as it was: " + review.error().message());
      reviewed.push_back({std::move(cache), std::nullopt});
      continue;
    }
    if (review->tampered()) record_tampering(record, cache, *review);
    reviewed.push_back({std::move(cache), std::move(*review)});
  }
  return reviewed;
}

void settle_caches(const RunRecord& record, const std::vector<ReviewedCache>& caches) {
  for (const auto& [cache, review] : caches) {
    if (!review || review->tampered()) continue;  // tampering stays in the run dir, for inspection
    if (trusted(record) && !review->empty()) {
      if (auto merged = merge_cache(cache, *review); !merged)
        tell("the " + cache.decl.name + " cache was not updated: " + merged.error().message());
    }
    if (promotable_later(record) && !review->empty()) continue;
    // A promoted run is slimmed right after (RunStore::prune_after_run): its cache staging
    // goes into the store's trash with one rename and is removed in the background.
    if (record.verdict == VerdictKind::promoted) continue;
    if (auto removed = remove_cache_staging(cache); !removed)
      tell("leftovers of the " + cache.decl.name + " cache: " + removed.error().message());
  }
}

std::vector<std::string> merge_kept_caches(const StoredRun& run) {
  std::vector<std::string> said;
  if (!is_directory(run.dir.caches())) return said;
  if (run.meta.exit_code != 0) {
    [[maybe_unused]] auto removed = remove_tree(run.dir.caches());
    return said;
  }
  auto root = default_cache_root();
  if (!root) return {"the package caches were not updated: " + root.error().message()};
  for (const auto& decl : builtin_caches(run.meta.command)) {
    std::string staging = run.dir.caches() + "/" + decl.name;
    if (is_directory(staging + "/upper")) said.push_back(merge_kept_cache(decl, *root, staging));
  }
  ::rmdir(run.dir.caches().c_str());  // when nothing is left for inspection
  return said;
}

}  // namespace safeinstall::runner
