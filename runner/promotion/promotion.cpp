#include "runner/promotion/promotion.h"

#include <chrono>

#include "runner/promotion/commit.h"
#include "runner/promotion/places.h"
#include "runner/promotion/plan.h"
#include "runner/promotion/prepare.h"
#include "runner/staging/project_snapshot.h"
#include "runner/store/promotion_journal.h"

namespace safeinstall::runner {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::microseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
}

// A run is promoted once: not again, and not while an earlier attempt awaits recovery.
Result<void> check_not_promoted(const RunDir& run) {
  auto journal = load_journal(run.journal_file());
  if (!journal) return propagate(journal);
  if (!*journal || (*journal)->state == JournalState::rolled_back) return {};
  if (is_unfinished((*journal)->state)) {
    return plain_error("promote run " + run.id + ": an earlier promotion of it was interrupted",
                       "recovery finishes it: run `safeinstall runs` (or any safeinstall command "
                       "on the project)");
  }
  return plain_error("promote run " + run.id + ": it was promoted already");
}

Result<void> check_no_conflicts(const RunDir& run, const PromotionOptions& options) {
  if (options.conflicts == nullptr || options.conflicts->clean()) return {};
  return plain_error("promote run " + run.id + ": " + options.conflicts->message(),
                     "nothing was promoted and the run is kept; look at those paths, then "
                     "`safeinstall promote " +
                         run.id + "` again or discard the run");
}

// Before anything is touched: the run may be promoted, the project and the staged tree
// open, the project unchanged under the run, and rename-based or copy-based decided.
Result<PromotionPlaces> get_ready(const RunDir& run, const std::string& project,
                                  const PromotionOptions& options) {
  if (auto fresh = check_not_promoted(run); !fresh) return propagate(fresh);
  auto places = open_places(run, project);
  if (!places) return propagate(places);
  if (auto unchanged = check_no_conflicts(run, options); !unchanged) return propagate(unchanged);
  if (auto decided = decide_copy_mode(*places, options.force_copy); !decided)
    return propagate(decided);
  return places;
}

std::vector<EntryPlan*> entries_to_promote(std::vector<EntryPlan>& plans) {
  std::vector<EntryPlan*> work;
  for (auto& p : plans) {
    if (p.kind != PlanKind::skip) work.push_back(&p);
  }
  return work;
}

}  // namespace

Result<PromotionResult> promote(const RunDir& run, const std::string& project,
                                const ChangeList& changes, const PromotionOptions& options) {
  if (project.empty() || project.front() != '/') {
    return plain_error("promote run " + run.id + ": project path '" + project +
                       "' is not absolute");
  }
  auto places = get_ready(run, project, options);
  if (!places) return propagate(places);
  PromotionResult result;
  result.copy_based = places->copy_mode;
  result.copy_reason = places->copy_reason;
  auto plans = plan_entries(*places, changes, options, result);
  if (!plans) return propagate(plans);
  std::vector<EntryPlan*> work = entries_to_promote(plans->entries);
  if (work.empty()) return result;

  auto prepare_start = Clock::now();
  PromotionJournal journal = new_journal(*places, work.size());
  if (auto prepared = prepare_all(*places, changes, options, work, journal, result); !prepared) {
    discard_preparation(*places, journal);
    return propagate(prepared);
  }
  result.prepare_time = since(prepare_start);

  auto commit_start = Clock::now();
  if (auto committed = commit(*places, work, options, journal, result); !committed)
    return propagate(committed);
  strip_promoted_xattrs(*places, work);
  restore_kept_times(*places, plans->kept);
  result.commit_time = since(commit_start);

  // Copy-based scratch lies inside the project: it goes now.
  result.cleanup_deferred = options.defer_cleanup && !places->copy_mode;
  if (!result.cleanup_deferred) {
    auto cleanup_start = Clock::now();
    auto cleaned = options.leave_spent_trees && !places->copy_mode
                       ? finish_leaving_spent_trees(run, journal)
                       : finish_cleanup(run, journal);
    if (!cleaned) return propagate(cleaned);
    result.cleanup_time = since(cleanup_start);
  }
  return result;
}

}  // namespace safeinstall::runner
