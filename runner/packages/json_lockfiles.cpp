// package-lock.json / npm-shrinkwrap.json (lockfileVersion 1, 2, 3) and composer.lock.
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "runner/packages/lockfile.h"
#include "runner/packages/lockfile_text.h"

namespace safeinstall::runner {
namespace {

using nlohmann::json;

Result<json> parse_json(std::string_view text, const std::string& source,
                        const json::parser_callback_t& keep = nullptr) {
  try {
    auto parsed = json::parse(text, keep);
    if (!parsed.is_object()) return lockfile_error(source, 1, 1, "expected a JSON object");
    return parsed;
  } catch (const json::parse_error& e) {
    auto [line, column] = line_column_at(text, e.byte > 0 ? e.byte - 1 : 0);
    return lockfile_error(source, line, column, "not valid JSON");
  } catch (const json::exception& e) {
    // A number too large for any type, and the like.
    return lockfile_error(source, 0, 0, std::string("not usable JSON: ") + e.what());
  }
}

std::string string_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "node_modules/a/node_modules/@s/b" → "@s/b"; empty for a workspace folder.
std::string name_from_path(const std::string& path) {
  static constexpr std::string_view kMarker = "node_modules/";
  auto at = path.rfind(kMarker);
  if (at == std::string::npos) return {};
  return path.substr(at + kMarker.size());
}

// "npm:real-name@1.2.3" (an aliased dependency) → {real-name, 1.2.3}.
void resolve_alias(std::string& name, std::string& version) {
  if (!version.starts_with("npm:")) return;
  std::string spec = version.substr(4);
  auto at = spec.rfind('@');
  if (at == std::string::npos || at == 0) return;
  name = spec.substr(0, at);
  version = spec.substr(at + 1);
}

std::set<std::string> root_dependency_names(const json& root) {
  std::set<std::string> names;
  for (const char* section :
       {"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"}) {
    auto it = root.find(section);
    if (it == root.end() || !it->is_object()) continue;
    for (const auto& [name, _] : it->items()) names.insert(name);
  }
  return names;
}

// lockfileVersion 2 and 3: "packages", keyed by install path, "" the project itself.
std::vector<PackageVersion> read_packages_map(const json& packages, const std::string& source) {
  std::set<std::string> direct;
  if (auto root = packages.find(""); root != packages.end() && root->is_object())
    direct = root_dependency_names(*root);
  std::vector<PackageVersion> out;
  for (const auto& [path, entry] : packages.items()) {
    if (path.empty() || !entry.is_object()) continue;
    if (auto link = entry.find("link");
        link != entry.end() && link->is_boolean() && link->get<bool>())
      continue;
    std::string name = string_at(entry, "name");
    std::string from_path = name_from_path(path);
    if (from_path.empty()) continue;  // a workspace's own folder
    if (name.empty()) name = from_path;
    std::string version = string_at(entry, "version");
    resolve_alias(name, version);
    if (version.empty()) continue;
    bool top_level = path == "node_modules/" + from_path;
    auto scripts = entry.find("hasInstallScript");
    bool install_script = scripts != entry.end() && scripts->is_boolean() && scripts->get<bool>();
    out.push_back({Ecosystem::npm, name, version, top_level && direct.contains(from_path), source,
                   install_script});
  }
  return out;
}

// lockfileVersion 1: nested "dependencies"; direct ones are named by package.json.
void read_dependencies_tree(const json& dependencies, const std::set<std::string>& direct, bool top,
                            const std::string& source, std::vector<PackageVersion>& out,
                            int depth) {
  if (depth > 200) return;  // a hostile lockfile nests without end; real trees are shallow
  for (const auto& [key, entry] : dependencies.items()) {
    if (!entry.is_object()) continue;
    std::string name = key;
    std::string version = string_at(entry, "version");
    resolve_alias(name, version);
    if (!version.empty() && !version.starts_with("file:") && !version.starts_with("link:"))
      out.push_back({Ecosystem::npm, name, version, top && direct.contains(key), source});
    if (auto nested = entry.find("dependencies"); nested != entry.end() && nested->is_object())
      read_dependencies_tree(*nested, direct, false, source, out, depth + 1);
  }
}

}  // namespace

// What the readers below never look at is dropped as it is parsed: a 2,000-package lock's
// integrity hashes, URLs, engines and per-package dependency ranges would be most of its
// tree in memory (≈ 10 MiB for a 1.7 MB file), held while a run judges and promotes.
class NpmLockKeys {
 public:
  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    if (event != json::parse_event_t::key) return true;
    const auto& key = parsed.get_ref<const std::string&>();
    if (depth == 1) {
      top_ = key;
      // lockfileVersion 2 keeps the old tree after "packages" for npm 6; only one is read.
      if (key == "packages") seen_packages_ = true;
      return !(key == "dependencies" && seen_packages_);
    }
    if (depth == 2) entry_ = key;
    // A package's own keys: in "packages" one level down; in lockfileVersion 1's nested
    // "dependencies" every other level (the levels between are package names, which may
    // be "os" or "bin" too).
    bool entry_key = top_ == "packages"       ? depth == 3
                     : top_ == "dependencies" ? depth >= 3 && depth % 2 == 1
                                              : false;
    if (!entry_key) return true;
    if (kUnread.contains(key)) return false;
    // In "packages" only the project's own entry ("") names dependencies that are read.
    bool ranges = key == "dependencies" || key == "devDependencies" ||
                  key == "optionalDependencies" || key == "peerDependencies";
    return !(ranges && top_ == "packages" && !entry_.empty());
  }

