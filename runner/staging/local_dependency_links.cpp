#include "runner/staging/local_dependency_links.h"

#include <algorithm>
#include <filesystem>

#include "sandbox/base/path_text.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;

// Lexical, like the escape check itself: the link is judged by its text, never followed.
std::string absolute_target(const std::string& project, const Change& link) {
  fs::path target(link.symlink_target());
  if (target.is_absolute()) return target.lexically_normal().string();
  fs::path dir = fs::path(project) / fs::path(link.path.view()).parent_path();
  return (dir / target).lexically_normal().string();
}

}  // namespace

std::size_t accept_local_dependency_links(ChangeList& changes, const std::string& project,
                                          const std::vector<std::string>& local_dependencies) {
  if (local_dependencies.empty()) return 0;
  std::size_t accepted = 0;
  for (auto& change : changes.changes) {
    if (!change.flags.symlink_escape || change.type != EntryType::symlink) continue;
    std::string target = absolute_target(project, change);
    if (!target.empty() && target.back() == '/') target.pop_back();
    bool declared = std::ranges::any_of(
        local_dependencies, [&](const std::string& dir) { return is_within(target, dir); });
    if (!declared) continue;
    change.flags.symlink_escape = false;
    ++accepted;
  }
  return accepted;
}

}  // namespace safeinstall::runner
