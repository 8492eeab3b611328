#include "runner/staging/change_list.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <limits>
#include <span>
#include <unordered_set>

#include "runner/fs/fs_tree.h"
#include "runner/fs/path_globs.h"
#include "runner/staging/staged_xattrs.h"

namespace safeinstall::runner {
namespace {

using sandbox::UniqueFd;

constexpr std::array<std::string_view, 2> kOpaqueXattrs = {"user.overlay.opaque",
                                                           "trusted.overlay.opaque"};
// Features whose upper entries do not stand on their own; see the header.
constexpr std::array<std::string_view, 4> kUnreadableXattrs = {
    "user.overlay.redirect", "trusted.overlay.redirect", "user.overlay.metacopy",
    "trusted.overlay.metacopy"};

// An entry's xattrs by what they mean here (staged_xattrs.h).
struct EntryXattrs {
  std::vector<std::string> overlay;  // overlayfs' bookkeeping, in the overlay's part only
  std::vector<std::string> foreign;  // removed before promotion
  bool forged_overlay = false;       // overlay names where no overlay wrote (a direct dir)
};

EntryXattrs sort_xattrs(std::vector<std::string> names, bool direct) {
  EntryXattrs sorted;
  for (auto& name : names) {
    switch (classify_xattr(name)) {
      case XattrKind::overlay:
        sorted.forged_overlay = sorted.forged_overlay || direct;
        (direct ? sorted.foreign : sorted.overlay).push_back(std::move(name));
        break;
      case XattrKind::foreign:
        sorted.foreign.push_back(std::move(name));
        break;
      case XattrKind::other:
        break;
    }
  }
  return sorted;
}

void attach_xattrs(Change& change, EntryXattrs xattrs) {
  change.flags.forged_overlay = xattrs.forged_overlay;
  change.flags.foreign_xattrs = !xattrs.foreign.empty();
  if (!xattrs.overlay.empty()) change.edit_details().overlay_xattrs = std::move(xattrs.overlay);
  if (!xattrs.foreign.empty()) change.edit_details().foreign_xattrs = std::move(xattrs.foreign);
}

Result<void> refuse_unreadable_features(const std::vector<std::string>& xattrs,
                                        const std::string& shown) {
  for (const auto& name : xattrs) {
    if (std::find(kUnreadableXattrs.begin(), kUnreadableXattrs.end(), name) !=
        kUnreadableXattrs.end()) {
      return plain_error("read staged change " + shown + ": it carries " + name +
                             ", which the upper dir alone cannot describe",
                         "mount the project overlay with redirect_dir=off,metacopy=off");
    }
  }
  return {};
}

bool is_opaque(int dirfd, const std::vector<std::string>& xattrs) {
  for (auto name : kOpaqueXattrs) {
    if (std::find(xattrs.begin(), xattrs.end(), name) == xattrs.end()) continue;
    std::array<char, 4> value{};
    ssize_t n = ::fgetxattr(dirfd, std::string(name).c_str(), value.data(), value.size());
    // "y" is opaque; "x" (kernel 6.7+) only marks a directory that may hold xwhiteouts.
    if (n == 1 && value[0] == 'y') return true;
  }
  return false;
}

ChangeFlags flags_of(const struct stat& st) {
  ChangeFlags flags;
  flags.executable = S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0;
  if (!S_ISDIR(st.st_mode)) {
    flags.setuid = (st.st_mode & S_ISUID) != 0;
    flags.setgid = (st.st_mode & S_ISGID) != 0;
    flags.hardlink = st.st_nlink > 1;
  }
  flags.special_file = !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode);
  flags.world_writable = !S_ISLNK(st.st_mode) && (st.st_mode & S_IWOTH) != 0;
  return flags;
}

Change change_from_stat(PathRef path, ChangeKind kind, const struct stat& st) {
  Change change;
  change.path = path;
  change.change = kind;
  change.type = entry_type_of(st.st_mode);
  change.mode = static_cast<std::uint16_t>(st.st_mode);
  change.size = static_cast<std::uint64_t>(st.st_size);
  change.flags = flags_of(st);
  return change;
}

Result<std::string> read_symlink_at(int dirfd, const std::string& name, const struct stat& st,
                                    const std::string& shown) {
  // st_size is the target's length; one byte more tells a link that grew since the stat.
  std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
  ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
  if (n < 0) return sys_error("read symlink " + shown);
  target.resize(static_cast<std::size_t>(n));
  return target;
}

std::vector<std::string_view> split_components(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    auto part = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!part.empty()) parts.push_back(part);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

// Applies `.` and `..` of `target` to `stack`; false when `..` would climb above its base.
bool apply_components(std::vector<std::string_view>& stack, std::string_view target,
                      bool clamp_at_root) {
  for (auto part : split_components(target)) {
    if (part == ".") continue;
    if (part == "..") {
      if (stack.empty()) {
        if (clamp_at_root) continue;  // "/.." is "/"
        return false;
      }
      stack.pop_back();
      continue;
    }
    stack.push_back(part);
  }
  return true;
}

std::string join_components(std::span<const std::string_view> parts) {
  std::string joined;
  for (auto part : parts) {
    if (!joined.empty()) joined += '/';
    joined += part;
  }
  return joined;
}

// Walks an upper dir against the real project; see the header for the rules.
class UpperWalker {
 public:
  UpperWalker(std::string project, const ChangeListLimits& limits,
              const std::vector<std::string>& direct_dirs)
      : project_(std::move(project)), limits_(limits), direct_dirs_(direct_dirs) {}