 private:
  inline static const std::set<std::string, std::less<>> kUnread = {
      "resolved", "integrity", "engines", "license", "funding",    "bin",
      "requires", "cpu",       "os",      "libc",    "deprecated", "peerDependenciesMeta"};
  std::string top_, entry_;
  bool seen_packages_ = false;
};

Result<std::vector<PackageVersion>> parse_npm_lock(std::string_view text, const std::string& source,
                                                   std::string_view manifest) {
  auto lock = parse_json(text, source, NpmLockKeys{});
  if (!lock) return propagate(lock);
  if (auto packages = lock->find("packages"); packages != lock->end()) {
    if (!packages->is_object())
      return lockfile_error(source, 0, 0, "\"packages\" must be an object");
    return read_packages_map(*packages, source);
  }
  std::vector<PackageVersion> out;
  if (auto deps = lock->find("dependencies"); deps != lock->end()) {
    if (!deps->is_object())
      return lockfile_error(source, 0, 0, "\"dependencies\" must be an object");
    auto direct = json_manifest_names(
        manifest, {"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"});
    read_dependencies_tree(*deps, direct, true, source, out, 0);
  }
  return out;
}

Result<std::vector<PackageVersion>> parse_composer_lock(std::string_view text,
                                                        const std::string& source,
                                                        std::string_view composer_json) {
  auto lock = parse_json(text, source);
  if (!lock) return propagate(lock);
  auto direct = json_manifest_names(composer_json, {"require", "require-dev"});
  std::vector<PackageVersion> out;
  for (const char* section : {"packages", "packages-dev"}) {
    auto list = lock->find(section);
    if (list == lock->end() || list->is_null()) continue;
    if (!list->is_array())
      return lockfile_error(source, 0, 0, "\"" + std::string(section) + "\" must be an array");
    for (const auto& entry : *list) {
      if (!entry.is_object()) continue;
      std::string name = string_at(entry, "name");
      std::string version = string_at(entry, "version");
      if (name.empty() || version.empty()) continue;
      out.push_back({Ecosystem::packagist, name, version, direct.contains(name), source});
    }
  }
  return out;
}

}  // namespace safeinstall::runner
