#include "runner/profile/profile_files.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "runner/profile/compiled_in_profiles.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kCompiledInPrefix = "built-in:";

bool readable(const fs::path& file) {
  return ::access(file.c_str(), R_OK) == 0;
}

std::optional<ProfileFile> builtin_file(const std::string& name, const LayerDirs& dirs) {
  for (const auto& dir : {dirs.builtin, dirs.installed}) {
    if (dir.empty()) continue;
    auto file = dir / (name + ".toml");
    if (readable(file)) return ProfileFile{file, false, {}};
  }
  if (!dirs.compiled_in) return std::nullopt;
  const CompiledInProfile* profile = compiled_in_profile(name);
  if (profile == nullptr) return std::nullopt;
  return ProfileFile{std::string(kCompiledInPrefix) + name + ".toml", true, profile->text};
}

void add_names_in(const fs::path& dir, std::vector<std::string>& names) {
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".toml") names.push_back(entry.path().stem().string());
  }
}

}  // namespace

std::vector<ProfileFile> profile_files(const std::string& name, const LayerDirs& dirs) {
  std::vector<ProfileFile> files;
  if (auto builtin = builtin_file(name, dirs)) files.push_back(std::move(*builtin));
  for (const auto& dir : {dirs.system, dirs.user}) {
    if (dir.empty()) continue;
    auto file = dir / (name + ".toml");
    if (readable(file)) files.push_back({file, false, {}});
  }
  return files;
}

std::string shown_origin(const ProfileFile& file) {
  return file.compiled_in ? "built-in" : file.origin.string();
}

Result<std::string> read_profile_text(const ProfileFile& file) {
  if (file.compiled_in) return std::string(file.text);
  std::ifstream in(file.origin, std::ios::binary);
  if (!in) return plain_error(file.origin.string() + ": cannot be read");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Result<ProfileLayer> load_profile_file(const ProfileFile& file, LayerKind kind) {
  if (file.compiled_in) return parse_profile_layer(file.text, file.origin, kind);
  return load_profile_layer(file.origin, kind);
}

std::vector<std::string> available_profiles(const LayerDirs& dirs) {
  std::vector<std::string> names;
  for (const auto& dir : {dirs.builtin, dirs.installed, dirs.system, dirs.user})
    add_names_in(dir, names);
  if (dirs.compiled_in) {
    for (const auto& profile : compiled_in_profiles()) names.emplace_back(profile.name);
  }
  std::ranges::sort(names);
  auto repeats = std::ranges::unique(names);
  names.erase(repeats.begin(), repeats.end());
  return names;
}

}  // namespace safeinstall::runner