  // Where the walk is: inside a replaced real directory (`opaque`), inside a direct dir.
  struct Context {
    bool opaque = false;
    bool direct = false;
  };

  Result<void> walk(int upper_dir, int lower_dir, Context context, const std::string& rel,
                    int depth) {
    if (depth > limits_.max_depth)
      return plain_error("list staged changes: " + rel + " is nested too deeply");
    if (limits_.deadline.passed())
      return plain_error("list staged changes: --timeout expired at " + shown(rel));
    auto names = list_directory(upper_dir, shown(rel));
    if (!names) return propagate(names);
    // Upper names that exist in the new tree: only a replaced real directory needs them.
    const bool hides_real = context.opaque && lower_dir >= 0;
    std::unordered_set<std::string> present;
    for (const auto& name : *names) {
      auto path = join_path(rel, name);
      struct stat st {};
      if (::fstatat(upper_dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;  // gone since the listing: nothing writes here any more
        return sys_error("stat " + shown(path));
      }
      if (hides_real && !is_whiteout(st)) present.insert(name);
      Context inner = context;
      inner.direct = context.direct || (rel.empty() && is_direct(name));
      auto visited = visit(upper_dir, lower_dir, inner, path, name, st, depth);
      if (!visited) return visited;
    }
    if (hides_real) return list_hidden_real_entries(lower_dir, rel, present);
    return {};
  }

  ChangeList take() {
    std::size_t total = 0;
    for (const auto& chunk : chunks_) total += chunk.size();
    list_.changes.reserve(total);
    for (auto& chunk : chunks_) {
      std::move(chunk.begin(), chunk.end(), std::back_inserter(list_.changes));
      std::vector<Change>().swap(chunk);  // returned to the system as the list fills
    }
    chunks_.clear();
    std::sort(list_.changes.begin(), list_.changes.end(),
              [](const Change& a, const Change& b) { return a.path < b.path; });
    std::sort(list_.stray_whiteouts.begin(), list_.stray_whiteouts.end());
    return std::move(list_);
  }

 private:
  std::string shown(const std::string& rel) const {
    return rel.empty() ? "the upper dir" : "staged " + rel;
  }

  bool is_direct(const std::string& name) const {
    return std::find(direct_dirs_.begin(), direct_dirs_.end(), name) != direct_dirs_.end();
  }

  Result<void> record(Change change) {
    if (recorded_ >= limits_.max_changes) {
      return plain_error(
          "list staged changes: more than " + std::to_string(limits_.max_changes) + " changes",
          "the run changed too much to judge; discard it");
    }
    if (chunks_.empty() || chunks_.back().size() == chunks_.back().capacity())
      chunks_.emplace_back().reserve(kChunk);
    chunks_.back().push_back(std::move(change));
    ++recorded_;
    return {};
  }

  Result<std::optional<struct stat>> real_counterpart(int lower_dir, const std::string& name,
                                                      const std::string& path) const {
    if (lower_dir < 0) return std::optional<struct stat>{};
    return stat_entry(lower_dir, name, project_ + "/" + path);
  }

  Result<void> visit(int upper_dir, int lower_dir, Context context, const std::string& path,
                     const std::string& name, const struct stat& st, int depth) {
    auto real = real_counterpart(lower_dir, name, path);
    if (!real) return propagate(real);
    if (is_whiteout(st)) return visit_whiteout(context.opaque, path, *real);
    if (S_ISDIR(st.st_mode))
      return visit_directory(upper_dir, lower_dir, context, path, name, st, *real, depth);
    return visit_leaf(upper_dir, context, path, name, st, *real);
  }

  Result<void> visit_whiteout(bool opaque_context, const std::string& path,
                              const std::optional<struct stat>& real) {
    // Inside an opaque directory the real entry is hidden anyway; the deletion is found by
    // list_hidden_real_entries.
    if (opaque_context || !real) {
      list_.stray_whiteouts.push_back(path);
      return {};
    }
    Change change;
    change.path = list_.paths.add(path);
    change.change = ChangeKind::deleted;
    change.type = entry_type_of(real->st_mode);
    change.real_type = change.type;
    return record(std::move(change));
  }

  Result<void> visit_directory(int upper_dir, int lower_dir, Context context,
                               const std::string& path, const std::string& name,
                               const struct stat& st, const std::optional<struct stat>& real,
                               int depth) {
    auto sub = open_subdirectory(upper_dir, name, shown(path));
    if (!sub) return propagate(sub);
    auto names = xattr_names_of(sub->get(), shown(path));
    if (!names) return propagate(names);
    EntryXattrs xattrs = sort_xattrs(std::move(*names), context.direct);
    if (auto readable = refuse_unreadable_features(xattrs.overlay, path); !readable)
      return readable;
    bool real_is_dir = real && S_ISDIR(real->st_mode);
    bool replaces_contents =
        context.opaque || is_opaque(sub->get(), xattrs.overlay) || !real_is_dir;
    UniqueFd real_sub;
    if (real_is_dir) {
      auto opened = open_subdirectory(lower_dir, name, project_ + "/" + path);
      if (!opened) return propagate(opened);
      real_sub = std::move(*opened);
    }
    bool mode_changed = real_is_dir && (st.st_mode & 07777) != (real->st_mode & 07777);
    if (replaces_contents || mode_changed) {
      Change change = change_from_stat(list_.paths.add(path),
                                       real ? ChangeKind::modified : ChangeKind::added, st);
      if (real) change.real_type = entry_type_of(real->st_mode);
      change.opaque = real_is_dir && replaces_contents;
      attach_xattrs(change, std::move(xattrs));
      if (auto recorded = record(std::move(change)); !recorded) return recorded;
    }
    return walk(sub->get(), real_is_dir ? real_sub.get() : -1, {replaces_contents, context.direct},
                path, depth + 1);
  }

  Result<void> visit_leaf(int upper_dir, Context context, const std::string& path,
                          const std::string& name, const struct stat& st,
                          const std::optional<struct stat>& real) {
    Change change = change_from_stat(list_.paths.add(path),
                                     real ? ChangeKind::modified : ChangeKind::added, st);
    if (real) change.real_type = entry_type_of(real->st_mode);
    if (S_ISLNK(st.st_mode)) {
      auto target = read_symlink_at(upper_dir, name, st, shown(path));
      if (!target) return propagate(target);
      auto& details = change.edit_details();
      details.symlink_target = std::move(*target);
      details.symlink_resolves_to =
          resolve_symlink_in_project(path, details.symlink_target, project_);
      change.flags.symlink_escape = !details.symlink_resolves_to;
    }
    // Symlinks and special files cannot carry user.* xattrs or ACLs; the rest is listed by
    // name, without opening it (an owner-unreadable file has names too).
    if (S_ISREG(st.st_mode)) {
      auto names = xattr_names_at(upper_dir, name, shown(path));
      if (!names) return propagate(names);
      EntryXattrs xattrs = sort_xattrs(std::move(*names), context.direct);
      if (auto readable = refuse_unreadable_features(xattrs.overlay, path); !readable)
        return readable;
      attach_xattrs(change, std::move(xattrs));
    }
    return record(std::move(change));
  }

  // Real entries under a replaced directory that the upper dir does not recreate.
  Result<void> list_hidden_real_entries(int lower_dir, const std::string& rel,
                                        const std::unordered_set<std::string>& present) {
    auto names = list_directory(lower_dir, project_ + "/" + rel);
    if (!names) return propagate(names);
    for (const auto& name : *names) {
      if (present.contains(name)) continue;
      auto path = join_path(rel, name);
      auto real = stat_entry(lower_dir, name, project_ + "/" + path);
      if (!real) return propagate(real);
      if (!*real) continue;
      Change change;
      change.path = list_.paths.add(path);
      change.change = ChangeKind::deleted;
      change.type = entry_type_of((*real)->st_mode);
      change.real_type = change.type;
      if (auto recorded = record(std::move(change)); !recorded) return recorded;
    }
    return {};
  }

  // A node_modules is 40k changes, a few MB: collected in fixed chunks (each its own mapping,
  // see main.cpp) and moved into one exact vector at the end, because a vector grown by
  // doubling holds its old and new copies at once, which would be the run's peak memory.
  static constexpr std::size_t kChunk = 4096;
  std::string project_;
  ChangeListLimits limits_;
  const std::vector<std::string>& direct_dirs_;
  std::vector<std::vector<Change>> chunks_;
  std::size_t recorded_ = 0;
  ChangeList list_;
};

// Walks a plain tree for walk_written_tree.
class WrittenTreeWalker {
 public:
  WrittenTreeWalker(dev_t root_dev, const GlobSet* persistence, const ChangeListLimits& limits)
      : root_dev_(root_dev), persistence_(persistence), limits_(limits) {}

