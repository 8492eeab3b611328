#pragma once
// Preparation: the new version of each entry to promote, made beside its target where the
// project cannot see it (the run's build dir), or inside the project under a scratch name
// when copy-based (places.h).
//   - swap: the staged entry itself is what moves; only what must not reach the project is
//     changed in it first. Copy-based: the staged entry is copied into the project.
//   - build: the directory's complete new version is built in the build dir — unchanged
//     real files hard-linked in (same filesystem, no copying), staged files linked in,
//     deletions applied.
// Nothing is ever copied file by file on the same filesystem.
//
// Never trusted: special files and symlinks leaving the project are never promoted (the
// verdict rejects such runs; this is the second line); set-uid/set-gid and world-write
// bits are cleared and the command's own xattrs and ACLs (staged_xattrs.h) removed before
// anything reaches the project; a staged file with more than one hard link is copied, so
// no inode is shared with anything outside the promoted tree; overlayfs xattrs are removed
// from promoted entries.

#include <vector>

#include "runner/promotion/places.h"
#include "runner/promotion/plan.h"
#include "runner/promotion/promotion.h"
#include "runner/staging/change_list.h"
#include "runner/store/promotion_journal.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

// Prepares every entry of `work` (sets its source and new_ino). Copy-based, the journal is
// saved as "preparing" first, since scratch entries appear inside the project.
Result<void> prepare_all(const PromotionPlaces& places, const ChangeList& changes,
                         const PromotionOptions& options, const std::vector<EntryPlan*>& work,
                         PromotionJournal& journal, PromotionResult& result);

// Undoes a preparation that failed: scratch removed, the journal (if any) rolled back.
void discard_preparation(const PromotionPlaces& places, PromotionJournal& journal);

// Swapped-in staged trees still carry overlayfs' opaque/origin xattrs; they are removed
// only after the commit, because before it they are what gives the staged tree its meaning.
void strip_promoted_xattrs(const PromotionPlaces& places, const std::vector<EntryPlan*>& work);

}  // namespace safeinstall::runner
