#pragma once
// The package caches of one run: set up beside the project's staging, judged and merged
// after the verdict.
//
// Who may add to a cache: a run whose verdict is `promoted` and whose command exited 0 — the
// same judgement that lets its node_modules into the project (every project change expected,
// nothing refused, no survivors, or a person who looked and said yes). Anything less (held,
// rejected, failed, staged) merges nothing: a cache is shared by every project, so it trusts
// no more than a project does. Even a trusted run only adds: merge_cache() accepts new,
// verified files and appended index entries (package_cache.h), and a run that tampered with
// the cache in any way merges nothing at all, since whatever else it added is suspect too.

#include <optional>
#include <string>
#include <vector>

#include "runner/cache/package_cache.h"
#include "runner/record/run_record.h"
#include "runner/staging/staging_usage.h"
#include "runner/store/run_store.h"

namespace safeinstall::runner {

// The caches the command uses (builtin_caches), each prepared under `run_dir` and mounted
// into the plan. A cache that cannot be set up is left out with a warning: the run goes on
// with a cold, throwaway cache.
std::vector<CacheStaging> stage_caches(RunRecord& record, const std::string& run_dir);

// One cache of the run and what review_caches() found in what the run wrote to it.
struct ReviewedCache {
  CacheStaging staging;
  std::optional<CacheReview> review;  // nullopt: could not be read; the cache stays as it was
};

// Before the verdict: reads what the run wrote to each cache and records changes to existing
// entries as `cache` violations, so that the verdict holds such a run.
// Content beyond `budget.bytes` is not read (package_cache.h review_cache).
std::vector<ReviewedCache> review_caches(RunRecord& record, std::vector<CacheStaging> caches,
                                         const StagingBudget& budget);

// After settle(): merges what a trusted run added and removes the run's cache staging. It is
// kept when it holds tampering, for inspection, and when the run is kept for a later
// `safeinstall promote` (held or staged, the command exited 0): merge_kept_caches() then
// merges it.
void settle_caches(const RunRecord& record, const std::vector<ReviewedCache>& caches);

// `safeinstall promote` of a kept run: what the run added to each cache is reviewed again
// against the cache as it is now — the same verification as after a promoted run — and
// merged; the run's cache staging then goes. Returns one line per cache for the user.
std::vector<std::string> merge_kept_caches(const StoredRun& run);

}  // namespace safeinstall::runner
