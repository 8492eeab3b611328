#include "runner/staging/project_snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstring>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "runner/fs/fs_tree.h"
#include "sandbox/base/path_text.h"

namespace safeinstall::runner {
namespace {

using sandbox::UniqueFd;

// Version 2 adds changed_at_start; version 1 files (written before the walk could run beside
// the command) are still read.
constexpr std::string_view kMagic = "SISNAP2\n";
constexpr std::string_view kMagicVersion1 = "SISNAP1\n";
constexpr std::size_t kMaxSnapshotFile = std::size_t{1} << 30;
constexpr std::size_t kConflictsShown = 10;

std::int64_t nanoseconds(const struct timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

Result<SnapshotEntry> entry_from(int dirfd, const std::string& name, std::string path,
                                 const struct stat& st, const std::string& shown,
                                 std::int64_t began = INT64_MAX) {
  SnapshotEntry e;
  e.path = std::move(path);
  e.type = entry_type_of(st.st_mode);
  e.mode = st.st_mode;
  e.dev = st.st_dev;
  e.ino = st.st_ino;
  e.size = static_cast<std::uint64_t>(st.st_size);
  e.mtime_ns = nanoseconds(st.st_mtim);
  e.ctime_ns = nanoseconds(st.st_ctim);
  e.nlink = st.st_nlink;
  e.changed_at_start = e.ctime_ns >= began;
  if (S_ISLNK(st.st_mode)) {
    std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
    ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
    if (n < 0) return sys_error("read symlink " + shown);
    target.resize(static_cast<std::size_t>(n));
    e.symlink_target = std::move(target);
  }
  return e;
}

// Depth-first, recording a directory's whole listing before entering any child, so a
// directory is either `listed` completely or not at all when the bound is reached.
class SnapshotWalker {
 public:
  SnapshotWalker(std::string project, const SnapshotLimits& limits, std::int64_t began)
      : project_(std::move(project)), limits_(limits), began_(began) {}

  Result<void> walk(int dirfd, std::size_t dir_index, const std::string& rel, int depth) {
    if (stopped_) return {};
    if (depth > limits_.max_depth) {
      stopped_ = true;  // too deep to record: the rest stays unverified
      return {};
    }
    auto names = list_directory(dirfd, shown(rel));
    if (!names) return propagate(names);
    std::vector<std::size_t> subdirectories;
    for (const auto& name : *names) {
      if (entries_.size() >= limits_.max_entries) {
        stopped_ = true;
        return {};
      }
      auto path = join_path(rel, name);
      struct stat st {};
      if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        // Removed while listing: absent is what the snapshot then says (and the directory's
        // ctime tells whether that was before the run began).
        if (errno == ENOENT) continue;
        return sys_error("stat " + shown(path));
      }
      auto entry = entry_from(dirfd, name, path, st, shown(path), began_);
      if (!entry) return propagate(entry);
      if (S_ISDIR(st.st_mode) && st.st_dev == root_dev_) subdirectories.push_back(entries_.size());
      entries_.push_back(std::move(*entry));
    }
    entries_[dir_index].listed = true;
    for (std::size_t index : subdirectories) {
      std::string path = entries_[index].path;
      auto sub = open_subdirectory(dirfd, leaf_of(path), shown(path));
      if (!sub) return propagate(sub);
      if (auto walked = walk(sub->get(), index, path, depth + 1); !walked) return walked;
      if (stopped_) return {};
    }
    return {};
  }

  // Records `path` and the directories on the way to it, each once; false when it (or a
  // directory on the way) is absent, so nothing below it exists either.
  Result<bool> record_with_ancestors(int project_fd, const std::string& path) {
    std::size_t slash = 0;
    while (true) {
      slash = path.find('/', slash + 1);
      std::string at = path.substr(0, slash);
      if (auto it = recorded_.find(at); it != recorded_.end()) {
        if (entries_[it->second].type != EntryType::dir && slash != std::string::npos)
          return false;  // a non-directory on the way: nothing lies below it
      } else {
        auto recorded = record_one(project_fd, at);
        if (!recorded) return propagate(recorded);
        if (!*recorded) return false;
      }
      if (slash == std::string::npos) return true;
    }
  }

  // The real subtree below `path` (recorded already, a directory), for a change that
  // replaces its contents: every entry in it is then compared.
  Result<void> record_subtree(int project_fd, const std::string& path) {
    auto fd = open_beneath(project_fd, path, O_RDONLY | O_DIRECTORY, shown(path));
    if (!fd) {
      int err = fd.error().err;
      if (err == ENOENT || err == ENOTDIR || err == ELOOP) return {};
      return propagate(fd);
    }
    entries_[recorded_.at(path)].listed = false;
    return walk(fd->get(), recorded_.at(path), path, 1);
  }

  void set_root(const struct stat& st) {
    root_dev_ = st.st_dev;
    SnapshotEntry root;
    root.type = EntryType::dir;
    root.mode = st.st_mode;
    root.dev = st.st_dev;
    root.ino = st.st_ino;
    root.mtime_ns = nanoseconds(st.st_mtim);
    root.ctime_ns = nanoseconds(st.st_ctim);
    root.changed_at_start = root.ctime_ns >= began_;
    root.listed = touched_only_;
    recorded_.emplace("", entries_.size());
    entries_.push_back(std::move(root));
  }

  // Directories recorded on the way to a touched path count as listed: in a snapshot of the
  // touched paths, what a directory holds beyond them is never asked about.
  void record_touched_only() { touched_only_ = true; }

  std::vector<SnapshotEntry> take() {
    std::sort(entries_.begin(), entries_.end(),
              [](const SnapshotEntry& a, const SnapshotEntry& b) { return a.path < b.path; });
    return std::move(entries_);
  }
  bool truncated() const { return stopped_; }

 private:
  std::string shown(const std::string& rel) const { return join_path(project_, rel); }

  Result<bool> record_one(int project_fd, const std::string& path) {
    if (entries_.size() >= limits_.max_entries) {
      stopped_ = true;
      return false;
    }
    auto parent = open_beneath(project_fd, parent_of(path), O_PATH | O_DIRECTORY, shown(path));
    if (!parent) {
      int err = parent.error().err;
      if (err == ENOENT || err == ENOTDIR || err == ELOOP) return false;
      return propagate(parent);
    }
    auto st = stat_entry(parent->get(), leaf_of(path), shown(path));
    if (!st) return propagate(st);
    if (!*st) return false;
    auto entry = entry_from(parent->get(), leaf_of(path), path, **st, shown(path), began_);
    if (!entry) return propagate(entry);
    entry->listed = entry->type == EntryType::dir;
    recorded_.emplace(path, entries_.size());
    entries_.push_back(std::move(*entry));
    return true;
  }

  std::string project_;
  SnapshotLimits limits_;
  std::int64_t began_;
  dev_t root_dev_ = 0;
  std::vector<SnapshotEntry> entries_;
  std::unordered_map<std::string, std::size_t> recorded_;  // record_with_ancestors' entries
  bool touched_only_ = false;
  bool stopped_ = false;
};

// The state of `path` in the project now; nullopt when it (or a directory on the way) is
// gone or no longer a directory.
Result<std::optional<SnapshotEntry>> current_state(int project_fd, const std::string& project,
                                                   const std::string& path) {
  auto parent =
      open_beneath(project_fd, parent_of(path), O_PATH | O_DIRECTORY, join_path(project, path));
  if (!parent) {
    int err = parent.error().err;
    if (err == ENOENT || err == ENOTDIR || err == ELOOP) return std::optional<SnapshotEntry>{};
    return propagate(parent);
  }
  std::string shown = join_path(project, path);
  auto st = stat_entry(parent->get(), leaf_of(path), shown);
  if (!st) return propagate(st);
  if (!*st) return std::optional<SnapshotEntry>{};
  auto entry = entry_from(parent->get(), leaf_of(path), path, **st, shown);
  if (!entry) return propagate(entry);
  return std::optional<SnapshotEntry>(std::move(*entry));
}

constexpr const char* kChangedAtStart = "changed as the run began";

std::string describe_difference(const SnapshotEntry& then, const SnapshotEntry& now) {
  if (then.changed_at_start) return kChangedAtStart;
  if (then.type != now.type || then.ino != now.ino || then.dev != now.dev)
    return "replaced by a different entry";
  if ((then.mode & 07777) != (now.mode & 07777)) return "permissions changed";
  return "modified";
}

// Accumulates conflicts once per path. The changes come sorted by path, so what lies below a
// directory comes together: the finder keeps the directories it is inside of (the ancestors
// of the change before, the subtrees checked whole that later paths can still fall in), not
// every directory it ever checked.
class ConflictFinder {
 public:
  ConflictFinder(const ProjectSnapshot& snapshot, int project_fd)
      : snapshot_(snapshot), project_fd_(project_fd) {}

