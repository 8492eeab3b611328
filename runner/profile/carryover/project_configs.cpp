// cover_project_configs (declared in runner/profile/tool_config_carryover.h): the project's own
// tool configuration, which the command reads through the project overlay, covered by sanitized
// copies. Each copy is a read-only mount on top of the overlay: the real file is not
// changed, the overlay's upper dir never sees a write (so nothing is staged or promoted), and
// the command cannot remove or rename the mount point (EBUSY).

#include <algorithm>
#include <optional>

#include "runner/profile/carryover/carried_file.h"
#include "runner/profile/tool_config_carryover.h"
#include "sandbox/base/path_text.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;

// The file the tool would read at `relative`, followed through symlinks, when it is a regular
// file inside the project. One that leads outside is not the project's to cover: it is
// visible (or hidden) at its own place like every other host file.
std::optional<fs::path> project_file(const fs::path& project, const char* relative) {
  std::error_code ec;
  auto real = fs::canonical(project / relative, ec);
  if (ec || !is_within(real.string(), project.string()) || !fs::is_regular_file(real, ec))
    return std::nullopt;
  return real;
}

bool applies(const CarriedConfig& config, const fs::path& project) {
  if (config.dialect != ConfigDialect::ComposerAuth) return true;
  std::error_code ec;
  return fs::exists(project / "composer.json", ec);
}

}  // namespace

Carryover cover_project_configs(const fs::path& project, const std::vector<fs::path>& credentials) {
  Carryover out;
  for (const auto& config : kProjectConfigs) {
    auto file = project_file(project, config.path);
    if (!file || !applies(config, project)) continue;
    // Two names for one file (a symlink beside its target) need one cover.
    if (std::ranges::any_of(out.mounts, [&](const auto& m) { return m.target == file->string(); }))
      continue;
    std::string shown = file->lexically_relative(project).string() + " (in the project)";
    carry_file(out, *file, file->string(), shown, config.dialect, credentials);
  }
  return out;
}

}  // namespace safeinstall::runner
