#include "runner/record/written_areas.h"

#include <sys/stat.h>

#include "runner/fs/path_globs.h"
#include "runner/fs/path_text.h"

namespace safeinstall::runner {
namespace {

// Mount targets of this run relative to the area's root, e.g. ".cargo" in the home.
std::vector<std::string> mount_points_in(const std::string& root, const RunPlan& plan) {
  std::vector<std::string> inside;
  for (const auto& m : plan.spec.mounts) {
    if (m.target != root && is_within(m.target, root))
      inside.push_back(m.target.substr(root.size() + 1));
  }
  return inside;
}

bool only_holds_mount_points(const WrittenEntry& entry, const std::vector<std::string>& points) {
  if (!S_ISDIR(entry.mode)) return false;
  for (const auto& point : points) {
    if (is_within(point, entry.path)) return true;
  }
  return false;
}

}  // namespace

bool is_persistence_path(const std::string& path) {
  return persistence_paths().matches(path);
}

std::string_view written_type(std::uint32_t mode) {
  if (S_ISREG(mode)) return "file";
  if (S_ISDIR(mode)) return "dir";
  if (S_ISLNK(mode)) return "symlink";
  return "special";
}

std::vector<std::string_view> written_flags(const WrittenEntry& entry) {
  std::vector<std::string_view> flags;
  if (S_ISREG(entry.mode) && (entry.mode & 0111) != 0) flags.push_back("executable");
  if ((entry.mode & S_ISUID) != 0) flags.push_back("setuid");
  if ((entry.mode & S_ISGID) != 0 && !S_ISDIR(entry.mode)) flags.push_back("setgid");
  if (!S_ISREG(entry.mode) && !S_ISDIR(entry.mode) && !S_ISLNK(entry.mode))
    flags.push_back("special-file");
  if (entry.area == "home" && is_persistence_path(entry.path)) flags.push_back("persistence");
  return flags;
}

std::vector<WrittenEntry> written_in_area(const std::vector<WrittenEntry>& written,
                                          const std::string& area, const RunPlan& plan) {
  std::string root = area == "home" ? plan.home : "/tmp";
  auto points = mount_points_in(root, plan);
  std::vector<WrittenEntry> listed;
  for (const auto& entry : written) {
    if (entry.area == area && !only_holds_mount_points(entry, points)) listed.push_back(entry);
  }
  return listed;
}

}  // namespace safeinstall::runner