  Result<void> walk(int dirfd, const std::string& rel, const std::string& shown_root, int depth) {
    if (depth > limits_.max_depth)
      return plain_error("list " + shown_root + "/" + rel + ": nested too deeply");
    auto names = list_directory(dirfd, join_path(shown_root, rel));
    if (!names) return propagate(names);
    for (const auto& name : *names) {
      auto path = join_path(rel, name);
      auto shown = shown_root + "/" + path;
      auto st = stat_entry(dirfd, name, shown);
      if (!st) return propagate(st);
      if (!*st) continue;
      if (list_.changes.size() >= limits_.max_changes) {
        return plain_error("list " + shown_root + ": more than " +
                           std::to_string(limits_.max_changes) + " entries");
      }
      Change change = change_from_stat(list_.paths.add(path), ChangeKind::added, **st);
      change.flags.persistence = persistence_ != nullptr && persistence_->matches(path);
      if (S_ISLNK((*st)->st_mode)) {
        auto target = read_symlink_at(dirfd, name, **st, shown);
        if (!target) return propagate(target);
        change.edit_details().symlink_target = std::move(*target);
      }
      list_.changes.push_back(std::move(change));
      // Another filesystem mounted inside (a toolchain, the project) is not this tree's writes.
      if (S_ISDIR((*st)->st_mode) && (*st)->st_dev == root_dev_) {
        auto sub = open_subdirectory(dirfd, name, shown);
        if (!sub) return propagate(sub);
        if (auto walked = walk(sub->get(), path, shown_root, depth + 1); !walked) return walked;
      }
    }
    return {};
  }

