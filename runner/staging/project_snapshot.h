#pragma once
// The real project's state when a run began, so promotion can refuse to overwrite what the
// user changed meanwhile ("conflicts").
//
// A snapshot is metadata only: fstatat (never following symlinks) and readlinkat per entry,
// no file is read. An entry's type, inode, size, mode, mtime and ctime change with any write,
// rename over, chmod or chown, so equality of all of them says "untouched" without hashing.
// It is bounded (max_entries): a directory whose entries were all recorded is `listed`, so
// absence beneath it is meaningful; beyond the bound, paths are reported as unverified
// rather than guessed.
//
// A run whose start can be read off the project's own filesystem (began_by_filesystem) does
// not walk the project at all: after the command it records only the paths its change list
// touches (snapshot_touched), and every entry whose ctime is not before that start is marked
// `changed_at_start`. Any write, rename, link, chmod or chown sets an entry's ctime from that
// filesystem's clock, and creating or removing a name sets its directory's; so an entry
// changed since the run began is marked, and so is the directory of one created or removed.
// Paths at or below a marked entry, and paths below a marked directory on the way, are
// conflicts whenever a staged change touches them: the snapshot cannot say what they were
// when the run began. Where the start cannot be told, the whole project is walked before the
// command (take_snapshot) and nothing is marked.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runner/staging/change_list.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

struct SnapshotEntry {
  std::string path;  // relative to the project; "" for the project directory itself
  EntryType type = EntryType::file;
  mode_t mode = 0;
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  std::uint64_t nlink = 0;  // 0 in snapshots of the first version
  std::string symlink_target;
  bool listed = false;  // directories: every child is in the snapshot
  // Its ctime is not before the run began: changed since (see above), state unknown.
  bool changed_at_start = false;

  // Same entry, unchanged in content and metadata. A ctime moved while links to the entry
  // were only removed (and nothing else changed) counts as unchanged: an earlier run's old
  // tree, removed in the background, shares the inodes of every package it kept.
  bool same_state(const SnapshotEntry& other) const;
};

struct SnapshotLimits {
  std::size_t max_entries = 1'000'000;
  int max_depth = 256;
};

class ProjectSnapshot {
 public:
  const std::string& project() const { return project_; }
  std::size_t size() const { return entries_.size(); }
  bool truncated() const { return truncated_; }

  const SnapshotEntry* find(std::string_view path) const;
  // The recorded entries strictly below `dir` (a contiguous range of the sorted entries).
  std::span<const SnapshotEntry> below(std::string_view dir) const;
  // Whether the snapshot knows `path` was absent: its parent was fully listed, and not
  // changed since the run began.
  bool known_absent(std::string_view path) const;
  // Whether the nearest entry the snapshot holds at or above `path` changed since the run
  // began: what `path` was then is unknown.
  bool changed_at_start(std::string_view path) const;

  const std::vector<SnapshotEntry>& entries() const { return entries_; }

 private:
  friend Result<ProjectSnapshot> take_snapshot(const std::string&, const SnapshotLimits&,
                                               std::int64_t);
  friend Result<ProjectSnapshot> load_snapshot(const std::string&);
  friend Result<ProjectSnapshot> snapshot_touched(const std::string&, const ChangeList&,
                                                  std::int64_t, const SnapshotLimits&);
  std::string project_;
  std::vector<SnapshotEntry> entries_;  // sorted by path
  bool truncated_ = false;
};

// The moment a run begins by the project's own filesystem (its clock and granularity, which
// no later ctime there is before): the ctime, in nanoseconds, of `fresh`, an entry just made
// on it, advanced to the filesystem clock's next tick (waited for, up to 50 ms) so that what
// changed in the tick `fresh` was made in counts as before. Nullopt when `fresh` lies on
// another filesystem, or the filesystem keeps whole seconds only (a change in the second
// before the run would count as after it): the whole project is then walked before the command.
std::optional<std::int64_t> began_by_filesystem(const std::string& project,
                                                const std::string& fresh);

// Records `project` (absolute, canonical). Other filesystems mounted inside it are recorded
// as entries but not entered. Entries whose ctime is at or after `began` (began_by_filesystem
// when the run began) are marked changed_at_start; the default marks none.
Result<ProjectSnapshot> take_snapshot(const std::string& project, const SnapshotLimits& limits = {},
                                      std::int64_t began = INT64_MAX);

// The project at the paths `changes` touch only, recorded after the command: each changed
// path and the directories on the way to it; the whole real subtree of a change that replaces
// a directory's contents (deleted, opaque, replaced by a file). What the run did not touch is
// not read, so the cost follows the change list, not the project. Entries whose ctime is at
// or after `began` are marked changed_at_start, as take_snapshot marks them; recorded
// directories count as listed (a touched path absent from the snapshot was absent when it was
// taken, and, its directory unmarked, when the run began). find_conflicts then holds what
// changed since the run began: a touched entry changed or replaced, a name created or
// removed in a directory the run writes into or on the way to one.
Result<ProjectSnapshot> snapshot_touched(const std::string& project, const ChangeList& changes,
                                         std::int64_t began, const SnapshotLimits& limits = {});

// A compact binary file in the run dir, for runs promoted later (`safeinstall promote ID`).
Result<void> save_snapshot(const ProjectSnapshot& snapshot, const std::string& file);
Result<ProjectSnapshot> load_snapshot(const std::string& file);

struct Conflict {
  std::string path;
  std::string what;  // "modified", "created", "deleted", "replaced by a different entry"
};

struct ConflictCheck {
  std::vector<Conflict> conflicts;
  std::vector<std::string> unverified;  // beyond the snapshot's bound: could not be checked

  bool clean() const { return conflicts.empty(); }
  // "the project changed since the run began: src/a.js (modified), ... "; empty when clean.
  std::string message() const;
};

// For every staged change, its real counterpart now must be what the snapshot recorded: the
// path itself; its parent directories (same inode, still directories); and, when the change
// replaces a real directory's contents (deleted, opaque, replaced by a file), the whole real
// subtree: nothing modified, added or removed in it.
Result<ConflictCheck> find_conflicts(const ProjectSnapshot& snapshot, const ChangeList& changes);

}  // namespace safeinstall::runner