  Result<void> check_change(const Change& change) {
    if (inside_checked_subtree(change.path)) return {};
    const std::string path = change.path.str();
    if (auto ancestors = check_ancestors(path); !ancestors) return ancestors;
    if (auto itself = check_path(path); !itself) return itself;
    if (change.replaces_real_subtree()) {
      if (auto subtree = check_subtree(path); !subtree) return subtree;
      checked_subtrees_.push_back(path);
    } else if (change.type == EntryType::dir && snapshot_.find(path) == nullptr &&
               snapshot_.known_absent(path)) {
      // A directory the run created where the project had nothing: check_path has just
      // said whether something appeared there since; nothing can be below it otherwise.
      checked_subtrees_.push_back(path);
    }
    return {};
  }

  ConflictCheck take() { return std::move(result_); }

 private:
  // Subtrees that no later path can fall in are let go first: in path order, "dir/…" comes
  // after "dir" and its siblings "dir.x" or "dir-x" ('.' and '-' sort before '/'), and
  // nothing after it is inside it again.
  bool inside_checked_subtree(std::string_view path) {
    while (!checked_subtrees_.empty()) {
      const std::string& dir = checked_subtrees_.back();
      if (is_within(path, dir) && path != dir) return true;
      bool may_come_later = path.starts_with(dir) && path.size() > dir.size() &&
                            static_cast<unsigned char>(path[dir.size()]) < '/';
      if (may_come_later || path <= std::string_view(dir)) return false;
      checked_subtrees_.pop_back();
    }
    return false;
  }