  ChangeList take() {
    std::sort(list_.changes.begin(), list_.changes.end(),
              [](const Change& a, const Change& b) { return a.path < b.path; });
    return std::move(list_);
  }

 private:
  dev_t root_dev_;
  const GlobSet* persistence_;
  ChangeListLimits limits_;
  ChangeList list_;
};

}  // namespace

std::string_view to_string(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::added:
      return "added";
    case ChangeKind::modified:
      return "modified";
    case ChangeKind::deleted:
      return "deleted";
  }
  return "?";
}

std::string_view to_string(EntryType type) {
  switch (type) {
    case EntryType::file:
      return "file";
    case EntryType::dir:
      return "dir";
    case EntryType::symlink:
      return "symlink";
    case EntryType::special:
      return "special";
  }
  return "?";
}

std::string_view to_string(Category category) {
  switch (category) {
    case Category::unjudged:
      return "unjudged";
    case Category::expected:
      return "expected";
    case Category::unexpected:
      return "unexpected";
    case Category::protected_:
      return "protected";
  }
  return "?";
}

EntryType entry_type_of(mode_t st_mode) {
  if (S_ISREG(st_mode)) return EntryType::file;
  if (S_ISDIR(st_mode)) return EntryType::dir;
  if (S_ISLNK(st_mode)) return EntryType::symlink;
  return EntryType::special;
}

