#include "runner/packages/project_packages.h"

#include <sys/stat.h>

#include <filesystem>
#include <optional>
#include <set>

#include "runner/fs/fs_tree.h"
#include "runner/packages/lockfile.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;

// The top-level names in `dir` that name a lockfile or manifest.
void collect_lockfile_names(const std::string& dir, std::set<std::string>& names) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (lockfile_format(name)) names.insert(name);
  }
}

// Where the file a run left at `name` lives: the upper dir's copy, none for a whiteout (a
// 0/0 character device), else the project's.
std::optional<std::string> staged_path(const std::string& upper, const std::string& project,
                                       const std::string& name) {
  if (!upper.empty()) {
    struct stat st {};
    std::string in_upper = upper + "/" + name;
    if (::lstat(in_upper.c_str(), &st) == 0) {
      if (S_ISCHR(st.st_mode) && st.st_rdev == 0) return std::nullopt;
      return in_upper;
    }
  }
  return project + "/" + name;
}

std::string read_text(const std::optional<std::string>& path) {
  if (!path) return {};
  auto text = read_small_file(*path, kMaxLockfileBytes);
  return text && *text ? std::move(**text) : std::string();
}

PackageSet read_packages(const std::string& upper, const std::string& project) {
  std::set<std::string> names;
  collect_lockfile_names(project, names);
  if (!upper.empty()) collect_lockfile_names(upper, names);
  PackageSet set;
  for (const auto& name : names) {
    auto format = *lockfile_format(name);
    auto path = staged_path(upper, project, name);
    if (!path) continue;
    auto text = read_small_file(*path, kMaxLockfileBytes);
    if (!text) {
      set.errors.push_back(name + ": " + text.error().message());
      continue;
    }
    if (!*text) continue;
    std::string manifest;
    if (auto manifest_name = manifest_of(format); !manifest_name.empty())
      manifest = read_text(staged_path(upper, project, std::string(manifest_name)));
    auto packages = parse_lockfile(format, **text, name, manifest);
    if (!packages) {
      set.errors.push_back(packages.error().message());
      continue;
    }
    for (auto& p : *packages) set.packages.push_back(std::move(p));
  }
  return set;
}

}  // namespace

PackageSet read_project_packages(const std::string& project_dir) {
  return read_packages({}, project_dir);
}

PackageSet read_staged_packages(const std::string& upper, const std::string& project_dir) {
  return read_packages(upper, project_dir);
}

}  // namespace safeinstall::runner