  void conflict(const std::string& path, std::string what) {
    if (reported_.insert(path).second) result_.conflicts.push_back({path, std::move(what)});
  }
  void unverified(const std::string& path) {
    if (reported_.insert(path).second) result_.unverified.push_back(path);
  }

  // A directory on the way that was replaced (say by a symlink) moves everything below it.
  // The ancestors shared with the change checked before were checked with it (a directory
  // met again after the list left it is checked once more; the result is the same).
  Result<void> check_ancestors(const std::string& path) {
    for (auto slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      std::string_view ancestor(path.data(), slash);
      bool checked_before = last_checked_.size() > slash && last_checked_[slash] == '/' &&
                            last_checked_.starts_with(ancestor);
      if (checked_before) continue;
      if (auto checked = check_ancestor(std::string(ancestor)); !checked) return checked;
    }
    last_checked_ = path;
    return {};
  }

  Result<void> check_ancestor(const std::string& ancestor) {
    const SnapshotEntry* then = snapshot_.find(ancestor);
    // Created by the run itself, beyond the bound, or removed as the run began (which
    // check_path sees: its parent is marked).
    if (then == nullptr) return {};
    // Moved there, or a name created or removed in it, after the run began: the snapshot
    // cannot say it is the directory the run wrote into.
    if (then->changed_at_start) {
      conflict(ancestor, kChangedAtStart);
      return {};
    }
    auto now = current_state(project_fd_, snapshot_.project(), ancestor);
    if (!now) return propagate(now);
    if (!*now) {
      conflict(ancestor, "deleted");
    } else if ((*now)->type != then->type || (*now)->ino != then->ino || (*now)->dev != then->dev) {
      conflict(ancestor, "replaced by a different entry");
    }
    return {};
  }

  Result<void> check_path(const std::string& path) {
    auto now = current_state(project_fd_, snapshot_.project(), path);
    if (!now) return propagate(now);
    compare(path, snapshot_.find(path), *now);
    return {};
  }

  void compare(const std::string& path, const SnapshotEntry* then,
               const std::optional<SnapshotEntry>& now) {
    if (then != nullptr) {
      if (then->changed_at_start) {
        conflict(path, kChangedAtStart);
      } else if (!now) {
        conflict(path, "deleted");
      } else if (!then->same_state(*now)) {
        conflict(path, describe_difference(*then, *now));
      }
      return;
    }
    if (snapshot_.changed_at_start(path)) {
      conflict(path, kChangedAtStart);
    } else if (!snapshot_.known_absent(path)) {
      unverified(path);
    } else if (now) {
      conflict(path, "created");
    }
  }

