#include "runner/profile/base_profile.h"

#include <cstdlib>

namespace safeinstall::runner {

std::vector<std::filesystem::path> profile_search_path() {
  std::vector<std::filesystem::path> dirs;
  if (const char* env = std::getenv("SAFEINSTALL_PROFILE_DIR"); env != nullptr && *env != '\0')
    dirs.emplace_back(env);
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back(exe.parent_path().parent_path() / "share/safeinstall/profiles");
  dirs.emplace_back(SAFEINSTALL_SOURCE_PROFILES);
  return dirs;
}

}  // namespace safeinstall::runner
