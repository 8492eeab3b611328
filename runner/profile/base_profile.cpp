#include "runner/profile/base_profile.h"

#include <unistd.h>

#include <charconv>

#include "runner/profile/profile_layers.h"

namespace safeinstall::runner {
namespace {


}  // namespace

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

Result<std::uint64_t> parse_size(const std::string& text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data())
    return plain_error("size `" + text + "` must look like 512M or 2G");
  std::string suffix(end, text.data() + text.size());
  std::uint64_t scale = 1;
  if (suffix == "k" || suffix == "K")
    scale = 1ULL << 10;
  else if (suffix == "m" || suffix == "M")
    scale = 1ULL << 20;
  else if (suffix == "g" || suffix == "G")
    scale = 1ULL << 30;
  else if (!suffix.empty())
    return plain_error("size `" + text + "` has an unknown unit (use k, M or G)");
  if (value == 0) return plain_error("size `" + text + "` must be greater than zero");
  if (value > UINT64_MAX / scale) return plain_error("size `" + text + "` is too large");
  return value * scale;
}

Result<BaseProfile> load_base_profile(const std::filesystem::path& file) {
  // One schema for every profile file: base.toml is read like the others.
  auto layer = load_profile_layer(file, LayerKind::Profile);
  if (!layer) return propagate(layer);
  ResolvedProfile profile;
  profile.name = file.stem().string();
  profile.files = {file};
  merge_layer(profile.merged, *layer, true);
  return profile.base();
}

Result<BaseProfile> load_default_base_profile() {
  std::string searched;
  for (const auto& dir : profile_search_path()) {
    auto file = dir / "base.toml";
    if (::access(file.c_str(), R_OK) == 0) return load_base_profile(file);
    searched += "\n  " + file.string();
  }
  return plain_error("no base profile found; looked in:" + searched,
                     "set SAFEINSTALL_PROFILE_DIR to the directory holding base.toml");
}

}  // namespace safeinstall::runner
