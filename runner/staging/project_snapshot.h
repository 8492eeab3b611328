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
// The walk may run beside the command (the project is locked against other runs, and the
// run itself writes only to its staging dir): it is given the moment the run began, read
// off the project's own filesystem (began_by_filesystem), and every entry whose ctime is not
// before that moment is marked `changed_at_start`. Any write, rename, chmod or chown sets an
// entry's ctime from that filesystem's clock, and creating or removing a name sets its
// directory's; so an entry that changed while the walk went on is marked, and so is the
// directory of one removed before the walk reached it. Paths at or below a marked entry are
// conflicts whenever a staged change touches them: the snapshot cannot say what they were
// when the run began.

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
  std::string project_;
  std::vector<SnapshotEntry> entries_;  // sorted by path
  bool truncated_ = false;
};

// The moment a run begins by the project's own filesystem (its clock and granularity, which
// no later ctime there is before): the ctime, in nanoseconds, of `fresh`, an entry just made
// on it, advanced to the filesystem clock's next tick (waited for, up to 50 ms) so that what
// changed in the tick `fresh` was made in counts as before. Nullopt when `fresh` lies on
// another filesystem, or the filesystem keeps whole seconds only (a change in the second
// before the run would count as after it): the snapshot is then taken before the command.
std::optional<std::int64_t> began_by_filesystem(const std::string& project,
                                                const std::string& fresh);

// Records `project` (absolute, canonical). Other filesystems mounted inside it are recorded
// as entries but not entered. Entries whose ctime is at or after `began` (began_by_filesystem
// when the run began) are marked changed_at_start; the default marks none.
Result<ProjectSnapshot> take_snapshot(const std::string& project, const SnapshotLimits& limits = {},
                                      std::int64_t began = INT64_MAX);

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
