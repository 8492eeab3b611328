#include "runner/promotion/prepare.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <string>
#include <unordered_set>

#include "runner/fs/fs_tree.h"
#include "runner/staging/staged_xattrs.h"

namespace safeinstall::runner {
namespace {

using sandbox::UniqueFd;

constexpr int kMaxDepth = 512;

bool inside(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/';
}

bool running_as_root() {
  return ::geteuid() == 0;
}

Result<void> remove_overlay_xattrs(int fd, const std::vector<std::string>& names,
                                   const std::string& shown) {
  for (const auto& name : names) {
    if (::fremovexattr(fd, name.c_str()) != 0 && errno != ENODATA) {
      return sys_error("remove overlay xattr " + name + " from " + shown);
    }
  }
  return {};
}

Result<std::uint64_t> inode_of(int dirfd, const std::string& name, const std::string& shown) {
  auto st = stat_entry(dirfd, name, shown);
  if (!st) return propagate(st);
  if (!*st) return plain_error("prepare " + shown + ": it vanished");
  return static_cast<std::uint64_t>((*st)->st_ino);
}

// The directory the last change was applied in, kept open: changes come sorted, so most share
// it with the one before.
class ParentDirCache {
 public:
  Result<int> open(int root, std::string_view relative, const std::string& shown) {
    if (fd_ && root == root_ && relative == relative_) return fd_.get();
    fd_.reset();
    auto opened = open_beneath(root, relative, O_PATH | O_DIRECTORY, shown);
    if (!opened) return propagate(opened);
    fd_ = std::move(*opened);
    root_ = root;
    relative_ = relative;
    return fd_.get();
  }
  // After a removal the kept directory may be gone from the tree.
  void forget() { fd_.reset(); }

 private:
  UniqueFd fd_;
  int root_ = -1;
  std::string relative_;
};

class Preparer {
 public:
  Preparer(const PromotionPlaces& places, const ChangeList& changes,
           const PromotionOptions& options, PromotionResult& result)
      : places_(places), changes_(changes), options_(options), result_(result) {}

  Result<void> prepare_all(const std::vector<EntryPlan*>& work, PromotionJournal& journal) {
    if (places_.copy_mode) {
      // Scratch entries appear inside the project: the journal must know them first.
      journal.state = JournalState::preparing;
      if (auto saved = save_journal(places_.run.journal_file(), journal, true); !saved)
        return saved;
    } else {
      // Leftovers of an earlier attempt that stopped before its commit point.
      if (auto removed = remove_scratch(journal); !removed) return removed;
      for (const auto& dir : {places_.run.build(), places_.run.trash()}) {
        if (::mkdir(dir.c_str(), 0700) != 0) return sys_error("create " + dir);
      }
      auto build = open_directory(places_.run.build());
      if (!build) return propagate(build);
      build_fd_ = std::move(*build);
    }
    for (std::size_t i = 0; i < work.size(); ++i) {
      if (auto prepared = prepare(*work[i], i); !prepared) return prepared;
    }
    return {};
  }

 private:
  Result<void> prepare(EntryPlan& plan, std::size_t index) {
    switch (plan.kind) {
      case PlanKind::swap:
        return places_.copy_mode ? prepare_swap_copy(plan, index) : prepare_swap_in_place(plan);
      case PlanKind::build:
        return prepare_build(plan, index);
      case PlanKind::remove:
      case PlanKind::skip:
        return {};
    }
    return {};
  }