  // Every entry below a real directory the change replaces, then and now.
  Result<void> check_subtree(const std::string& dir) {
    std::unordered_set<std::string> present;
    auto walked = walk_current(dir, present, 0);
    if (!walked) return walked;
    for (const auto& then : snapshot_.below(dir)) {
      if (!present.contains(then.path)) conflict(then.path, "deleted");
    }
    return {};
  }

  Result<void> walk_current(const std::string& dir, std::unordered_set<std::string>& present,
                            int depth) {
    if (depth > 256) return {};
    std::string shown = join_path(snapshot_.project(), dir);
    auto fd = open_beneath(project_fd_, dir, O_RDONLY | O_DIRECTORY, shown);
    if (!fd) {
      int err = fd.error().err;
      if (err == ENOENT || err == ENOTDIR || err == ELOOP) return {};  // reported by check_path
      return propagate(fd);
    }
    auto names = list_directory(fd->get(), shown);
    if (!names) return propagate(names);
    for (const auto& name : *names) {
      std::string path = join_path(dir, name);
      auto st = stat_entry(fd->get(), name, join_path(shown, name));
      if (!st) return propagate(st);
      if (!*st) continue;
      auto now = entry_from(fd->get(), name, path, **st, join_path(shown, name));
      if (!now) return propagate(now);
      present.insert(path);
      compare(path, snapshot_.find(path), *now);
      if (S_ISDIR((*st)->st_mode)) {
        if (auto sub = walk_current(path, present, depth + 1); !sub) return sub;
      }
    }
    return {};
  }

  const ProjectSnapshot& snapshot_;
  int project_fd_;
  ConflictCheck result_;
  std::set<std::string> reported_;
  std::string last_checked_;                   // the path whose ancestors were checked last
  std::vector<std::string> checked_subtrees_;  // those later paths can still fall in
};

// Little binary writer/reader for the snapshot file (host byte order: the file never leaves
// the machine that wrote it).
class Writer {
 public:
  template <typename T>
  void put(T value) {
    char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    data_.append(bytes, sizeof(T));
  }
  void put(std::string_view text) {
    put(static_cast<std::uint32_t>(text.size()));
    data_.append(text);
  }
  std::string& data() { return data_; }

 private:
  std::string data_;
};

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  template <typename T>
  bool get(T& value) {
    if (data_.size() - offset_ < sizeof(T)) return false;
    std::memcpy(&value, data_.data() + offset_, sizeof(T));
    offset_ += sizeof(T);
    return true;
  }
  bool get(std::string& text) {
    std::uint32_t size = 0;
    if (!get(size) || data_.size() - offset_ < size) return false;
    text.assign(data_.substr(offset_, size));
    offset_ += size;
    return true;
  }
  bool expect(std::string_view magic) {
    if (!data_.substr(offset_).starts_with(magic)) return false;
    offset_ += magic.size();
    return true;
  }
  bool at_end() const { return offset_ == data_.size(); }

 private:
  std::string_view data_;
  std::size_t offset_ = 0;
};

}  // namespace

bool SnapshotEntry::same_state(const SnapshotEntry& other) const {
  if (changed_at_start || other.changed_at_start) return false;
  if (type != other.type || dev != other.dev || ino != other.ino ||
      (mode & 07777) != (other.mode & 07777)) {
    return false;
  }
  // A directory's own size and times change with its entries, which are compared one by one.
  if (type == EntryType::dir) return true;
  if (size != other.size || mtime_ns != other.mtime_ns || symlink_target != other.symlink_target)
    return false;
  return ctime_ns == other.ctime_ns || other.nlink < nlink;
}

const SnapshotEntry* ProjectSnapshot::find(std::string_view path) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), path,
                             [](const SnapshotEntry& e, std::string_view p) { return e.path < p; });
  return it != entries_.end() && it->path == path ? &*it : nullptr;
}

std::span<const SnapshotEntry> ProjectSnapshot::below(std::string_view dir) const {
  // Paths below "a" are exactly those in ["a/", "a0"): '0' follows '/' in ASCII.
  std::string first = std::string(dir) + "/";
  std::string last = std::string(dir) + "0";
  auto begin =
      std::lower_bound(entries_.begin(), entries_.end(), first,
                       [](const SnapshotEntry& e, const std::string& p) { return e.path < p; });
  auto end =
      std::lower_bound(begin, entries_.end(), last,
                       [](const SnapshotEntry& e, const std::string& p) { return e.path < p; });
  return {begin, end};
}