namespace {
const ChangeDetails kNoDetails;
}  // namespace

const std::string& Change::symlink_target() const {
  return (details ? *details : kNoDetails).symlink_target;
}

const std::optional<std::string>& Change::symlink_resolves_to() const {
  return (details ? *details : kNoDetails).symlink_resolves_to;
}

const std::vector<std::string>& Change::overlay_xattrs() const {
  return (details ? *details : kNoDetails).overlay_xattrs;
}

const std::vector<std::string>& Change::foreign_xattrs() const {
  return (details ? *details : kNoDetails).foreign_xattrs;
}

ChangeDetails& Change::edit_details() {
  return details.make();
}

bool Change::replaces_real_subtree() const {
  return real_type == EntryType::dir &&
         (change == ChangeKind::deleted || type != EntryType::dir || opaque);
}

Change& ChangeList::add(std::string_view path) {
  Change& change = changes.emplace_back();
  change.path = paths.add(path);
  return change;
}

const Change* ChangeList::find(std::string_view path) const {
  auto it = std::lower_bound(changes.begin(), changes.end(), path,
                             [](const Change& c, std::string_view p) { return c.path < p; });
  return it != changes.end() && it->path == path ? &*it : nullptr;
}

std::size_t ChangeList::count(ChangeKind kind) const {
  return static_cast<std::size_t>(std::count_if(changes.begin(), changes.end(),
                                                [&](const Change& c) { return c.change == kind; }));
}

std::size_t ChangeList::count(Category category) const {
  return static_cast<std::size_t>(std::count_if(
      changes.begin(), changes.end(), [&](const Change& c) { return c.category == category; }));
}

std::string ChangeList::category_counts() const {
  return "(" + std::to_string(count(Category::expected)) + " expected, " +
         std::to_string(count(Category::unexpected)) + " unexpected, " +
         std::to_string(count(Category::protected_)) + " protected)";
}

std::optional<std::string> resolve_symlink_in_project(std::string_view link_path,
                                                      std::string_view target,
                                                      std::string_view project) {
  if (target.empty()) return std::nullopt;
  if (target.front() == '/') {
    std::vector<std::string_view> absolute;
    apply_components(absolute, target, /*clamp_at_root=*/true);
    auto root = split_components(project);
    if (absolute.size() < root.size() || !std::equal(root.begin(), root.end(), absolute.begin())) {
      return std::nullopt;
    }
    return join_components(std::span(absolute).subspan(root.size()));
  }
  auto stack = split_components(link_path);
  if (!stack.empty()) stack.pop_back();  // the link's own name: resolution starts in its directory
  if (!apply_components(stack, target, /*clamp_at_root=*/false)) return std::nullopt;
  return join_components(stack);
}

Result<ChangeList> list_changes(const std::string& upper, const std::string& project,
                                const ChangeListLimits& limits,
                                const std::vector<std::string>& direct_dirs) {
  if (project.empty() || project.front() != '/') {
    return plain_error("list staged changes: project path '" + project + "' is not absolute");
  }
  auto upper_fd = open_directory(upper);
  if (!upper_fd) return propagate(upper_fd);
  auto project_fd = open_directory(project);
  if (!project_fd) return propagate(project_fd);
  UpperWalker walker(project, limits, direct_dirs);
  if (auto walked = walker.walk(upper_fd->get(), project_fd->get(), {}, "", 0); !walked) {
    return propagate(walked);
  }
  return walker.take();
}

Result<ChangeList> walk_written_tree(const std::string& dir, const GlobSet* persistence,
                                     const ChangeListLimits& limits) {
  auto fd = open_directory(dir);
  if (!fd) return propagate(fd);
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return sys_error("stat " + dir);
  WrittenTreeWalker walker(st.st_dev, persistence, limits);
  if (auto walked = walker.walk(fd->get(), "", dir, 0); !walked) return propagate(walked);
  return walker.take();
}

}  // namespace safeinstall::runner