  // The staged entry itself is what moves: only flagged entries are touched.
  Result<void> prepare_swap_in_place(EntryPlan& plan) {
    for (const Change* c : plan.changes) {
      if (c->change == ChangeKind::deleted) continue;
      bool copy = c->type == EntryType::file && c->flags.hardlink;
      bool strip = promotable_mode(c->mode) != (c->mode & 07777) && c->type != EntryType::symlink;
      bool foreign = !c->foreign_xattrs().empty();
      if (!copy && !strip && !foreign) continue;
      auto parent = open_beneath(places_.upper_fd.get(), parent_of(c->path), O_PATH | O_DIRECTORY,
                                 "staged " + c->path);
      if (!parent) return propagate(parent);
      std::string leaf = leaf_of(c->path);
      if (copy) {  // a copy carries no xattrs
        if (auto copied = replace_with_copy(parent->get(), leaf, *c); !copied) return copied;
      } else if (foreign) {
        if (auto stripped = strip_xattrs_at(parent->get(), leaf, c->foreign_xattrs(),
                                            promotable_mode(c->mode), "staged " + c->path);
            !stripped)
          return stripped;
        ++result_.xattrs_stripped;
      } else if (::fchmodat(parent->get(), leaf.c_str(), promotable_mode(c->mode), 0) != 0) {
        return sys_error("clamp the permissions of staged " + c->path);
      }
      if (strip) ++result_.modes_clamped;
    }
    for (const auto& whiteout : changes_.stray_whiteouts) {
      if (whiteout != plan.name && !inside(whiteout, plan.name)) continue;
      auto parent = open_beneath(places_.upper_fd.get(), parent_of(whiteout), O_PATH | O_DIRECTORY,
                                 "staged " + whiteout);
      if (!parent) return propagate(parent);
      if (::unlinkat(parent->get(), leaf_of(whiteout).c_str(), 0) != 0 && errno != ENOENT) {
        return sys_error("remove whiteout staged " + whiteout);
      }
    }
    plan.source = places_.run.upper() + "/" + plan.name;
    auto ino = inode_of(places_.upper_fd.get(), plan.name, plan.source);
    if (!ino) return propagate(ino);
    plan.new_ino = *ino;
    return {};
  }

  // A hard-linked staged file becomes a file of its own, in place.
  Result<void> replace_with_copy(int parent, const std::string& leaf, const Change& c) {
    std::string temporary = leaf + ".safeinstall-copy";
    ::unlinkat(parent, temporary.c_str(), 0);  // left by an interrupted earlier attempt
    if (auto copied = copy_file_at(parent, leaf, parent, temporary, promotable_mode(c.mode),
                                   "staged " + c.path);
        !copied) {
      return copied;
    }
    if (::renameat(parent, temporary.c_str(), parent, leaf.c_str()) != 0) {
      return sys_error("replace hard-linked staged " + c.path + " with a copy");
    }
    ++result_.hardlinks_copied;
    return {};
  }

  Result<void> prepare_swap_copy(EntryPlan& plan, std::size_t index) {
    std::string name = places_.new_version_name(index);
    plan.source = places_.new_version_path(index);
    if (auto copied = copy_tree_at(places_.upper_fd.get(), plan.name, places_.project_fd.get(),
                                   name, "staged " + plan.name);
        !copied) {
      return copied;
    }
    for (const Change* c : plan.changes) {
      if (c->change == ChangeKind::deleted) continue;
      if (c->type == EntryType::file && c->flags.hardlink) ++result_.hardlinks_copied;
      if (c->type != EntryType::symlink && promotable_mode(c->mode) != (c->mode & 07777))
        ++result_.modes_clamped;
    }
    auto ino = inode_of(places_.project_fd.get(), name, plan.source);
    if (!ino) return propagate(ino);
    plan.new_ino = *ino;
    return {};
  }

  // --- building a merged directory ------------------------------------------------------

  Result<void> prepare_build(EntryPlan& plan, std::size_t index) {
    dest_parent_.forget();  // another plan's directory, whose fd number may come back
    int dest_parent = places_.copy_mode ? places_.project_fd.get() : build_fd_.get();
    std::string dest_name = places_.new_version_name(index);
    plan.source = places_.new_version_path(index);
    if (::mkdirat(dest_parent, dest_name.c_str(), 0700) != 0)
      return sys_error("create " + plan.source);
    auto dest = open_subdirectory(dest_parent, dest_name, plan.source);
    if (!dest) return propagate(dest);

    bool real_is_dir = plan.real && S_ISDIR(plan.real->st_mode);
    if (real_is_dir) {
      auto real =
          open_subdirectory(places_.project_fd.get(), plan.name, places_.project + "/" + plan.name);
      if (!real) return propagate(real);
      not_linked_ = subtrees_replaced(plan);
      if (auto linked = link_tree(real->get(), dest->get(), plan.name, 0); !linked) return linked;
    }
    for (const Change* c : plan.changes) {
      if (c == plan.head()) continue;
      if (!promotable(*c, options_)) {
        skip(result_, *c, why_not(*c));
        continue;
      }
      if (auto applied = apply(dest->get(), plan.name, *c); !applied) return applied;
    }
    if (auto root = set_build_root_attributes(dest->get(), plan); !root) return root;
    auto ino = inode_of(dest_parent, dest_name, plan.source);
    if (!ino) return propagate(ino);
    plan.new_ino = *ino;
    return {};
  }

