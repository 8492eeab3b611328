#include "runner/policy/npm_lock_changes.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

namespace safeinstall::runner {
namespace {

// Ordered: packages keep the lockfile's order.
using json = nlohmann::ordered_json;

constexpr std::string_view kNodeModules = "node_modules/";

// "node_modules/a/node_modules/@s/b" -> "@s/b"
std::string name_of_path(std::string_view path) {
  auto at = path.rfind(kNodeModules);
  return std::string(at == std::string_view::npos ? path : path.substr(at + kNodeModules.size()));
}

std::set<std::string> root_dependencies(const json& packages) {
  std::set<std::string> names;
  auto root = packages.find("");
  if (root == packages.end() || !root->is_object()) return names;
  for (const char* field :
       {"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"}) {
    auto deps = root->find(field);
    if (deps == root->end() || !deps->is_object()) continue;
    for (const auto& [name, range] : deps->items()) names.insert(name);
  }
  return names;
}

}  // namespace

Result<NpmLock> read_npm_lock(std::string_view text, const std::string& source) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return plain_error(source + " is not a JSON object");
  auto packages = doc.find("packages");
  if (packages == doc.end() || !packages->is_object())
    return plain_error(source + " has no `packages` (lockfile v1 is not read)",
                       "npm 7 and later write lockfile v2/v3");
  NpmLock out;
  const auto direct_names = root_dependencies(*packages);
  std::set<std::string> seen;
  for (const auto& [path, entry] : packages->items()) {
    if (path.empty() || !entry.is_object() || !path.starts_with(kNodeModules)) continue;
    if (entry.value("link", false)) continue;  // a workspace's link, not a registry package
    auto version = entry.find("version");
    if (version == entry.end() || !version->is_string()) continue;
    PackageVersion p;
    p.ecosystem = Ecosystem::npm;
    // An alias ("x": "npm:real@1") is locked under x with the real name in `name`.
    p.name = entry.contains("name") && entry["name"].is_string() ? entry["name"].get<std::string>()
                                                                 : name_of_path(path);
    p.version = version->get<std::string>();
    p.direct = path.find(kNodeModules, kNodeModules.size()) == std::string::npos &&
               direct_names.contains(name_of_path(path));
    p.source = source;
    std::string id = p.name + "@" + p.version;
    if (entry.value("hasInstallScript", false)) out.install_scripts.insert(id);
    if (!seen.insert(id).second) {
      if (p.direct) {
        auto same = std::ranges::find_if(out.packages.packages, [&](const PackageVersion& q) {
          return q.name == p.name && q.version == p.version;
        });
        same->direct = true;
      }
      continue;
    }
    out.packages.packages.push_back(std::move(p));
  }
  return out;
}

PackageChanges npm_lock_changes(const PackageSet& before, const PackageSet& after) {
  std::map<std::string, std::vector<const PackageVersion*>> old_by_name, new_by_name;
  for (const auto& p : before.packages) old_by_name[p.name].push_back(&p);
  for (const auto& p : after.packages) new_by_name[p.name].push_back(&p);
  auto has_version = [](const std::vector<const PackageVersion*>& list, const std::string& v) {
    return std::ranges::any_of(list, [&](const PackageVersion* p) { return p->version == v; });
  };
  PackageChanges changes;
  for (const auto& p : after.packages) {
    auto old = old_by_name.find(p.name);
    if (old == old_by_name.end()) {
      changes.added.push_back(p);
    } else if (!has_version(old->second, p.version)) {
      changes.changed.push_back({*old->second.front(), p});
    }
  }
  for (const auto& p : before.packages) {
    if (!new_by_name.contains(p.name)) changes.removed.push_back(p);
  }
  return changes;
}

}  // namespace safeinstall::runner
