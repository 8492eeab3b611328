#pragma once
// The journalled commit of a promotion, and recovery of one a crash interrupted.
//
// Crash safety: journal.json (promotion_journal.h) records the plan with the inode of each
// new version and of each real entry replaced, fsync'd before the first rename into the
// project: that write is the commit point. recover() finishes an interrupted promotion
// idempotently, deciding per step by inode whether its rename happened, so a crash inside
// recovery is recovered the same way. Preparation never touches the project on the same
// filesystem, so a crash before the commit point leaves nothing to undo there (copy-based
// promotion's scratch entries in the project are listed in the journal first, and removed).
// Kill -9 at any instant thus leaves the project as it was or, once recovered, fully
// promoted; each top-level entry is wholly old or wholly new all along.
//
// After the commit, the run's staged data (upper, work) is removed with the trash: what was
// promoted lives in the project, and what was skipped cannot be promoted later.

#include <vector>

#include "runner/promotion/places.h"
#include "runner/promotion/plan.h"
#include "runner/promotion/promotion.h"
#include "runner/store/promotion_journal.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

// Adds one step per entry of `work` (prepared) to the journal, saves it durably as
// "committing" (the commit point), then renames every new version into the project. Entries
// now new go to result.promoted, ones found changed meanwhile to result.notes. With
// defer_cleanup the journal ends "committed"; else clean-up is the caller's next step.
Result<void> commit(const PromotionPlaces& places, const std::vector<EntryPlan*>& work,
                    const PromotionOptions& options, PromotionJournal& journal,
                    PromotionResult& result);

// Removes old trees, scratch and the run's staged data, and marks the journal done.
Result<void> finish_cleanup(const RunDir& run, PromotionJournal& journal);

// Removes only the names the old trees and the run's staged data share with the project
// (under the lock the caller holds), leaves the rest for slimming, and marks the journal done.
Result<void> finish_leaving_spent_trees(const RunDir& run, PromotionJournal& journal);

}  // namespace safeinstall::runner
