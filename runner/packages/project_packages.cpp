#include "runner/packages/project_packages.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <vector>

#include "runner/fs/fs_tree.h"
#include "runner/packages/lockfile.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;

// The lockfiles in `root`/`rel` and, `depth` levels further down, below it: paths relative
// to `root`. Symlinks are not followed; `dirs_left` bounds the directories read.
void collect_lockfile_paths(const std::string& root, const std::string& rel, int depth,
                            std::size_t& dirs_left, std::set<std::string>& paths) {
  if (dirs_left == 0) return;
  --dirs_left;
  std::error_code ec;
  std::vector<std::string> subdirs;
  for (fs::directory_iterator it(rel.empty() ? root : root + "/" + rel, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::string path = rel.empty() ? name : rel + "/" + name;
    if (lockfile_format(name)) {
      paths.insert(path);
    } else if (depth > 0 && !skipped_in_project_walk(name) && it->is_directory(ec) &&
               !it->is_symlink(ec)) {
      subdirs.push_back(path);
    }
  }
  std::sort(subdirs.begin(), subdirs.end());  // the same directories read whatever the order
  for (const auto& dir : subdirs) collect_lockfile_paths(root, dir, depth - 1, dirs_left, paths);
}

bool is_whiteout(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == 0;
}

// Where the file a run left at `rel` lives: the upper dir's copy, none for a whiteout (a
// 0/0 character device) of it or of a directory above it, else the project's.
std::optional<std::string> staged_path(const std::string& upper, const std::string& project,
                                       const std::string& rel) {
  if (!upper.empty()) {
    for (auto slash = rel.find('/'); slash != std::string::npos; slash = rel.find('/', slash + 1))
      if (is_whiteout(upper + "/" + rel.substr(0, slash))) return std::nullopt;
    struct stat st {};
    std::string in_upper = upper + "/" + rel;
    if (::lstat(in_upper.c_str(), &st) == 0) {
      if (S_ISCHR(st.st_mode) && st.st_rdev == 0) return std::nullopt;
      return in_upper;
    }
  }
  return project + "/" + rel;
}

std::string read_text(const std::optional<std::string>& path) {
  if (!path) return {};
  auto text = read_small_file(*path, kMaxLockfileBytes);
  return text && *text ? std::move(**text) : std::string();
}

std::string manifest_path(LockfileFormat format, const std::string& rel) {
  auto manifest_name = manifest_of(format);
  if (manifest_name.empty()) return {};
  std::string dir = fs::path(rel).parent_path().string();
  return dir.empty() ? std::string(manifest_name) : dir + "/" + std::string(manifest_name);
}

// A lockfile the run left as it was, its manifest too (neither is in the upper dir): what
// `before` read of it, packages and errors, stands for it as staged.
bool left_as_it_was(const std::string& upper, const std::string& project, const std::string& rel,
                    const std::string& manifest_rel) {
  auto unstaged = [&](const std::string& file) {
    return staged_path(upper, project, file) == project + "/" + file;
  };
  return unstaged(rel) && (manifest_rel.empty() || unstaged(manifest_rel));
}

void copy_lockfile_from(const PackageSet& before, const std::string& rel, PackageSet& set) {
  for (const auto& p : before.packages)
    if (p.source == rel) set.packages.push_back(p);
  for (const auto& e : before.errors)
    if (e.starts_with(rel + ":")) set.errors.push_back(e);
}

PackageSet read_packages(const std::string& upper, const std::string& project, int depth,
                         const PackageSet* before = nullptr) {
  std::set<std::string> paths;
  std::size_t dirs_left = kMaxDirsForLockfiles;
  collect_lockfile_paths(project, "", depth, dirs_left, paths);
  if (!upper.empty()) {
    dirs_left = kMaxDirsForLockfiles;
    collect_lockfile_paths(upper, "", depth, dirs_left, paths);
  }
  PackageSet set;
  for (const auto& rel : paths) {
    auto format = *lockfile_format(fs::path(rel).filename().string());
    std::string manifest_rel = manifest_path(format, rel);
    if (before != nullptr && left_as_it_was(upper, project, rel, manifest_rel)) {
      copy_lockfile_from(*before, rel, set);
      continue;
    }
    auto path = staged_path(upper, project, rel);
    if (!path) continue;
    auto text = read_small_file(*path, kMaxLockfileBytes);
    if (!text) {
      set.errors.push_back(rel + ": " + text.error().message());
      continue;
    }
    if (!*text) continue;
    std::string manifest;
    if (!manifest_rel.empty()) manifest = read_text(staged_path(upper, project, manifest_rel));
    auto packages = parse_lockfile(format, **text, rel, manifest);
    if (!packages) {
      set.errors.push_back(packages.error().message());
      continue;
    }
    for (auto& p : *packages) set.packages.push_back(std::move(p));
  }
  return set;
}

}  // namespace

bool skipped_in_project_walk(std::string_view name) {
  static const std::set<std::string_view> kSkipped = {
      "node_modules", ".git",   ".hg",  ".svn",  "vendor",      ".venv",           "venv",
      "__pycache__",  "target", ".tox", ".yarn", ".pnpm-store", "bower_components"};
  return kSkipped.contains(name);
}

PackageSet read_project_packages(const std::string& project_dir, int depth) {
  return read_packages({}, project_dir, depth);
}

PackageSet read_staged_packages(const std::string& upper, const std::string& project_dir,
                                const PackageSet* before) {
  return read_packages(upper, project_dir, kNestedLockfileDepth, before);
}

}  // namespace safeinstall::runner
