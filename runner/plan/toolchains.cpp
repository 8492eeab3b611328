#include "runner/plan/toolchains.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "sandbox/base/path_text.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> split_path(const std::string& path_variable) {
  std::vector<std::string> dirs;
  std::stringstream in(path_variable);
  std::string dir;
  while (std::getline(in, dir, ':')) {
    if (!dir.empty()) dirs.push_back(dir);
  }
  return dirs;
}

std::string canonical_or_empty(const std::string& path) {
  std::error_code ec;
  auto resolved = fs::canonical(path, ec);
  return ec ? std::string() : resolved.string();
}

// Both the spelled and the resolved form: a PATH entry may be a symlink into a toolchain.
std::vector<std::string> places_used(const std::string& path_variable,
                                     const std::string& resolved_command) {
  std::vector<std::string> places;
  for (const auto& dir : split_path(path_variable)) {
    places.push_back(dir);
    if (auto real = canonical_or_empty(dir); !real.empty()) places.push_back(real);
  }
  if (!resolved_command.empty()) {
    places.push_back(resolved_command);
    if (auto real = canonical_or_empty(resolved_command); !real.empty()) places.push_back(real);
  }
  return places;
}

bool group_is_used(const ToolchainGroup& group, const std::string& home,
                   const std::vector<std::string>& places) {
  return std::ranges::any_of(group.dirs, [&](const std::string& dir) {
    std::string full = home + "/" + dir;
    std::string real = canonical_or_empty(full);
    return std::ranges::any_of(places, [&](const std::string& place) {
      return is_within(place, full) || (!real.empty() && is_within(place, real));
    });
  });
}

}  // namespace

std::string resolve_command(const std::string& command, const std::string& path_variable) {
  if (command.find('/') != std::string::npos) return fs::absolute(command).lexically_normal();
  for (const auto& dir : split_path(path_variable)) {
    std::string candidate = dir + "/" + command;
    if (::access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate)) return candidate;
  }
  return {};
}

std::vector<VisiblePath> toolchain_paths(const std::string& home, const std::string& path_variable,
                                         const std::string& resolved_command,
                                         const std::vector<ToolchainGroup>& groups) {
  std::vector<VisiblePath> visible;
  if (home.empty() || home == "/") return visible;
  auto places = places_used(path_variable, resolved_command);
  for (const auto& group : groups) {
    if (!group_is_used(group, home, places)) continue;
    for (const auto& dir : group.dirs) {
      std::string full = home + "/" + dir;
      std::string real = canonical_or_empty(full);
      if (real.empty()) continue;
      visible.push_back({full, real, group.name + " toolchain"});
    }
  }
  std::string command_real = canonical_or_empty(resolved_command);
  bool covered = std::ranges::any_of(visible, [&](const VisiblePath& v) {
    return is_within(resolved_command, v.path) || is_within(command_real, v.source);
  });
  if (!command_real.empty() && !covered && is_within(command_real, home))
    visible.push_back({command_real, command_real, "the command itself"});
  return visible;
}

}  // namespace safeinstall::runner
