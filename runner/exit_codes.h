#pragma once
// safeinstall's exit codes. Stable: CI scripts depend on them (documented in README.md).

namespace safeinstall::runner::exit_code {

constexpr int kSuccess = 0;
// Held like kHeld, and at least one finding is of medium severity or above: the run did
// something an attack does (a direct connect, a persistence plant, a decoy credential read,
// a file that runs by itself later, a too-new or typosquatted package…). Nothing promoted.
constexpr int kSuspicious = 121;
// The command succeeded but its project changes need a human (unexpected or protected
// writes, refusals, or the project changed under the run): not promoted, the run is kept.
constexpr int kHeld = 122;
// A hard violation (special file, symlink escape, set-uid file): nothing promoted.
constexpr int kRejected = 123;
constexpr int kTimedOut = 124;           // --timeout expired; the sandbox was killed
constexpr int kSafeinstallFailed = 125;  // bad arguments, or the sandbox could not be built
constexpr int kNotExecutable = 126;
constexpr int kNotFound = 127;
constexpr int kSignalBase = 128;  // 128+N: the command was killed by signal N

}  // namespace safeinstall::runner::exit_code
