#include "runner/base_profile.h"

#include <unistd.h>

#include <charconv>
#include <set>
#include <toml++/toml.h>

namespace safeinstall::runner {
namespace {

using sandbox::plain_error;
using sandbox::Result;

std::string where(const std::filesystem::path& file, const toml::source_region& region) {
  return file.string() + ":" + std::to_string(region.begin.line) + ":" +
         std::to_string(region.begin.column);
}

Result<std::vector<std::string>> string_array(const std::filesystem::path& file,
                                              const toml::node& node, const std::string& key) {
  const auto* array = node.as_array();
  if (array == nullptr)
    return plain_error(where(file, node.source()) + ": `" + key +
                       "` must be an array of strings, like [\"a\", \"b\"]");
  std::vector<std::string> values;
  for (const auto& item : *array) {
    const auto* text = item.as_string();
    if (text == nullptr)
      return plain_error(where(file, item.source()) + ": every element of `" + key +
                         "` must be a string");
    values.push_back(text->get());
  }
  return values;
}

Result<> reject_unknown_keys(const std::filesystem::path& file, const toml::table& table,
                             const std::string& section, const std::set<std::string>& known) {
  for (const auto& [key, node] : table) {
    if (known.contains(std::string(key.str()))) continue;
    std::string expected;
    for (const auto& k : known) expected += (expected.empty() ? "" : ", ") + k;
    return plain_error(where(file, key.source()) + ": unknown key `" + std::string(key.str()) +
                       "` in " + section + " (expected one of: " + expected + ")");
  }
  return {};
}

Result<const toml::table*> section(const std::filesystem::path& file, const toml::table& root,
                                   const char* name) {
  const toml::node* node = root.get(name);
  if (node == nullptr) return static_cast<const toml::table*>(nullptr);
  if (!node->is_table())
    return plain_error(where(file, node->source()) + ": `" + name + "` must be a table ([" +
                       name + "])");
  return node->as_table();
}

Result<std::uint64_t> size_value(const std::filesystem::path& file, const toml::node& node,
                                 const std::string& key) {
  if (const auto* integer = node.as_integer(); integer != nullptr && integer->get() > 0)
    return static_cast<std::uint64_t>(integer->get());
  if (const auto* text = node.as_string(); text != nullptr) {
    auto parsed = parse_size(text->get());
    if (parsed) return parsed;
  }
  return plain_error(where(file, node.source()) + ": `" + key +
                     "` must be a size such as \"512M\", \"2G\" or a byte count");
}

Result<> load_env(const std::filesystem::path& file, const toml::table& env, BaseProfile& out) {
  if (auto r = reject_unknown_keys(file, env, "[env]", {"allow", "secret"}); !r) return r;
  if (const auto* n = env.get("allow")) {
    auto v = string_array(file, *n, "env.allow");
    if (!v) return std::unexpected(v.error());
    out.env_allow = *v;
  }
  if (const auto* n = env.get("secret")) {
    auto v = string_array(file, *n, "env.secret");
    if (!v) return std::unexpected(v.error());
    out.env_secret = *v;
  }
  return {};
}

Result<ToolchainGroup> load_toolchain(const std::filesystem::path& file, const toml::node& node) {
  const auto* table = node.as_table();
  if (table == nullptr)
    return plain_error(where(file, node.source()) +
                       ": each [[filesystem.toolchain]] must be a table with `name` and `dirs`");
  if (auto r = reject_unknown_keys(file, *table, "[[filesystem.toolchain]]", {"name", "dirs"}); !r)
    return std::unexpected(r.error());
  ToolchainGroup group;
  const auto* name = table->get_as<std::string>("name");
  if (name == nullptr)
    return plain_error(where(file, node.source()) + ": toolchain needs `name = \"...\"`");
  group.name = name->get();
  const toml::node* dirs = table->get("dirs");
  if (dirs == nullptr)
    return plain_error(where(file, node.source()) + ": toolchain `" + group.name +
                       "` needs `dirs = [...]`");
  auto v = string_array(file, *dirs, "dirs");
  if (!v) return std::unexpected(v.error());
  for (const auto& dir : *v) {
    if (dir.empty() || dir.front() == '/' || dir.find("..") != std::string::npos)
      return plain_error(where(file, dirs->source()) + ": toolchain dir `" + dir +
                         "` must be a path relative to the home directory");
  }
  group.dirs = *v;
  return group;
}

Result<> load_filesystem(const std::filesystem::path& file, const toml::table& fs,
                         BaseProfile& out) {
  if (auto r = reject_unknown_keys(file, fs, "[filesystem]",
                                   {"hide", "hide_user_homes", "home_size", "tmp_size", "toolchain"});
      !r)
    return r;
  if (const auto* n = fs.get("hide")) {
    auto v = string_array(file, *n, "filesystem.hide");
    if (!v) return std::unexpected(v.error());
    out.hide = *v;
  }
  if (const auto* n = fs.get("hide_user_homes")) {
    if (!n->is_boolean())
      return plain_error(where(file, n->source()) + ": `hide_user_homes` must be true or false");
    out.hide_user_homes = n->as_boolean()->get();
  }
  for (const char* key : {"home_size", "tmp_size"}) {
    if (const auto* n = fs.get(key)) {
      auto v = size_value(file, *n, key);
      if (!v) return std::unexpected(v.error());
      (std::string(key) == "home_size" ? out.home_size : out.tmp_size) = *v;
    }
  }
  if (const auto* n = fs.get("toolchain")) {
    const auto* array = n->as_array();
    if (array == nullptr)
      return plain_error(where(file, n->source()) + ": use [[filesystem.toolchain]] entries");
    for (const auto& item : *array) {
      auto group = load_toolchain(file, item);
      if (!group) return std::unexpected(group.error());
      out.toolchains.push_back(*group);
    }
  }
  return {};
}

Result<> load_limits(const std::filesystem::path& file, const toml::table& limits,
                     BaseProfile& out) {
  if (auto r = reject_unknown_keys(file, limits, "[limits]", {"open_files", "processes"}); !r)
    return r;
  for (const char* key : {"open_files", "processes"}) {
    const toml::node* n = limits.get(key);
    if (n == nullptr) continue;
    const auto* integer = n->as_integer();
    if (integer == nullptr || integer->get() <= 0)
      return plain_error(where(file, n->source()) + ": `" + key + "` must be a positive integer");
    (std::string(key) == "open_files" ? out.open_files : out.processes) =
        static_cast<std::uint64_t>(integer->get());
  }
  return {};
}

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
  if (suffix == "k" || suffix == "K") scale = 1ULL << 10;
  else if (suffix == "m" || suffix == "M") scale = 1ULL << 20;
  else if (suffix == "g" || suffix == "G") scale = 1ULL << 30;
  else if (!suffix.empty()) return plain_error("size `" + text + "` has an unknown unit (use k, M or G)");
  if (value == 0) return plain_error("size `" + text + "` must be greater than zero");
  if (value > UINT64_MAX / scale) return plain_error("size `" + text + "` is too large");
  return value * scale;
}

Result<BaseProfile> load_base_profile(const std::filesystem::path& file) {
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    return plain_error(where(file, e.source()) + ": " + std::string(e.description()));
  }
  BaseProfile out;
  out.source = file;
  if (auto r = reject_unknown_keys(file, root, "the base profile", {"env", "filesystem", "limits"});
      !r)
    return std::unexpected(r.error());
  auto env = section(file, root, "env");
  if (!env) return std::unexpected(env.error());
  if (*env != nullptr) {
    if (auto r = load_env(file, **env, out); !r) return std::unexpected(r.error());
  }
  auto fs = section(file, root, "filesystem");
  if (!fs) return std::unexpected(fs.error());
  if (*fs != nullptr) {
    if (auto r = load_filesystem(file, **fs, out); !r) return std::unexpected(r.error());
  }
  auto limits = section(file, root, "limits");
  if (!limits) return std::unexpected(limits.error());
  if (*limits != nullptr) {
    if (auto r = load_limits(file, **limits, out); !r) return std::unexpected(r.error());
  }
  return out;
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