  Result<void> set_build_root_attributes(int dest, const EntryPlan& plan) {
    bool real_is_dir = plan.real && S_ISDIR(plan.real->st_mode);
    bool head_promoted = plan.head() != nullptr && promotable(*plan.head(), options_);
    if (!real_is_dir && !head_promoted) {
      return plain_error("promote " + plan.name + ": nothing to build the directory from");
    }
    mode_t mode = head_promoted ? promotable_mode(plan.head()->mode) : (plan.real->st_mode & 07777);
    if (real_is_dir && running_as_root()) ::fchown(dest, plan.real->st_uid, plan.real->st_gid);
    if (::fchmod(dest, mode) != 0) return sys_error("chmod new " + plan.name);
    return {};
  }

  // Real entries that promoted changes delete or replace anyway: linking them only to unlink
  // them again would double the work of a reinstall (`npm ci` over an existing node_modules
  // rewrites every file). An opaque directory shows nothing of its real counterpart.
  // A skipped change keeps the real entry it would have replaced, so the directories above it
  // are linked from the real tree even when opaque.
  // Views into the change list's paths, which outlive the preparation.
  std::unordered_set<std::string_view> subtrees_replaced(const EntryPlan& plan) const {
    std::vector<std::string_view> skipped;
    for (const Change* c : plan.changes) {
      if (c != plan.head() && !promotable(*c, options_)) skipped.push_back(c->path);
    }
    std::ranges::sort(skipped);
    std::unordered_set<std::string_view> paths;
    for (const Change* c : plan.changes) {
      if (c == plan.head() || !promotable(*c, options_) || !c->real_type) continue;
      bool real_dir_kept = *c->real_type == EntryType::dir && c->type == EntryType::dir &&
                           !c->opaque && c->change != ChangeKind::deleted;
      if (real_dir_kept) continue;
      if (c->type == EntryType::dir && holds_any(skipped, c->path)) continue;
      paths.insert(c->path);
    }
    return paths;
  }

  // `sorted` holds a path inside `dir`.
  static bool holds_any(const std::vector<std::string_view>& sorted, std::string_view dir) {
    std::string prefix = std::string(dir) + "/";
    auto first = std::lower_bound(sorted.begin(), sorted.end(), std::string_view(prefix));
    return first != sorted.end() && first->starts_with(prefix);
  }

  // Recreates the real directory `from` in `to`: directories made anew with the same mode,
  // owner and times; everything else hard-linked (the same inode, so unchanged files are
  // byte-for-byte what they were, at the cost of one link(2) each).
  Result<void> link_tree(int from, int to, const std::string& rel, int depth) {
    if (depth > kMaxDepth) return plain_error("promote: " + rel + " is nested too deeply");
    auto entries = list_directory_entries(from, places_.project + "/" + rel);
    if (!entries) return propagate(entries);
    for (const auto& entry : *entries) {
      std::string path = rel + "/" + entry.name;
      if (not_linked_.contains(path)) continue;
      bool directory = entry.type == DT_DIR;
      if (entry.type == DT_UNKNOWN) {  // the filesystem does not say: ask
        auto st = stat_entry(from, entry.name, places_.project + "/" + path);
        if (!st) return propagate(st);
        if (!*st) continue;
        directory = S_ISDIR((*st)->st_mode);
      }
      auto done = directory ? recreate_real_directory(from, to, entry.name, path, depth)
                            : link_real_entry(from, to, entry.name, path);
      if (!done) return done;
    }
    return {};
  }

