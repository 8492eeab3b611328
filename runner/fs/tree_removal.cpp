// remove_tree_at / remove_tree (declared in fs_tree.h): removal of any tree a sandbox can
// make, however deep, in linear time and with a bounded number of open directories.
//
// A staged tree is the command's work, so it may be 20,000 directories deep: deeper than
// PATH_MAX allows to name, and deeper than one fd (or one stack frame) per level allows to
// walk. The walk keeps at most kMaxOpenDirectories directories open, one per level below the
// tree's top; a directory found at the last level is renamed up to the top of the tree under
// a fresh name and removed from there later, so the walk never goes deeper. Each directory
// is renamed at most once per kMaxOpenDirectories levels it had above it, and every entry is
// read and removed once: the work is linear in the size of the tree.
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "runner/fs/fs_tree.h"

namespace safeinstall::runner {
namespace {

using sandbox::UniqueFd;

// Levels open at once; deeper directories are moved up instead (see above).
constexpr std::size_t kMaxOpenDirectories = 32;

// One open level of the walk: the directory being emptied and its name in the level above.
struct Level {
  DirStream dir;
  std::string name;
  std::string shown;
  int fd() const { return ::dirfd(dir.get()); }
};

// The owner may remove a tree it made unreadable or read-only; root needs no help. A
// directory that is to be renamed needs its own write bit too (its ".." entry changes).
void make_accessible(int dirfd, const std::string& name, const struct stat& st) {
  if (::geteuid() != 0 && (st.st_mode & 0700) != 0700)
    ::fchmodat(dirfd, name.c_str(), (st.st_mode & 07777) | 0700, 0);
}

Result<void> unlink_entry(int dirfd, const std::string& name, const std::string& shown) {
  if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT)
    return sys_error("remove " + shown);
  return {};
}

class TreeRemover {
 public:
  TreeRemover(int top_parent, std::string shown)
      : top_parent_(top_parent), shown_(std::move(shown)) {
    levels_.reserve(kMaxOpenDirectories);
  }

  Result<void> remove(const std::string& name) {
    auto st = stat_entry(top_parent_, name, shown_);
    if (!st) return propagate(st);
    if (!*st) return {};
    if (!S_ISDIR((*st)->st_mode)) return unlink_entry(top_parent_, name, shown_);
    make_accessible(top_parent_, name, **st);
    if (auto entered = enter(top_parent_, name, shown_); !entered) return entered;
    while (!levels_.empty()) {
      if (auto stepped = step(); !stepped) return stepped;
    }
    return {};
  }

 private:
  // A directory that is gone by the time it is opened was removed by another remover of the
  // same tree (the detached one and `gc` may empty one trash at once): nothing is left to do.
  Result<void> enter(int parent, const std::string& name, const std::string& shown) {
    auto dir = open_directory_stream(parent, name, shown);
    if (!dir && dir.error().err == ENOENT) return {};
    if (!dir) return propagate(dir);
    levels_.push_back({std::move(*dir), name, shown});
    return {};
  }

  int parent_fd() const {
    return levels_.size() > 1 ? levels_[levels_.size() - 2].fd() : top_parent_;
  }

  // Reads one entry of the deepest open level and removes it (or descends into it); at the
  // end of the listing, removes the level itself.
  Result<void> step() {
    Level& level = levels_.back();
    errno = 0;
    const struct dirent* entry = ::readdir(level.dir.get());
    if (entry == nullptr) {
      if (errno != 0) return sys_error("list directory " + level.shown);
      return leave();
    }
    std::string name = entry->d_name;
    if (name == "." || name == "..") return {};
    unsigned char type = entry->d_type;
    std::string shown = join_path(level.shown, name);
    // Most entries are files: try the unlink first when readdir says it is not a directory.
    if (type != DT_DIR && type != DT_UNKNOWN) {
      if (::unlinkat(level.fd(), name.c_str(), 0) == 0 || errno == ENOENT) return {};
      if (errno != EISDIR) return sys_error("remove " + shown);
    }
    auto st = stat_entry(level.fd(), name, shown);
    if (!st) return propagate(st);
    if (!*st) return {};
    if (!S_ISDIR((*st)->st_mode)) return unlink_entry(level.fd(), name, shown);
    make_accessible(level.fd(), name, **st);
    if (levels_.size() < kMaxOpenDirectories) return enter(level.fd(), name, shown);
    return move_to_top(level, name, shown);
  }

  // The listing is done: remove the directory. An entry moved up into it while it was being
  // read may not have been listed; then it is not empty yet, and is read again.
  Result<void> leave() {
    Level& level = levels_.back();
    if (::unlinkat(parent_fd(), level.name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) {
      levels_.pop_back();
      return {};
    }
    if (errno != ENOTEMPTY && errno != EEXIST) return sys_error("remove directory " + level.shown);
    ::rewinddir(level.dir.get());
    return {};
  }

  // A directory at the deepest open level goes to the top of the tree, where the walk finds
  // it again with all its levels to spare.
  Result<void> move_to_top(const Level& level, const std::string& name, const std::string& shown) {
    const Level& top = levels_.front();
    for (;;) {
      std::string fresh = ".removing-" + std::to_string(++moved_);
      if (::renameat2(level.fd(), name.c_str(), top.fd(), fresh.c_str(), RENAME_NOREPLACE) == 0)
        return {};
      if (errno == ENOENT) return {};
      if (errno != EEXIST)
        return sys_error("move " + shown + " up to " + top.shown + " to remove it");
    }
  }

  int top_parent_;
  std::string shown_;
  std::vector<Level> levels_;
  std::uint64_t moved_ = 0;
};

}  // namespace

Result<void> remove_tree_at(int dirfd, const std::string& name, const std::string& shown) {
  return TreeRemover(dirfd, shown).remove(name);
}

Result<void> remove_tree(const std::string& path) {
  auto entry = open_parent_of(path, "remove");
  if (!entry) return propagate(entry);
  if (!*entry) return {};
  return remove_tree_at((*entry)->dir.get(), (*entry)->name, path);
}

Result<std::optional<EntryInParent>> open_parent_of(const std::string& path,
                                                    std::string_view step) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos || slash + 1 == path.size()) {
    return plain_error(std::string(step) + " " + path + ": expected an absolute path to an entry");
  }
  std::string parent = slash == 0 ? "/" : path.substr(0, slash);
  UniqueFd parent_fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent_fd) {
    if (errno == ENOENT) return std::optional<EntryInParent>{};
    return sys_error("open directory " + parent);
  }
  return std::optional<EntryInParent>(EntryInParent{std::move(parent_fd), path.substr(slash + 1)});
}

}  // namespace safeinstall::runner
