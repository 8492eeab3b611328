#pragma once
// The verdict on a run: what each project change is (expected, unexpected, protected) and
// what happens to the run (REPORT.md's promoted | held | rejected | failed | staged), with
// reasons a person can act on.
//
// Precedence, strongest first:
//   rejected  a hard violation: a special file, a symlink leaving the project, a set-uid or
//             set-gid file, overlay xattrs forged in a direct dir, a known-malicious package,
//             or a reject reason the caller found elsewhere. Never promoted.
//   failed    the command exited non-zero (unless promote_on_failure). Nothing promoted.
//   staged    --no-promote. Nothing promoted; the run is kept.
//   held      findings at medium severity or above (suspicious behaviour, auto-run points,
//             package policy: `suspicious`), unexpected or protected changes, refusals (egress,
//             syscalls, survivors) or other hold reasons: a human decides (`--yes`; protected paths
//             also need
//             `--allow-protected`).
//   promoted  every change expected and nothing refused: the caller promotes, and reports
//             `promoted` once promotion succeeded.
// Reasons for weaker findings are kept after the deciding one, so a failed run still says
// that it also wrote to .github.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "runner/finding.h"
#include "runner/staging/change_list.h"

namespace safeinstall::runner {

class GlobSet;

// Protected wins over expected; a deleted or replaced directory is protected when anything
// protected could have been below it, and expected only when a `dir/**` glob covers all of
// it; a symlink that points at a protected path (or at the project root) is protected.
Category category_of(const Change& change, const GlobSet& protected_set, const GlobSet& expected);
void categorize(ChangeList& changes, const GlobSet& protected_set, const GlobSet& expected);

enum class VerdictKind { promoted, held, rejected, failed, staged };
std::string_view to_string(VerdictKind kind);

// Everything besides the change list that bears on the verdict. Add fields freely; the
// defaults mean "nothing to report".
struct VerdictInputs {
  int exit_code = 0;                // the command's exit status (non-zero: failed)
  bool promote_on_failure = false;  // --promote-on-failure
  bool no_promote = false;          // --no-promote
  std::size_t refused_egress = 0;   // connections and DNS names the gateway refused
  std::size_t refused_syscalls = 0;
  std::size_t survivors = 0;                // processes still running when the command exited
  std::vector<std::string> hold_reasons;    // anything else that needs a human look
  std::vector<std::string> reject_reasons;  // hard violations found elsewhere
  // Behaviour, auto-run and package findings: any at kSuspiciousAt or above holds the run as
  // suspicious; a malicious package rejects it.
  std::vector<Finding> findings;
};

struct ChangeSummary {
  std::size_t expected = 0;
  std::size_t unexpected = 0;
  std::size_t protected_count = 0;
  std::size_t rejected = 0;  // changes that reject the run on their own
};

struct Verdict {
  VerdictKind kind = VerdictKind::promoted;
  std::vector<std::string> reasons;  // the deciding reason first
  // What a later promotion needs: `--yes` for unexpected changes and refusals, and
  // `--allow-protected` as well for protected changes (without it they are left out).
  bool needs_confirmation = false;
  bool touches_protected = false;
  // Held (at least) because of findings at kSuspiciousAt or above: exit_code::kSuspicious.
  bool suspicious = false;
  ChangeSummary summary;

  bool promotable() const { return kind != VerdictKind::rejected; }
};

// `changes` must have been categorized.
Verdict decide_verdict(const ChangeList& changes, const VerdictInputs& inputs);

// "fifo", "socket", "character device", "block device" for a special file's st_mode.
std::string_view special_file_kind(mode_t st_mode);

}  // namespace safeinstall::runner
