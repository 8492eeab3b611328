#include "runner/profile/base_profile.h"

namespace safeinstall::runner {

std::filesystem::path installed_profile_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return exe.parent_path().parent_path() / "share/safeinstall/profiles";
}

}  // namespace safeinstall::runner
