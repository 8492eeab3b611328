#pragma once
// The promotion journal: journal.json in the run dir, written whole (temporary file, fsync,
// rename) at each state change, so that after a crash at any instant it says what was
// planned and recovery can tell, per step, whether it happened (by inode numbers: the
// entry now at the project path is either the recorded old one or the recorded new one).
//
// States:
//   preparing   new versions are being built; the project may only hold scratch entries
//               (copy-based promotion). Recovery rolls back: scratch removed.
//   committing  every new version is ready; renames into the project are under way.
//               Recovery rolls forward: the steps not yet done are done.
//   committed   the project is fully new; old trees wait in trash.
//   done        trash removed.
//   rolled_back an interrupted preparation was undone; the run can be promoted again.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/base/error.h"

namespace safeinstall::runner {

enum class JournalState { preparing, committing, committed, done, rolled_back };
std::string_view to_string(JournalState state);

// Preparing or committing: the project may be part old, part new, or hold scratch entries.
bool is_unfinished(JournalState state);

enum class StepAction {
  exchange,  // renameat2(RENAME_EXCHANGE) of source and project/name, then source → trash
  create,    // renameat2(RENAME_NOREPLACE) of source to project/name
  remove,    // rename project/name → trash
};
std::string_view to_string(StepAction action);

struct JournalStep {
  std::string name;  // top-level entry of the project
  StepAction action = StepAction::exchange;
  std::string source;         // absolute path of the new version (exchange, create)
  std::string trash;          // absolute path the old entry is moved to (exchange, remove)
  std::uint64_t dev = 0;      // the project's filesystem
  std::uint64_t new_ino = 0;  // inode of the new version (exchange, create)
  std::uint64_t old_ino = 0;  // inode of the real entry replaced (exchange, remove)
};

struct PromotionJournal {
  std::string run_id;
  std::string project;
  JournalState state = JournalState::preparing;
  bool copy_based = false;
  std::vector<JournalStep> steps;
  std::vector<std::string> scratch;  // absolute paths removed at clean-up or roll-back
};

// nullopt when the file does not exist.
Result<std::optional<PromotionJournal>> load_journal(const std::string& file);
// `durable`: fsync file and directory (the commit point must survive a power cut; later
// states need not, as recovery re-derives them from the inodes).
Result<void> save_journal(const std::string& file, const PromotionJournal& journal, bool durable);

}  // namespace safeinstall::runner