  // One link(2); a copy only where the kernel refuses the link (protected_hardlinks on a file
  // owned by someone else).
  Result<void> link_real_entry(int from, int to, const std::string& name, const std::string& path) {
    if (::linkat(from, name.c_str(), to, name.c_str(), 0) == 0) return {};
    std::string shown = places_.project + "/" + path;
    if (errno != EPERM && errno != EACCES)
      return sys_error("link " + shown + " into its new version");
    auto st = stat_entry(from, name, shown);
    if (!st) return propagate(st);
    if (!*st) return {};
    if (S_ISREG((*st)->st_mode))
      return copy_file_at(from, name, to, name, (*st)->st_mode & 07777, shown);
    if (S_ISLNK((*st)->st_mode)) return copy_tree_at(from, name, to, name, shown);
    return plain_error("link " + shown +
                       " into its new version: refused, and a special file is not copied");
  }

  // Directories are made anew with the real one's mode, owner and times.
  Result<void> recreate_real_directory(int from, int to, const std::string& name,
                                       const std::string& path, int depth) {
    std::string shown = places_.project + "/" + path;
    auto st = stat_entry(from, name, shown);
    if (!st) return propagate(st);
    if (!*st) return {};
    const struct stat& s = **st;
    if (s.st_dev != places_.project_dev) {
      return plain_error(
          "promote: " + shown + " is a mount point",
          "a directory holding a mount point cannot be replaced atomically; unmount it first");
    }
    if (::mkdirat(to, name.c_str(), 0700) != 0) return sys_error("create new " + shown);
    auto sub_from = open_subdirectory(from, name, shown);
    if (!sub_from) return propagate(sub_from);
    auto sub_to = open_subdirectory(to, name, shown);
    if (!sub_to) return propagate(sub_to);
    if (auto linked = link_tree(sub_from->get(), sub_to->get(), path, depth + 1); !linked)
      return linked;
    if (running_as_root()) ::fchown(sub_to->get(), s.st_uid, s.st_gid);
    if (::fchmod(sub_to->get(), s.st_mode & 07777) != 0) return sys_error("chmod new " + shown);
    std::array<struct timespec, 2> times{s.st_atim, s.st_mtim};
    ::futimens(sub_to->get(), times.data());
    return {};
  }

  // Applies one promotable change under `dest` (the new version of top-level `top`).
  Result<void> apply(int dest, const std::string& top, const Change& c) {
    std::string rel(c.path.view().substr(top.size() + 1));
    auto parent = dest_parent_.open(dest, parent_of(rel), "new " + c.path);
    if (!parent) {
      int err = parent.error().err;
      if (c.change == ChangeKind::deleted && (err == ENOENT || err == ENOTDIR)) return {};
      if (err == ENOENT || err == ENOTDIR) {
        skip(result_, c, "its directory is not promoted");
        return {};
      }
      return propagate(parent);
    }
    std::string leaf = leaf_of(rel);
    auto existing = stat_entry(*parent, leaf, "new " + c.path);
    if (!existing) return propagate(existing);
    if (c.change == ChangeKind::deleted) {
      if (!*existing) return {};  // never linked: its real subtree is replaced
      dest_parent_.forget();
      return remove_tree_at(*parent, leaf, "new " + c.path);
    }
    if (c.type == EntryType::dir && *existing && S_ISDIR((*existing)->st_mode)) {
      if (::fchmodat(*parent, leaf.c_str(), promotable_mode(c.mode), 0) != 0)
        return sys_error("chmod new " + c.path);
      return {};
    }
    if (*existing) {
      dest_parent_.forget();
      if (auto removed = remove_tree_at(*parent, leaf, "new " + c.path); !removed) return removed;
    }
    if (c.type == EntryType::dir) {
      if (::mkdirat(*parent, leaf.c_str(), 0700) != 0 ||
          ::fchmodat(*parent, leaf.c_str(), promotable_mode(c.mode), 0) != 0) {
        return sys_error("create new " + c.path);
      }
      return {};
    }
    auto staged =
        staged_parent_.open(places_.upper_fd.get(), parent_of(c.path), "staged " + c.path);
    if (!staged) return propagate(staged);
    auto staged_st = stat_entry(*staged, leaf, "staged " + c.path);
    if (!staged_st) return propagate(staged_st);
    if (!*staged_st || entry_type_of((*staged_st)->st_mode) != c.type) {
      return plain_error("promote " + c.path +
                         ": the staged entry no longer matches the change list");
    }
    if (c.type == EntryType::symlink)
      return copy_tree_at(*staged, leaf, *parent, leaf, "staged " + c.path);
    return place_file(*staged, *parent, leaf, c, **staged_st);
  }

