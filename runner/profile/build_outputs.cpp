#include "runner/profile/build_outputs.h"

#include "runner/fs/path_text.h"

namespace safeinstall::runner {

std::optional<std::string> output_option_of(std::string_view entry) {
  if (!entry.starts_with("${-") || !entry.ends_with('}') || entry.size() < 5) return std::nullopt;
  return std::string(entry.substr(2, entry.size() - 3));
}

std::optional<std::string> option_value(std::span<const std::string> argv,
                                        std::string_view option) {
  std::optional<std::string> value;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const auto& word = argv[i];
    if (word == "--") break;
    if (word == option && i + 1 < argv.size()) {
      value = argv[++i];
    } else if (word.size() > option.size() + 1 && word.starts_with(option) &&
               word[option.size()] == '=') {
      value = word.substr(option.size() + 1);
    }
  }
  return value;
}

namespace {

// The globs for the path an option names, relative to the project — the directories the
// command makes on the way too (`-o bin/app`: bin, bin/app) — or none when it lies outside
// it, is the project itself, or holds glob characters (it would stand for more).
std::vector<std::string> globs_for_path(const std::string& value, const std::string& project,
                                        const std::string& cwd) {
  if (value.empty() || value.find_first_of("*?[]\\") != std::string::npos) return {};
  std::string full = lexically_normal(value, cwd);
  if (!is_within(full, project) || full == lexically_normal(project)) return {};
  std::string relative = full.substr(lexically_normal(project).size());
  if (relative.starts_with('/')) relative.erase(0, 1);
  if (relative.empty()) return {};
  std::vector<std::string> globs;
  for (auto slash = relative.find('/'); slash != std::string::npos;
       slash = relative.find('/', slash + 1))
    globs.push_back(relative.substr(0, slash));
  // `-o bin/` is a directory the command fills.
  globs.push_back(value.ends_with('/') ? relative + "/**" : relative);
  return globs;
}

}  // namespace

std::vector<std::string> build_output_globs(const std::vector<std::string>& entries,
                                            std::span<const std::string> argv,
                                            const std::string& project, const std::string& cwd) {
  std::vector<std::string> globs;
  for (const auto& entry : entries) {
    auto option = output_option_of(entry);
    if (!option) {
      globs.push_back(entry);
      continue;
    }
    auto value = option_value(argv, *option);
    if (!value) continue;
    auto more = globs_for_path(*value, project, cwd);
    globs.insert(globs.end(), more.begin(), more.end());
  }
  return globs;
}

}  // namespace safeinstall::runner
