#pragma once
// Where one promotion works: the real project and the run's staged tree, each opened once,
// and the scratch places where new versions are prepared and old entries wait for removal.
//
// On one filesystem the scratch lives in the run's staging dir (build/ for new versions,
// trash/ for old entries), where the project cannot see it, and every move into the project
// is a rename.
//
// Copy-based fallback: when the staging dir is on another mount than the project, each new
// version is copied into a `.safeinstall-tmp-<run>-<n>` entry inside the project first (and
// old entries go to `.safeinstall-trash-<run>-<n>`), then the same renames follow; the
// result says so. These names are removed by clean-up or recovery, and a staged entry
// carrying one of them is never promoted.

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "runner/store/promotion_journal.h"
#include "runner/store/run_store.h"
#include "sandbox/base/error.h"
#include "sandbox/base/fd.h"

namespace safeinstall::runner {

// Names of safeinstall's own scratch entries inside the project (copy-based promotion).
bool is_reserved_name(const std::string& name);

struct PromotionPlaces {
  const RunDir& run;
  std::string project;  // absolute, canonical
  sandbox::UniqueFd project_fd;
  sandbox::UniqueFd upper_fd;
  dev_t project_dev = 0;
  bool copy_mode = false;
  std::string copy_reason;  // why, when copy_mode

  // Where the new version of the index-th entry to promote is prepared: its name inside the
  // build dir, or (copy-based) inside the project, and its absolute path.
  std::string new_version_name(std::size_t index) const;
  std::string new_version_path(std::size_t index) const;
  // Where the index-th entry's old version goes once replaced or deleted.
  std::string trash_path(std::size_t index) const;
};

// Opens the project and the run's staged tree. Copy mode is decided apart (decide_copy_mode):
// it asks the mount table, after the cheaper refusals.
Result<PromotionPlaces> open_places(const RunDir& run, const std::string& project);

// Copy-based when asked for (`forced`) or when the staging dir is on another mount than the
// project (rename(2) would fail with EXDEV).
Result<void> decide_copy_mode(PromotionPlaces& places, bool forced);

// A journal in state "preparing" for promoting `entries` top-level entries, listing the
// scratch paths that clean-up or roll-back remove.
PromotionJournal new_journal(const PromotionPlaces& places, std::size_t entries);

// Removes every scratch path the journal lists (nothing there is not an error).
Result<void> remove_scratch(const PromotionJournal& journal);

}  // namespace safeinstall::runner
