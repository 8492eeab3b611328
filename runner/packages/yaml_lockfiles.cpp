// yarn.lock (classic v1, a format of its own; berry, YAML) and pnpm-lock.yaml (v5, v6, v9).
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <set>

#include "runner/packages/lockfile.h"
#include "runner/packages/lockfile_text.h"

namespace safeinstall::runner {
namespace {

Result<YAML::Node> parse_yaml(std::string_view text, const std::string& source) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsMap()) return lockfile_error(source, 1, 1, "expected a YAML mapping");
    return root;
  } catch (const YAML::Exception& e) {
    return lockfile_error(source, static_cast<std::size_t>(e.mark.line + 1),
                          static_cast<std::size_t>(e.mark.column + 1), e.msg);
  }
}

std::string scalar(const YAML::Node& node) {
  return node && node.IsScalar() ? node.Scalar() : std::string();
}

// "name@range" → name; a scoped name keeps its leading "@".
std::string name_of_spec(std::string_view spec) {
  auto at = spec.find('@', 1);
  return std::string(spec.substr(0, at));
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return std::string(s);
}

std::string unquote(std::string_view s) {
  std::string t = trim(s);
  if (t.size() >= 2 && t.front() == '"' && t.back() == '"') return t.substr(1, t.size() - 2);
  return t;
}

// Classic yarn.lock: an entry header at column 0 (`"a@^1", a@^1.1:`), its fields indented
// by two spaces (`  version "1.2.3"`), deeper lines for its dependencies.
Result<std::vector<PackageVersion>> parse_yarn_classic(std::string_view text,
                                                       const std::string& source,
                                                       const std::set<std::string>& direct) {
  std::vector<PackageVersion> out;
  std::string entry_name;
  std::size_t header_line = 0;
  bool has_version = false;
  std::size_t line_no = 0;
  auto close_entry = [&]() -> Result<> {
    if (!entry_name.empty() && !has_version)
      return lockfile_error(source, header_line, 1,
                            "entry for `" + entry_name + "` has no version");
    return {};
  };
  while (!text.empty()) {
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#' || trim(line).empty()) continue;
    if (line.front() != ' ') {
      if (auto ok = close_entry(); !ok) return propagate(ok);
      if (line.back() != ':')
        return lockfile_error(source, line_no, line.size(), "expected `:` after the entry's specs");
      std::string first = unquote(line.substr(0, line.find(',')));
      if (!first.empty() && first.back() == ':') first.pop_back();
      first = unquote(first);
      entry_name = name_of_spec(first);
      if (entry_name.empty())
        return lockfile_error(source, line_no, 1, "entry without a package name");
      header_line = line_no;
      has_version = false;
      continue;
    }
    if (line.starts_with("  version ") || line.starts_with("  version:")) {
      if (entry_name.empty())
        return lockfile_error(source, line_no, 3, "`version` outside an entry");
      std::string version = unquote(line.substr(10));
      if (version.empty()) return lockfile_error(source, line_no, 11, "empty version");
      out.push_back({Ecosystem::npm, entry_name, version, direct.contains(entry_name), source});
      has_version = true;
    }
  }
  if (auto ok = close_entry(); !ok) return propagate(ok);
  return out;
}

// Berry: YAML; keys "a@npm:^1, a@npm:^1.1", `resolution: "a@npm:1.2.3"`, the project
// itself and its workspaces as "@workspace:" resolutions.
Result<std::vector<PackageVersion>> parse_yarn_berry(std::string_view text,
                                                     const std::string& source,
                                                     const std::set<std::string>& direct) {
  auto root = parse_yaml(text, source);
  if (!root) return propagate(root);
  std::vector<PackageVersion> out;
  for (const auto& item : *root) {
    std::string key = scalar(item.first);
    if (key == "__metadata" || !item.second.IsMap()) continue;
    std::string resolution = scalar(item.second["resolution"]);
    std::string version = scalar(item.second["version"]);
    if (resolution.find("@workspace:") != std::string::npos || version.empty()) continue;
    std::string name = name_of_spec(resolution.empty() ? key : resolution);
    if (name.empty()) continue;
    out.push_back({Ecosystem::npm, name, version, direct.contains(name), source});
  }
  return out;
}

// pnpm's package keys: v5 "/name/1.2.3_peer@1", v6 "/name@1.2.3(peer@1)", v9 "name@1.2.3".
std::optional<std::pair<std::string, std::string>> split_pnpm_key(std::string key, bool v5) {
  if (key.starts_with("/")) key.erase(0, 1);
  if (auto paren = key.find('('); paren != std::string::npos) key.resize(paren);
  std::size_t cut = v5 ? key.rfind('/') : key.rfind('@');
  if (v5) {
    // A peer suffix carries '@' and '/' of its own ("_@types+node@18"): cut it first.
    if (auto underscore =
            key.find('_', key.find('/', key.starts_with("@") ? key.find('/') + 1 : 0));
        underscore != std::string::npos)
      key.resize(underscore);
    cut = key.rfind('/');
  }
  if (cut == std::string::npos || cut == 0 || cut + 1 >= key.size()) return std::nullopt;
  return std::pair{key.substr(0, cut), key.substr(cut + 1)};
}

void add_dependency_names(const YAML::Node& holder, std::set<std::string>& names) {
  if (!holder || !holder.IsMap()) return;
  for (const char* section : {"dependencies", "devDependencies", "optionalDependencies"}) {
    const YAML::Node deps = holder[section];
    if (!deps || !deps.IsMap()) continue;
    for (const auto& dep : deps) names.insert(scalar(dep.first));
  }
}

}  // namespace

Result<std::vector<PackageVersion>> parse_yarn_lock(std::string_view text,
                                                    const std::string& source,
                                                    std::string_view manifest) {
  auto direct = json_manifest_names(
      manifest, {"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"});
  if (text.find("\n__metadata:") != std::string_view::npos || text.starts_with("__metadata:"))
    return parse_yarn_berry(text, source, direct);
  return parse_yarn_classic(text, source, direct);
}

Result<std::vector<PackageVersion>> parse_pnpm_lock(std::string_view text,
                                                    const std::string& source) {
  auto root = parse_yaml(text, source);
  if (!root) return propagate(root);
  std::string version_text = scalar((*root)["lockfileVersion"]);
  double lock_version = 0;
  std::from_chars(version_text.data(), version_text.data() + version_text.size(), lock_version);
  bool v5 = lock_version > 0 && lock_version < 6;
  std::set<std::string> direct;
  add_dependency_names(*root, direct);
  if (const YAML::Node importers = (*root)["importers"]; importers && importers.IsMap()) {
    for (const auto& importer : importers) add_dependency_names(importer.second, direct);
  }
  std::vector<PackageVersion> out;
  const YAML::Node packages = (*root)["packages"];
  if (!packages) return out;
  if (!packages.IsMap()) return lockfile_error(source, 0, 0, "`packages` must be a mapping");
  for (const auto& item : packages) {
    auto split = split_pnpm_key(scalar(item.first), v5);
    if (!split) continue;
    auto [name, version] = *split;
    if (item.second.IsMap()) {
      // Packages not from the registry (tarballs, git) name themselves.
      if (auto own = scalar(item.second["name"]); !own.empty()) name = own;
      if (auto own = scalar(item.second["version"]); !own.empty()) version = own;
    }
    out.push_back({Ecosystem::npm, name, version, direct.contains(name), source});
  }
  return out;
}

}  // namespace safeinstall::runner