  // A staged file into the new version: linked when it is its only name, else copied.
  Result<void> place_file(int staged_parent, int parent, const std::string& leaf, const Change& c,
                          const struct stat& staged) {
    mode_t mode = promotable_mode(staged.st_mode);
    bool strip = mode != (staged.st_mode & 07777);
    if (staged.st_nlink > 1 || places_.copy_mode) {
      if (staged.st_nlink > 1) ++result_.hardlinks_copied;
      if (strip) ++result_.modes_clamped;
      return copy_file_at(staged_parent, leaf, parent, leaf, mode, "staged " + c.path);
    }
    if (::linkat(staged_parent, leaf.c_str(), parent, leaf.c_str(), 0) != 0) {
      return sys_error("link staged " + c.path + " into its new version");
    }
    if (!c.foreign_xattrs().empty()) {
      ++result_.xattrs_stripped;
      if (auto stripped = strip_xattrs_at(parent, leaf, c.foreign_xattrs(), mode, "new " + c.path);
          !stripped)
        return stripped;
    } else if (strip && ::fchmodat(parent, leaf.c_str(), mode, 0) != 0) {
      return sys_error("clamp the permissions of " + c.path);
    }
    if (strip) ++result_.modes_clamped;
    if (!c.overlay_xattrs().empty()) {
      UniqueFd fd(::openat(parent, leaf.c_str(),
                           O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
      if (fd) return remove_overlay_xattrs(fd.get(), c.overlay_xattrs(), c.path.str());
    }
    return {};
  }

  const PromotionPlaces& places_;
  const ChangeList& changes_;
  const PromotionOptions& options_;
  PromotionResult& result_;
  UniqueFd build_fd_;
  ParentDirCache dest_parent_;
  ParentDirCache staged_parent_;
  // Real paths of the entry being built that promoted changes delete or replace anyway.
  std::unordered_set<std::string_view> not_linked_;
};

}  // namespace

Result<void> prepare_all(const PromotionPlaces& places, const ChangeList& changes,
                         const PromotionOptions& options, const std::vector<EntryPlan*>& work,
                         PromotionJournal& journal, PromotionResult& result) {
  Preparer preparer(places, changes, options, result);
  return preparer.prepare_all(work, journal);
}

void discard_preparation(const PromotionPlaces& places, PromotionJournal& journal) {
  (void)remove_scratch(journal);
  if (places.copy_mode) {
    journal.state = JournalState::rolled_back;
    (void)save_journal(places.run.journal_file(), journal, false);
  }
}

void strip_promoted_xattrs(const PromotionPlaces& places, const std::vector<EntryPlan*>& work) {
  for (const EntryPlan* plan : work) {
    if (plan->kind != PlanKind::swap || places.copy_mode) continue;
    for (const Change* c : plan->changes) {
      if (c->overlay_xattrs().empty() || c->change == ChangeKind::deleted) continue;
      int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
                  (c->type == EntryType::dir ? O_DIRECTORY : 0);
      const std::string path = c->path.str();
      auto fd = open_beneath(places.project_fd.get(), path, flags, places.project + "/" + path);
      if (fd) (void)remove_overlay_xattrs(fd->get(), c->overlay_xattrs(), path);
    }
  }
}

}  // namespace safeinstall::runner
