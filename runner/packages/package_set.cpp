#include "runner/packages/package_set.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace safeinstall::runner {

std::string_view to_string(Ecosystem ecosystem) {
  switch (ecosystem) {
    case Ecosystem::npm:
      return "npm";
    case Ecosystem::pypi:
      return "PyPI";
    case Ecosystem::crates_io:
      return "crates.io";
    case Ecosystem::go:
      return "Go";
    case Ecosystem::rubygems:
      return "RubyGems";
    case Ecosystem::packagist:
      return "Packagist";
  }
  return "npm";
}

std::optional<Ecosystem> ecosystem_from(std::string_view osv_name) {
  for (auto e : {Ecosystem::npm, Ecosystem::pypi, Ecosystem::crates_io, Ecosystem::go,
                 Ecosystem::rubygems, Ecosystem::packagist}) {
    if (to_string(e) == osv_name) return e;
  }
  return std::nullopt;
}

std::string display_name(const PackageVersion& package) {
  return package.name + "@" + package.version;
}

namespace {

using NameKey = std::pair<Ecosystem, std::string>;

std::map<NameKey, std::vector<const PackageVersion*>> by_name(const PackageSet& set) {
  std::map<NameKey, std::vector<const PackageVersion*>> out;
  for (const auto& p : set.packages) {
    auto& versions = out[{p.ecosystem, p.name}];
    bool seen = std::ranges::any_of(
        versions, [&](const PackageVersion* v) { return v->version == p.version; });
    if (!seen) versions.push_back(&p);
  }
  return out;
}

// The versions of `side` that `other` does not have.
std::vector<const PackageVersion*> only_in(const std::vector<const PackageVersion*>& side,
                                           const std::vector<const PackageVersion*>* other) {
  std::vector<const PackageVersion*> out;
  for (const auto* p : side) {
    bool shared = other != nullptr && std::ranges::any_of(*other, [&](const PackageVersion* o) {
                    return o->version == p->version;
                  });
    if (!shared) out.push_back(p);
  }
  return out;
}

}  // namespace

PackageChanges diff_packages(const PackageSet& before, const PackageSet& after) {
  auto old_names = by_name(before);
  auto new_names = by_name(after);
  PackageChanges changes;
  for (const auto& [key, versions] : new_names) {
    auto old = old_names.find(key);
    const auto* old_versions = old == old_names.end() ? nullptr : &old->second;
    auto gained = only_in(versions, old_versions);
    auto lost = old_versions == nullptr ? std::vector<const PackageVersion*>()
                                        : only_in(*old_versions, &versions);
    std::size_t paired = std::min(gained.size(), lost.size());
    for (std::size_t i = 0; i < paired; ++i) changes.changed.push_back({*lost[i], *gained[i]});
    for (std::size_t i = paired; i < gained.size(); ++i) changes.added.push_back(*gained[i]);
    for (std::size_t i = paired; i < lost.size(); ++i) changes.removed.push_back(*lost[i]);
  }
  for (const auto& [key, versions] : old_names) {
    if (new_names.contains(key)) continue;
    for (const auto* p : versions) changes.removed.push_back(*p);
  }
  auto order = [](const PackageVersion& a, const PackageVersion& b) {
    return std::tie(a.ecosystem, a.name, a.version) < std::tie(b.ecosystem, b.name, b.version);
  };
  std::ranges::sort(changes.added, order);
  std::ranges::sort(changes.removed, order);
  std::ranges::sort(changes.changed, [&](const VersionChange& a, const VersionChange& b) {
    return order(a.to, b.to);
  });
  return changes;
}

std::vector<PackageVersion> new_versions(const PackageChanges& changes) {
  std::vector<PackageVersion> out = changes.added;
  for (const auto& c : changes.changed) out.push_back(c.to);
  return out;
}

}  // namespace safeinstall::runner
