#include "runner/promotion/commit.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstdio>
#include <optional>
#include <string>

#include "runner/fs/fs_tree.h"
#include "runner/promotion/background_cleanup.h"

namespace safeinstall::runner {
namespace {

using sandbox::UniqueFd;

// ---------------------------------------------------------------------------------------
// Renames by absolute path, each through the parent directory's fd.

struct ParentAndLeaf {
  UniqueFd parent;
  std::string leaf;
};

Result<ParentAndLeaf> open_parent(const std::string& absolute) {
  auto slash = absolute.find_last_of('/');
  if (slash == std::string::npos || slash + 1 == absolute.size()) {
    return plain_error("promotion: '" + absolute + "' is not an absolute path to an entry");
  }
  auto parent = open_directory(slash == 0 ? "/" : absolute.substr(0, slash));
  if (!parent) return propagate(parent);
  return ParentAndLeaf{std::move(*parent), absolute.substr(slash + 1)};
}

Result<std::optional<struct stat>> stat_path(const std::string& absolute) {
  auto at = open_parent(absolute);
  if (!at) {
    if (at.error().err == ENOENT) return std::optional<struct stat>{};
    return propagate(at);
  }
  return stat_entry(at->parent.get(), at->leaf, absolute);
}

Result<void> rename_paths(const std::string& from, const std::string& to, unsigned flags,
                          const std::string& step) {
  auto src = open_parent(from);
  if (!src) return propagate(src);
  auto dst = open_parent(to);
  if (!dst) return propagate(dst);
  if (::renameat2(src->parent.get(), src->leaf.c_str(), dst->parent.get(), dst->leaf.c_str(),
                  flags) != 0) {
    return sys_error(step + ": rename " + from + " to " + to,
                     errno == EXDEV
                         ? "the run's staging dir and the project are on different mounts"
                         : std::string());
  }
  return {};
}

bool same_inode(const std::optional<struct stat>& st, std::uint64_t dev, std::uint64_t ino) {
  return st && st->st_dev == dev && st->st_ino == ino;
}

// One step of the journal, done idempotently: whatever part of it already happened (before
// a crash) is recognised by inode and not repeated. True when the entry is new now; false
// (with a note) when it was found changed by someone else and left alone.
Result<bool> advance_step(const PromotionJournal& journal, const JournalStep& step,
                          std::vector<std::string>& notes) {
  std::string target = journal.project + "/" + step.name;
  auto current = stat_path(target);
  if (!current) return propagate(current);
  auto changed_meanwhile = [&] {
    notes.push_back(step.name + " changed in the project while being promoted; left as it is");
    return false;
  };
  switch (step.action) {
    case StepAction::exchange: {
      if (!same_inode(*current, step.dev, step.new_ino)) {
        auto source = stat_path(step.source);
        if (!source) return propagate(source);
        if (!same_inode(*current, step.dev, step.old_ino) ||
            !same_inode(*source, step.dev, step.new_ino)) {
          return changed_meanwhile();
        }
        if (auto swapped =
                rename_paths(step.source, target, RENAME_EXCHANGE, "swap in new " + step.name);
            !swapped) {
          return propagate(swapped);
        }
      }
      // The old entry is now at the source path; off to trash (unless that happened too).
      auto old_entry = stat_path(step.source);
      if (!old_entry) return propagate(old_entry);
      if (same_inode(*old_entry, step.dev, step.old_ino)) {
        auto moved = rename_paths(step.source, step.trash, RENAME_NOREPLACE,
                                  "move old " + step.name + " to trash");
        if (!moved) return propagate(moved);
      }
      return true;
    }
    case StepAction::create: {
      if (same_inode(*current, step.dev, step.new_ino)) return true;
      auto source = stat_path(step.source);
      if (!source) return propagate(source);
      if (*current || !same_inode(*source, step.dev, step.new_ino)) return changed_meanwhile();
      auto moved = rename_paths(step.source, target, RENAME_NOREPLACE,
                                "move new " + step.name + " into the project");
      if (!moved) return propagate(moved);
      return true;
    }
    case StepAction::remove: {
      if (same_inode(*current, step.dev, step.old_ino)) {
        auto moved = rename_paths(target, step.trash, RENAME_NOREPLACE,
                                  "move deleted " + step.name + " to trash");
        if (!moved) return propagate(moved);
      }
      return true;
    }
  }
  return false;
}

JournalStep step_for(const PromotionPlaces& places, const EntryPlan& plan, std::size_t index) {
  JournalStep step;
  step.name = plan.name;
  step.dev = places.project_dev;
  step.trash = places.trash_path(index);
  if (plan.real) step.old_ino = plan.real->st_ino;
  if (plan.kind == PlanKind::remove) {
    step.action = StepAction::remove;
    return step;
  }
  step.action = plan.real ? StepAction::exchange : StepAction::create;
  step.source = plan.source;
  step.new_ino = plan.new_ino;
  return step;
}

}  // namespace

Result<void> commit(const PromotionPlaces& places, const std::vector<EntryPlan*>& work,
                    const PromotionOptions& options, PromotionJournal& journal,
                    PromotionResult& result) {
  const RunDir& run = places.run;
  for (std::size_t i = 0; i < work.size(); ++i)
    journal.steps.push_back(step_for(places, *work[i], i));
  journal.state = JournalState::committing;
  // The commit point: from here on recovery rolls forward.
  if (auto saved = save_journal(run.journal_file(), journal, /*durable=*/true); !saved)
    return saved;
  std::vector<std::string> notes;
  for (const auto& step : journal.steps) {
    auto advanced = advance_step(journal, step, notes);
    if (!advanced) {
      auto error = advanced.error();
      error.step = "promote run " + run.id + ", entry " + step.name + ": " + error.step;
      error.hint =
          "the promotion stopped part-way; every entry is wholly old or new, and the "
          "next safeinstall command on this project finishes it";
      return std::unexpected(error);
    }
    if (*advanced) result.promoted.push_back(step.name);
    if (options.after_step) options.after_step(step.name);
  }
  for (auto& note : notes) result.notes.push_back(std::move(note));
  // With clean-up following at once, "committed" is skipped: a crash before "done" leaves
  // "committing", whose recovery finds every step done by inode and cleans up all the same.
  if (!options.defer_cleanup) return {};
  journal.state = JournalState::committed;
  return save_journal(run.journal_file(), journal, /*durable=*/false);
}

// After the commit the staged data is spent: what was promoted now lives in the project
// (and staged files linked into it must not keep a second name in the run dir), and what
// was skipped cannot be promoted later. Old trees, scratch, upper and work go.
Result<void> finish_cleanup(const RunDir& run, PromotionJournal& journal) {
  if (auto removed = remove_scratch(journal); !removed) return removed;
  for (const auto& dir : {run.upper(), run.work()}) {
    if (auto removed = remove_tree(dir); !removed) return removed;
  }
  journal.state = JournalState::done;
  return save_journal(run.journal_file(), journal, /*durable=*/false);
}

Result<void> finish_leaving_spent_trees(const RunDir& run, PromotionJournal& journal) {
  // The caller holds the project's lock already; a second flock on it would wait for itself.
  auto held = [] { return Result<ProjectLock>(ProjectLock()); };
  if (auto removed = remove_shared_links(run, held); !removed) return propagate(removed);
  journal.state = JournalState::done;
  return save_journal(run.journal_file(), journal, /*durable=*/false);
}

std::string_view to_string(RecoveryOutcome outcome) {
  switch (outcome) {
    case RecoveryOutcome::nothing_to_do:
      return "nothing to do";
    case RecoveryOutcome::rolled_back:
      return "rolled back";
    case RecoveryOutcome::rolled_forward:
      return "rolled forward";
    case RecoveryOutcome::cleaned_up:
      return "cleaned up";
  }
  return "?";
}

Result<RecoveryResult> recover(const RunDir& run) {
  auto loaded = load_journal(run.journal_file());
  if (!loaded) return propagate(loaded);
  RecoveryResult result;
  if (!*loaded) return result;
  PromotionJournal& journal = **loaded;
  switch (journal.state) {
    case JournalState::done:
    case JournalState::rolled_back:
      return result;
    case JournalState::preparing: {
      if (auto removed = remove_scratch(journal); !removed) return propagate(removed);
      journal.state = JournalState::rolled_back;
      if (auto saved = save_journal(run.journal_file(), journal, false); !saved)
        return propagate(saved);
      result.outcome = RecoveryOutcome::rolled_back;
      return result;
    }
    case JournalState::committing: {
      for (const auto& step : journal.steps) {
        if (auto advanced = advance_step(journal, step, result.notes); !advanced) {
          return propagate(advanced);
        }
      }
      journal.state = JournalState::committed;
      if (auto saved = save_journal(run.journal_file(), journal, false); !saved)
        return propagate(saved);
      result.outcome = RecoveryOutcome::rolled_forward;
      break;
    }
    case JournalState::committed:
      result.outcome = RecoveryOutcome::cleaned_up;
      break;
  }
  if (auto cleaned = finish_cleanup(run, journal); !cleaned) return propagate(cleaned);
  return result;
}

Result<bool> has_unfinished_promotion(const RunDir& run) {
  auto journal = load_journal(run.journal_file());
  if (!journal) return propagate(journal);
  return *journal && is_unfinished((*journal)->state);
}

Result<void> remove_trash(const RunDir& run) {
  auto recovered = recover(run);
  if (!recovered) return propagate(recovered);
  return {};
}

}  // namespace safeinstall::runner
