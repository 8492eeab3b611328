#include "runner/promotion/promotion.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <optional>
#include <unordered_set>

#include "runner/fs/fs_tree.h"
#include "runner/staging/project_snapshot.h"
#include "runner/store/promotion_journal.h"
#include "runner/staging/staged_xattrs.h"

namespace safeinstall::runner {
namespace {

using sandbox::UniqueFd;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kTmpPrefix = ".safeinstall-tmp-";
constexpr std::string_view kTrashPrefix = ".safeinstall-trash-";
constexpr int kMaxDepth = 512;

std::chrono::microseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
}

std::string_view top_level_of(std::string_view path) {
  return path.substr(0, path.find('/'));
}

bool inside(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/';
}

bool is_reserved_name(const std::string& name) {
  return name.starts_with(kTmpPrefix) || name.starts_with(kTrashPrefix);
}

bool running_as_root() {
  return ::geteuid() == 0;
}

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

Result<void> remove_scratch(const PromotionJournal& journal) {
  for (const auto& path : journal.scratch) {
    if (auto removed = remove_tree(path); !removed) return removed;
  }
  return {};
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

Result<void> remove_overlay_xattrs(int fd, const std::vector<std::string>& names,
                                   const std::string& shown) {
  for (const auto& name : names) {
    if (::fremovexattr(fd, name.c_str()) != 0 && errno != ENODATA) {
      return sys_error("remove overlay xattr " + name + " from " + shown);
    }
  }
  return {};
}

// ---------------------------------------------------------------------------------------
// Planning: one plan per top-level entry the change list touches.

enum class PlanKind { swap, build, remove, skip };

struct EntryPlan {
  std::string name;
  PlanKind kind = PlanKind::skip;
  std::vector<const Change*> changes;  // everything under the entry, sorted by path
  const Change* head = nullptr;        // the change of the entry itself, if any
  std::optional<struct stat> real;     // project/name now
  std::optional<struct stat> upper;    // upper/name
  std::string source;                  // absolute path of the prepared new version
  std::uint64_t new_ino = 0;
};

class Promoter {
 public:
  Promoter(const RunDir& run, std::string project, const ChangeList& changes,
           const PromotionOptions& options)
      : run_(run), project_(std::move(project)), changes_(changes), options_(options) {}

  Result<PromotionResult> promote() {
    if (auto ready = check_ready(); !ready) return propagate(ready);
    auto plans = plan_entries();
    if (!plans) return propagate(plans);
    std::vector<EntryPlan*> work;
    for (auto& p : *plans) {
      if (p.kind != PlanKind::skip) work.push_back(&p);
    }
    if (work.empty()) return std::move(result_);

    auto prepare_start = Clock::now();
    PromotionJournal journal = new_journal(work);
    if (auto prepared = prepare_all(work, journal); !prepared) {
      discard_preparation(journal);
      return propagate(prepared);
    }
    result_.prepare_time = since(prepare_start);

    auto commit_start = Clock::now();
    if (auto committed = commit(work, journal); !committed)
      return propagate(committed);
    strip_promoted_xattrs(work);
    result_.commit_time = since(commit_start);

    result_.cleanup_deferred = options_.defer_cleanup;
    if (!options_.defer_cleanup) {
      auto cleanup_start = Clock::now();
      if (auto cleaned = finish_cleanup(run_, journal); !cleaned)
        return propagate(cleaned);
      result_.cleanup_time = since(cleanup_start);
    }
    return std::move(result_);
  }

 private:
  // --- before anything is touched ------------------------------------------------------

  Result<void> check_ready() {
    auto journal = load_journal(run_.journal_file());
    if (!journal) return propagate(journal);
    if (*journal && (*journal)->state != JournalState::rolled_back) {
      if (is_unfinished((*journal)->state)) {
        return plain_error(
            "promote run " + run_.id + ": an earlier promotion of it was interrupted",
            "recovery finishes it: run `safeinstall runs` (or any safeinstall command on the "
            "project)");
      }
      return plain_error("promote run " + run_.id + ": it was promoted already");
    }
    auto project_fd = open_directory(project_);
    if (!project_fd) return propagate(project_fd);
    project_fd_ = std::move(*project_fd);
    auto upper_fd = open_directory(run_.upper());
    if (!upper_fd) return propagate(upper_fd);
    upper_fd_ = std::move(*upper_fd);
    struct stat st {};
    if (::fstat(project_fd_.get(), &st) != 0) return sys_error("stat " + project_);
    project_dev_ = st.st_dev;
    if (options_.snapshot != nullptr) {
      auto check = find_conflicts(*options_.snapshot, changes_);
      if (!check) return propagate(check);
      if (!check->clean()) {
        return plain_error("promote run " + run_.id + ": " + check->message(),
                           "nothing was promoted and the run is kept; look at those paths, then "
                           "`safeinstall promote " +
                               run_.id + "` again or discard the run");
      }
    }
    return decide_copy_mode();
  }

  Result<void> decide_copy_mode() {
    if (options_.force_copy) {
      copy_mode_ = true;
      result_.copy_reason = "copy-based promotion was asked for";
    } else {
      auto upper_mount = mount_identity(run_.upper());
      if (!upper_mount) return propagate(upper_mount);
      auto project_mount = mount_identity(project_);
      if (!project_mount) return propagate(project_mount);
      copy_mode_ = !(*upper_mount == *project_mount);
      if (copy_mode_) {
        result_.copy_reason = "the staging dir " + run_.staging + " is on another mount than " +
                              project_ + ": changes were copied, then renamed into place";
      }
    }
    result_.copy_based = copy_mode_;
    return {};
  }

  bool allowed(const Change& c) const {
    switch (c.category) {
      case Category::expected:
        return true;
      case Category::protected_:
        return options_.allow_protected;
      case Category::unexpected:
      case Category::unjudged:
        return options_.allow_unexpected;
    }
    return false;
  }

  bool promotable(const Change& c) const {
    if (c.change == ChangeKind::deleted) return allowed(c);
    return allowed(c) && !c.flags.never_promoted();
  }

  std::string why_not(const Change& c) const {
    if (c.change != ChangeKind::deleted && c.flags.special_file)
      return "special file: never promoted";
    if (c.change != ChangeKind::deleted && c.flags.symlink_escape)
      return "symlink pointing outside the project: never promoted";
    switch (c.category) {
      case Category::protected_:
        return "protected (promoted only with --allow-protected)";
      case Category::unjudged:
        return "not judged (promoted only with --yes)";
      default:
        return "unexpected (promoted only with --yes)";
    }
  }

  void skip(const Change& c, std::string reason) {
    result_.skipped.push_back({c.path, std::move(reason)});
  }

  Result<std::vector<EntryPlan>> plan_entries() {
    // Keys view into the change list, which outlives the plan: no string per change.
    std::map<std::string_view, EntryPlan> by_name;
    for (const auto& c : changes_.changes) {
      std::string_view top = top_level_of(c.path);
      auto& plan = by_name[top];
      plan.changes.push_back(&c);
      if (top.size() == c.path.size()) plan.head = &c;
    }
    std::vector<EntryPlan> plans;
    plans.reserve(by_name.size());
    for (auto& [name, plan] : by_name) {
      plan.name = std::string(name);
      if (auto decided = decide(plan); !decided) return propagate(decided);
      plans.push_back(std::move(plan));
    }
    return plans;
  }

  Result<void> decide(EntryPlan& plan) {
    auto real = stat_entry(project_fd_.get(), plan.name, project_ + "/" + plan.name);
    if (!real) return propagate(real);
    plan.real = *real;
    auto upper = stat_entry(upper_fd_.get(), plan.name, run_.upper() + "/" + plan.name);
    if (!upper) return propagate(upper);
    plan.upper = *upper;

    auto promotable_count = static_cast<std::size_t>(std::count_if(
        plan.changes.begin(), plan.changes.end(), [&](const Change* c) { return promotable(*c); }));
    bool all = promotable_count == plan.changes.size();
    bool none = promotable_count == 0;
    bool head_blocks = plan.head != nullptr && !promotable(*plan.head) &&
                       plan.head->type == EntryType::dir &&
                       !(plan.real && S_ISDIR(plan.real->st_mode));
    if (is_reserved_name(plan.name)) {
      for (const Change* c : plan.changes)
        skip(*c, "name reserved for safeinstall's own scratch entries");
      plan.kind = PlanKind::skip;
      return {};
    }
    if (none || head_blocks) {
      for (const Change* c : plan.changes)
        skip(*c, promotable(*c) ? "its directory is not promoted" : why_not(*c));
      plan.kind = PlanKind::skip;
      return {};
    }
    auto stale = [&] {
      return plain_error(
          "promote " + plan.name + ": the staged tree no longer matches the change list",
          "list the changes again before promoting");
    };
    if (!plan.upper) return stale();
    if (plan.head != nullptr && plan.head->change == ChangeKind::deleted) {
      if (!is_whiteout(*plan.upper)) return stale();
      plan.kind = plan.real ? PlanKind::remove : PlanKind::skip;
      return {};
    }
    if (is_whiteout(*plan.upper)) return stale();
    if (!S_ISDIR(plan.upper->st_mode)) {
      if (plan.head == nullptr || entry_type_of(plan.upper->st_mode) != plan.head->type)
        return stale();
      plan.kind = PlanKind::swap;
      return {};
    }
    bool real_is_dir = plan.real && S_ISDIR(plan.real->st_mode);
    bool replaced_whole = plan.head != nullptr && (plan.head->opaque || !real_is_dir);
    plan.kind = all && replaced_whole ? PlanKind::swap : PlanKind::build;
    return {};
  }

  // --- preparation: new versions built where the project cannot see them -------------

  std::string scratch_name(std::string_view prefix, std::size_t index) const {
    return std::string(prefix) + run_.id + "-" + std::to_string(index);
  }
  std::string trash_path(std::size_t index) const {
    return copy_mode_ ? project_ + "/" + scratch_name(kTrashPrefix, index)
                      : run_.trash() + "/" + std::to_string(index);
  }

  PromotionJournal new_journal(const std::vector<EntryPlan*>& work) const {
    PromotionJournal journal;
    journal.run_id = run_.id;
    journal.project = project_;
    journal.copy_based = copy_mode_;
    if (copy_mode_) {
      for (std::size_t i = 0; i < work.size(); ++i) {
        journal.scratch.push_back(project_ + "/" + scratch_name(kTmpPrefix, i));
        journal.scratch.push_back(trash_path(i));
      }
    } else {
      journal.scratch = {run_.build(), run_.trash()};
    }
    return journal;
  }

  Result<void> prepare_all(const std::vector<EntryPlan*>& work, PromotionJournal& journal) {
    if (copy_mode_) {
      // Scratch entries appear inside the project: the journal must know them first.
      journal.state = JournalState::preparing;
      if (auto saved = save_journal(run_.journal_file(), journal, true); !saved) return saved;
    } else {
      // Leftovers of an earlier attempt that stopped before its commit point.
      if (auto removed = remove_scratch(journal); !removed) return removed;
      for (const auto& dir : {run_.build(), run_.trash()}) {
        if (::mkdir(dir.c_str(), 0700) != 0) return sys_error("create " + dir);
      }
      auto build = open_directory(run_.build());
      if (!build) return propagate(build);
      build_fd_ = std::move(*build);
    }
    for (std::size_t i = 0; i < work.size(); ++i) {
      if (auto prepared = prepare(*work[i], i); !prepared) return prepared;
    }
    return {};
  }

  void discard_preparation(PromotionJournal& journal) {
    (void)remove_scratch(journal);
    if (copy_mode_) {
      journal.state = JournalState::rolled_back;
      (void)save_journal(run_.journal_file(), journal, false);
    }
  }

  Result<void> prepare(EntryPlan& plan, std::size_t index) {
    switch (plan.kind) {
      case PlanKind::swap:
        return copy_mode_ ? prepare_swap_copy(plan, index) : prepare_swap_in_place(plan);
      case PlanKind::build:
        return prepare_build(plan, index);
      case PlanKind::remove:
      case PlanKind::skip:
        return {};
    }
    return {};
  }

  Result<std::uint64_t> inode_of(int dirfd, const std::string& name, const std::string& shown) {
    auto st = stat_entry(dirfd, name, shown);
    if (!st) return propagate(st);
    if (!*st) return plain_error("prepare " + shown + ": it vanished");
    return static_cast<std::uint64_t>((*st)->st_ino);
  }

  // The staged entry itself is what moves: only flagged entries are touched.
  Result<void> prepare_swap_in_place(EntryPlan& plan) {
    for (const Change* c : plan.changes) {
      if (c->change == ChangeKind::deleted) continue;
      bool copy = c->type == EntryType::file && c->flags.hardlink;
      bool strip = promotable_mode(c->mode) != (c->mode & 07777) && c->type != EntryType::symlink;
      bool foreign = !c->foreign_xattrs().empty();
      if (!copy && !strip && !foreign) continue;
      auto parent = open_beneath(upper_fd_.get(), parent_of(c->path), O_PATH | O_DIRECTORY,
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
      auto parent = open_beneath(upper_fd_.get(), parent_of(whiteout), O_PATH | O_DIRECTORY,
                                 "staged " + whiteout);
      if (!parent) return propagate(parent);
      if (::unlinkat(parent->get(), leaf_of(whiteout).c_str(), 0) != 0 && errno != ENOENT) {
        return sys_error("remove whiteout staged " + whiteout);
      }
    }
    plan.source = run_.upper() + "/" + plan.name;
    auto ino = inode_of(upper_fd_.get(), plan.name, plan.source);
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
    std::string name = scratch_name(kTmpPrefix, index);
    plan.source = project_ + "/" + name;
    if (auto copied = copy_tree_at(upper_fd_.get(), plan.name, project_fd_.get(), name,
                                   "staged " + plan.name);
        !copied) {
      return copied;
    }
    for (const Change* c : plan.changes) {
      if (c->change == ChangeKind::deleted) continue;
      if (c->type == EntryType::file && c->flags.hardlink) ++result_.hardlinks_copied;
      if (c->type != EntryType::symlink && promotable_mode(c->mode) != (c->mode & 07777))
        ++result_.modes_clamped;
    }
    auto ino = inode_of(project_fd_.get(), name, plan.source);
    if (!ino) return propagate(ino);
    plan.new_ino = *ino;
    return {};
  }

  // --- building a merged directory ------------------------------------------------------

  Result<void> prepare_build(EntryPlan& plan, std::size_t index) {
    int dest_parent = copy_mode_ ? project_fd_.get() : build_fd_.get();
    std::string dest_name = copy_mode_ ? scratch_name(kTmpPrefix, index) : std::to_string(index);
    plan.source = (copy_mode_ ? project_ : run_.build()) + "/" + dest_name;
    if (::mkdirat(dest_parent, dest_name.c_str(), 0700) != 0)
      return sys_error("create " + plan.source);
    auto dest = open_subdirectory(dest_parent, dest_name, plan.source);
    if (!dest) return propagate(dest);

    bool real_is_dir = plan.real && S_ISDIR(plan.real->st_mode);
    if (real_is_dir) {
      auto real = open_subdirectory(project_fd_.get(), plan.name, project_ + "/" + plan.name);
      if (!real) return propagate(real);
      not_linked_ = subtrees_replaced(plan);
      if (auto linked = link_tree(real->get(), dest->get(), plan.name, 0); !linked) return linked;
    }
    for (const Change* c : plan.changes) {
      if (c == plan.head) continue;
      if (!promotable(*c)) {
        skip(*c, why_not(*c));
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
    bool head_promoted = plan.head != nullptr && promotable(*plan.head);
    if (!real_is_dir && !head_promoted) {
      return plain_error("promote " + plan.name + ": nothing to build the directory from");
    }
    mode_t mode = head_promoted ? promotable_mode(plan.head->mode) : (plan.real->st_mode & 07777);
    if (real_is_dir && running_as_root()) ::fchown(dest, plan.real->st_uid, plan.real->st_gid);
    if (::fchmod(dest, mode) != 0) return sys_error("chmod new " + plan.name);
    return {};
  }

  // Real subtrees that promoted changes delete or replace anyway: not worth linking.
  std::unordered_set<std::string> subtrees_replaced(const EntryPlan& plan) const {
    std::unordered_set<std::string> paths;
    for (const Change* c : plan.changes) {
      if (c == plan.head || !promotable(*c)) continue;
      if (c->change == ChangeKind::deleted ||
          (c->replaces_real_subtree() && c->type != EntryType::dir)) {
        paths.insert(c->path);
      }
    }
    return paths;
  }

  // Recreates the real directory `from` in `to`: directories made anew with the same mode,
  // owner and times; everything else hard-linked (the same inode, so unchanged files are
  // byte-for-byte what they were, at the cost of one link(2) each).
  Result<void> link_tree(int from, int to, const std::string& rel, int depth) {
    if (depth > kMaxDepth) return plain_error("promote: " + rel + " is nested too deeply");
    auto entries = list_directory_entries(from, project_ + "/" + rel);
    if (!entries) return propagate(entries);
    for (const auto& entry : *entries) {
      std::string path = rel + "/" + entry.name;
      if (not_linked_.contains(path)) continue;
      bool directory = entry.type == DT_DIR;
      if (entry.type == DT_UNKNOWN) {  // the filesystem does not say: ask
        auto st = stat_entry(from, entry.name, project_ + "/" + path);
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
    std::string shown = project_ + "/" + path;
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
    std::string shown = project_ + "/" + path;
    auto st = stat_entry(from, name, shown);
    if (!st) return propagate(st);
    if (!*st) return {};
    const struct stat& s = **st;
    if (s.st_dev != project_dev_) {
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
    std::string rel = c.path.substr(top.size() + 1);
    auto parent = open_beneath(dest, parent_of(rel), O_PATH | O_DIRECTORY, "new " + c.path);
    if (!parent) {
      int err = parent.error().err;
      if (err == ENOENT || err == ENOTDIR) {
        skip(c, "its directory is not promoted");
        return {};
      }
      return propagate(parent);
    }
    std::string leaf = leaf_of(rel);
    auto existing = stat_entry(parent->get(), leaf, "new " + c.path);
    if (!existing) return propagate(existing);
    if (c.change == ChangeKind::deleted)
      return remove_tree_at(parent->get(), leaf, "new " + c.path);
    if (c.type == EntryType::dir && *existing && S_ISDIR((*existing)->st_mode)) {
      if (::fchmodat(parent->get(), leaf.c_str(), promotable_mode(c.mode), 0) != 0)
        return sys_error("chmod new " + c.path);
      return {};
    }
    if (*existing) {
      if (auto removed = remove_tree_at(parent->get(), leaf, "new " + c.path); !removed)
        return removed;
    }
    if (c.type == EntryType::dir) {
      if (::mkdirat(parent->get(), leaf.c_str(), 0700) != 0 ||
          ::fchmodat(parent->get(), leaf.c_str(), promotable_mode(c.mode), 0) != 0) {
        return sys_error("create new " + c.path);
      }
      return {};
    }
    auto staged =
        open_beneath(upper_fd_.get(), parent_of(c.path), O_PATH | O_DIRECTORY, "staged " + c.path);
    if (!staged) return propagate(staged);
    auto staged_st = stat_entry(staged->get(), leaf, "staged " + c.path);
    if (!staged_st) return propagate(staged_st);
    if (!*staged_st || entry_type_of((*staged_st)->st_mode) != c.type) {
      return plain_error("promote " + c.path +
                         ": the staged entry no longer matches the change list");
    }
    if (c.type == EntryType::symlink)
      return copy_tree_at(staged->get(), leaf, parent->get(), leaf, "staged " + c.path);
    return place_file(staged->get(), parent->get(), leaf, c, **staged_st);
  }

  // A staged file into the new version: linked when it is its only name, else copied.
  Result<void> place_file(int staged_parent, int parent, const std::string& leaf, const Change& c,
                          const struct stat& staged) {
    mode_t mode = promotable_mode(staged.st_mode);
    bool strip = mode != (staged.st_mode & 07777);
    if (staged.st_nlink > 1 || copy_mode_) {
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
      if (fd) return remove_overlay_xattrs(fd.get(), c.overlay_xattrs(), c.path);
    }
    return {};
  }

  // --- the commit -----------------------------------------------------------------------

  Result<void> commit(const std::vector<EntryPlan*>& work, PromotionJournal& journal) {
    for (std::size_t i = 0; i < work.size(); ++i) journal.steps.push_back(step_for(*work[i], i));
    journal.state = JournalState::committing;
    // The commit point: from here on recovery rolls forward.
    if (auto saved = save_journal(run_.journal_file(), journal, /*durable=*/true); !saved)
      return saved;
    std::vector<std::string> notes;
    for (const auto& step : journal.steps) {
      auto advanced = advance_step(journal, step, notes);
      if (!advanced) {
        auto error = advanced.error();
        error.step = "promote run " + run_.id + ", entry " + step.name + ": " + error.step;
        error.hint =
            "the promotion stopped part-way; every entry is wholly old or new, and the "
            "next safeinstall command on this project finishes it";
        return std::unexpected(error);
      }
      if (*advanced) result_.promoted.push_back(step.name);
      if (options_.after_step) options_.after_step(step.name);
    }
    for (auto& note : notes) result_.notes.push_back(std::move(note));
    // With clean-up following at once, "committed" is skipped: a crash before "done" leaves
    // "committing", whose recovery finds every step done by inode and cleans up all the same.
    if (!options_.defer_cleanup) return {};
    journal.state = JournalState::committed;
    return save_journal(run_.journal_file(), journal, /*durable=*/false);
  }

  JournalStep step_for(const EntryPlan& plan, std::size_t index) const {
    JournalStep step;
    step.name = plan.name;
    step.dev = project_dev_;
    step.trash = trash_path(index);
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

  // Swapped-in staged trees still carry overlayfs' opaque/origin xattrs; they are removed
  // only now, because before the commit they are what gives the staged tree its meaning.
  void strip_promoted_xattrs(const std::vector<EntryPlan*>& work) {
    for (const EntryPlan* plan : work) {
      if (plan->kind != PlanKind::swap || copy_mode_) continue;
      for (const Change* c : plan->changes) {
        if (c->overlay_xattrs().empty() || c->change == ChangeKind::deleted) continue;
        int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
                    (c->type == EntryType::dir ? O_DIRECTORY : 0);
        auto fd = open_beneath(project_fd_.get(), c->path, flags, project_ + "/" + c->path);
        if (fd) (void)remove_overlay_xattrs(fd->get(), c->overlay_xattrs(), c->path);
      }
    }
  }

  const RunDir& run_;
  std::string project_;
  const ChangeList& changes_;
  const PromotionOptions& options_;
  PromotionResult result_;
  UniqueFd project_fd_;
  UniqueFd upper_fd_;
  UniqueFd build_fd_;
  // Real paths of the entry being built that promoted changes delete or replace anyway.
  std::unordered_set<std::string> not_linked_;
  dev_t project_dev_ = 0;
  bool copy_mode_ = false;
};

}  // namespace

Result<PromotionResult> promote(const RunDir& run, const std::string& project,
                                const ChangeList& changes, const PromotionOptions& options) {
  if (project.empty() || project.front() != '/') {
    return plain_error("promote run " + run.id + ": project path '" + project +
                       "' is not absolute");
  }
  Promoter promoter(run, project, changes, options);
  return promoter.promote();
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
  if (auto cleaned = finish_cleanup(run, journal); !cleaned)
    return propagate(cleaned);
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

Result<std::vector<RecoveredRun>> recover_interrupted_promotions(const RunStore& store) {
  auto runs_fd = open_directory(store.runs_dir());
  if (!runs_fd) return propagate(runs_fd);
  auto names = list_directory(runs_fd->get(), store.runs_dir());
  if (!names) return propagate(names);
  std::vector<RecoveredRun> recovered;
  for (const auto& name : *names) {
    if (!valid_run_id(name)) continue;
    auto stored = store.load_run(name);
    if (!stored) continue;
    auto journal = load_journal(stored->dir.journal_file());
    if (!journal || !*journal) continue;
    auto state = (*journal)->state;
    if (state == JournalState::done || state == JournalState::rolled_back) continue;
    auto lock = store.try_lock_project(stored->meta.project);
    if (!lock) return propagate(lock);
    if (!*lock) continue;  // being promoted right now by another safeinstall
    auto result = recover(stored->dir);
    if (!result) return propagate(result);
    if (result->outcome == RecoveryOutcome::rolled_forward && !stored->meta.promoted) {
      stored->meta.promoted = true;
      stored->meta.verdict = "promoted";
      if (auto saved = store.save_meta(stored->dir, stored->meta); !saved)
        return propagate(saved);
    }
    recovered.push_back({name, stored->meta.project, std::move(*result)});
  }
  return recovered;
}

}  // namespace safeinstall::runner
