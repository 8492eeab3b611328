#include "runner/profile/carryover/carried_file.h"

#include <algorithm>

#include "runner/profile/carryover/sanitize_config.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;
using sandbox::MountKind;
using sandbox::MountSpec;

bool names_file(const std::vector<fs::path>& credentials, const fs::path& file) {
  std::error_code ec;
  return std::ranges::any_of(
      credentials, [&](const fs::path& c) { return c == file || fs::equivalent(c, file, ec); });
}

// "~/.npmrc: withheld //registry.npmjs.org/:_authToken, email, and 3 more"
std::string withheld_note(const std::string& shown, const std::vector<std::string>& keys) {
  constexpr std::size_t kNamed = 4;
  std::string note = shown + ": withheld ";
  for (std::size_t i = 0; i < keys.size() && i < kNamed; ++i)
    note += (i == 0 ? "" : ", ") + keys[i];
  if (keys.size() > kNamed) note += ", and " + std::to_string(keys.size() - kNamed) + " more";
  return note + " (--credentials FILE passes a file as it is)";
}

}  // namespace

std::vector<std::string> carry_file(Carryover& out, const fs::path& file, const std::string& target,
                                    const std::string& shown, ConfigDialect dialect,
                                    const std::vector<fs::path>& credentials) {
  if (names_file(credentials, file)) {
    out.mounts.push_back({MountKind::BindReadOnly, target, file.string()});
    out.notes.push_back(shown + ": carried over as it is (--credentials)");
    return {};
  }
  auto sanitized = sanitize_config_file(file, dialect);
  MountSpec copy{MountKind::FileContent, target};
  copy.content = std::move(sanitized.text);
  out.mounts.push_back(std::move(copy));
  if (!sanitized.dropped.empty()) {
    out.notes.push_back(withheld_note(shown, sanitized.dropped));
    out.withheld.push_back({shown, std::move(sanitized.dropped)});
  }
  return std::move(sanitized.ca_files);
}

}  // namespace safeinstall::runner