bool ProjectSnapshot::known_absent(std::string_view path) const {
  if (find(path) != nullptr) return false;
  const SnapshotEntry* parent = find(parent_of(path));
  return parent != nullptr && parent->type == EntryType::dir && parent->listed &&
         !parent->changed_at_start;
}

bool ProjectSnapshot::changed_at_start(std::string_view path) const {
  for (std::string at(path);; at = parent_of(at)) {
    if (const SnapshotEntry* entry = find(at); entry != nullptr) return entry->changed_at_start;
    if (at.empty()) return false;
  }
}

std::optional<std::int64_t> began_by_filesystem(const std::string& project,
                                                const std::string& fresh) {
  struct stat project_st {
  }, fresh_st{};
  if (::stat(project.c_str(), &project_st) != 0 || ::lstat(fresh.c_str(), &fresh_st) != 0 ||
      project_st.st_dev != fresh_st.st_dev || fresh_st.st_ctim.tv_nsec == 0) {
    return std::nullopt;
  }
  // Timestamps advance in clock ticks (a jiffy, 1-10 ms, where they are coarse): an entry
  // changed just before `fresh` was made, a report written into the project say, can carry
  // its very ctime and would read as changed after the run began. The moment is therefore
  // the next tick, waited for here, before the command starts: whatever changed up to now
  // lies before it.
  const std::int64_t made = nanoseconds(fresh_st.st_ctim);
  constexpr auto kPatience = std::chrono::milliseconds(50);
  auto give_up = std::chrono::steady_clock::now() + kPatience;
  while (std::chrono::steady_clock::now() < give_up) {
    if (::utimensat(AT_FDCWD, fresh.c_str(), nullptr, AT_SYMLINK_NOFOLLOW) != 0 ||
        ::lstat(fresh.c_str(), &fresh_st) != 0) {
      return std::nullopt;
    }
    if (nanoseconds(fresh_st.st_ctim) > made) return nanoseconds(fresh_st.st_ctim);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return std::nullopt;
}

namespace {

// The project's root, opened for a snapshot, and what it is.
Result<sandbox::UniqueFd> open_project_root(const std::string& project, struct stat& st) {
  if (project.empty() || project.front() != '/') {
    return plain_error("snapshot project: path '" + project + "' is not absolute");
  }
  auto fd = open_directory(project);
  if (!fd) return propagate(fd);
  if (::fstat(fd->get(), &st) != 0) return sys_error("stat " + project);
  return fd;
}

}  // namespace

Result<ProjectSnapshot> take_snapshot(const std::string& project, const SnapshotLimits& limits,
                                      std::int64_t began) {
  struct stat st {};
  auto fd = open_project_root(project, st);
  if (!fd) return propagate(fd);
  SnapshotWalker walker(project, limits, began);
  walker.set_root(st);
  if (auto walked = walker.walk(fd->get(), 0, "", 0); !walked) return propagate(walked);
  ProjectSnapshot snapshot;
  snapshot.project_ = project;
  snapshot.truncated_ = walker.truncated();
  snapshot.entries_ = walker.take();
  return snapshot;
}

namespace {

// A path at or below one of `covered` (whose whole subtree is recorded, or absent).
bool below_any(const std::set<std::string, std::less<>>& covered, std::string_view path) {
  if (covered.empty()) return false;
  for (std::size_t slash = path.find('/');; slash = path.find('/', slash + 1)) {
    if (covered.contains(path.substr(0, slash))) return true;
    if (slash == std::string_view::npos) return false;
  }
}

}  // namespace

Result<ProjectSnapshot> snapshot_touched(const std::string& project, const ChangeList& changes,
                                         std::int64_t began, const SnapshotLimits& limits) {
  struct stat st {};
  auto fd = open_project_root(project, st);
  if (!fd) return propagate(fd);
  SnapshotWalker walker(project, limits, began);
  walker.record_touched_only();
  walker.set_root(st);
  std::set<std::string, std::less<>> covered;
  for (const auto& change : changes.changes) {
    if (walker.truncated()) break;
    if (below_any(covered, change.path)) continue;
    const std::string path = change.path.str();
    auto present = walker.record_with_ancestors(fd->get(), path);
    if (!present) return propagate(present);
    if (!*present) {
      covered.insert(path);  // absent: so is everything below it
    } else if (change.replaces_real_subtree()) {
      if (auto walked = walker.record_subtree(fd->get(), path); !walked) return propagate(walked);
      covered.insert(path);
    }
  }
  ProjectSnapshot snapshot;
  snapshot.project_ = project;
  snapshot.truncated_ = walker.truncated();
  snapshot.entries_ = walker.take();
  return snapshot;
}

Result<void> save_snapshot(const ProjectSnapshot& snapshot, const std::string& file) {
  Writer w;
  w.data().append(kMagic);
  w.put(std::string_view(snapshot.project()));
  w.put(static_cast<std::uint8_t>(snapshot.truncated()));
  w.put(static_cast<std::uint64_t>(snapshot.size()));
  for (const auto& e : snapshot.entries()) {
    w.put(std::string_view(e.path));
    w.put(static_cast<std::uint8_t>(e.type));
    w.put(static_cast<std::uint32_t>(e.mode));
    w.put(e.dev);
    w.put(e.ino);
    w.put(e.size);
    w.put(e.mtime_ns);
    w.put(e.ctime_ns);
    w.put(std::string_view(e.symlink_target));
    w.put(static_cast<std::uint8_t>(e.listed));
    w.put(static_cast<std::uint8_t>(e.changed_at_start));
    w.put(e.nlink);
  }
  return write_file_atomically(file, w.data(), /*durable=*/false);
}

Result<ProjectSnapshot> load_snapshot(const std::string& file) {
  auto content = read_small_file(file, kMaxSnapshotFile);
  if (!content) return propagate(content);
  if (!*content) return plain_error("read project snapshot " + file + ": it does not exist");
  auto corrupt = [&] {
    return plain_error("read project snapshot " + file + ": the file is damaged");
  };
  Reader r(**content);
  ProjectSnapshot snapshot;
  std::uint8_t truncated = 0;
  std::uint64_t count = 0;
  bool version1 = r.expect(kMagicVersion1);
  if ((!version1 && !r.expect(kMagic)) || !r.get(snapshot.project_) || !r.get(truncated) ||
      !r.get(count))
    return corrupt();
  snapshot.truncated_ = truncated != 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    SnapshotEntry e;
    std::uint8_t type = 0, listed = 0, changed = 0;
    std::uint32_t mode = 0;
    if (!r.get(e.path) || !r.get(type) || !r.get(mode) || !r.get(e.dev) || !r.get(e.ino) ||
        !r.get(e.size) || !r.get(e.mtime_ns) || !r.get(e.ctime_ns) || !r.get(e.symlink_target) ||
        !r.get(listed) || (!version1 && (!r.get(changed) || !r.get(e.nlink))) ||
        type > static_cast<std::uint8_t>(EntryType::special)) {
      return corrupt();
    }
    e.type = static_cast<EntryType>(type);
    e.mode = mode;
    e.listed = listed != 0;
    e.changed_at_start = changed != 0;
    snapshot.entries_.push_back(std::move(e));
  }
  if (!r.at_end() ||
      !std::is_sorted(snapshot.entries_.begin(), snapshot.entries_.end(),
                      [](const auto& a, const auto& b) { return a.path < b.path; })) {
    return corrupt();
  }
  return snapshot;
}

std::string ConflictCheck::message() const {
  if (conflicts.empty()) return {};
  std::string text = "the project changed since the run began: ";
  for (std::size_t i = 0; i < conflicts.size() && i < kConflictsShown; ++i) {
    if (i > 0) text += ", ";
    text += conflicts[i].path + " (" + conflicts[i].what + ")";
  }
  if (conflicts.size() > kConflictsShown)
    text += " and " + std::to_string(conflicts.size() - kConflictsShown) + " more";
  return text;
}

Result<ConflictCheck> find_conflicts(const ProjectSnapshot& snapshot, const ChangeList& changes) {
  auto fd = open_directory(snapshot.project());
  if (!fd) return propagate(fd);
  ConflictFinder finder(snapshot, fd->get());
  for (const auto& change : changes.changes) {
    if (auto checked = finder.check_change(change); !checked) return propagate(checked);
  }
  return finder.take();
}

}  // namespace safeinstall::runner
