// Start-up: promotions a crash interrupted, found in the run store and finished (or undone)
// before anything else touches their projects.

#include "runner/fs/fs_tree.h"
#include "runner/promotion/promotion.h"
#include "runner/store/promotion_journal.h"

namespace safeinstall::runner {

Result<std::vector<RecoveredRun>> recover_interrupted_promotions(const RunStore& store) {
  auto runs_fd = open_directory(store.runs_dir());
  if (!runs_fd) return propagate(runs_fd);
  auto names = list_directory(runs_fd->get(), store.runs_dir());
  if (!names) return propagate(names);
  std::vector<RecoveredRun> recovered;
  for (const auto& name : *names) {
    if (!valid_run_id(name)) continue;
    // The journal first: most runs have none, and every start would otherwise parse every
    // kept run's meta.json.
    auto journal = load_journal(RunDir::at(store.runs_dir() + "/" + name).journal_file());
    if (!journal || !*journal) continue;
    auto state = (*journal)->state;
    if (state == JournalState::done || state == JournalState::rolled_back) continue;
    auto stored = store.load_run(name);
    if (!stored) continue;
    auto cleaner = lock_run_dir(stored->dir);
    if (!cleaner) return propagate(cleaner);
    if (!*cleaner) continue;  // its old trees are being removed right now
    auto lock = store.try_lock_project(stored->meta.project);
    if (!lock) return propagate(lock);
    if (!*lock) continue;  // being promoted right now by another safeinstall
    auto result = recover(stored->dir);
    if (!result) return propagate(result);
    if (result->outcome == RecoveryOutcome::rolled_forward && !stored->meta.promoted) {
      stored->meta.promoted = true;
      stored->meta.verdict = "promoted";
      if (auto saved = store.save_meta(stored->dir, stored->meta); !saved) return propagate(saved);
    }
    recovered.push_back({name, stored->meta.project, std::move(*result)});
  }
  return recovered;
}

}  // namespace safeinstall::runner
