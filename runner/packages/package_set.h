#pragma once
// The packages a project's lockfiles (and manifests) name, per ecosystem, and what a run
// changed in them: the vocabulary the package policy (known-bad, release age, allow-lists,
// typosquats) and `safeinstall scan` share.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace safeinstall::runner {

// Named as OSV names them (https://ossf.github.io/osv-schema/#affectedpackage-field).
enum class Ecosystem { npm, pypi, crates_io, go, rubygems, packagist };
std::string_view to_string(
    Ecosystem ecosystem);  // "npm", "PyPI", "crates.io", "Go", "RubyGems", "Packagist"
std::optional<Ecosystem> ecosystem_from(std::string_view osv_name);

struct PackageVersion {
  Ecosystem ecosystem = Ecosystem::npm;
  std::string name;     // as the registry spells it (npm scopes included: "@scope/name")
  std::string version;  // exact, as locked
  bool direct = false;  // named by the manifest, not only pulled in by another package
  std::string source;   // the lockfile it came from, project-relative ("package-lock.json")
};

// "name@version" as findings and the receipt name a package.
std::string display_name(const PackageVersion& package);

// Every package version one project locks, in lockfile order; duplicates (the same
// name@version at several places) are kept once.
struct PackageSet {
  std::vector<PackageVersion> packages;
  // Lockfiles that could not be read: "package-lock.json:3:7: ..." each; their packages are
  // missing from `packages`.
  std::vector<std::string> errors;
};

struct VersionChange {
  PackageVersion from;
  PackageVersion to;
};

// What a run did to the locked packages: new names, names gone, versions moved.
struct PackageChanges {
  std::vector<PackageVersion> added;
  std::vector<PackageVersion> removed;
  std::vector<VersionChange> changed;

  bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};

// Packages are matched by (ecosystem, name). A name locked at several versions (npm nests
// copies) counts as changed only where a version was added or dropped: the versions only
// `after` has are paired with those only `before` has, in order; unpaired ones are added or
// removed. Results are sorted by ecosystem, name, version.
PackageChanges diff_packages(const PackageSet& before, const PackageSet& after);

// The versions a run brought in: every added one and the new side of every change.
std::vector<PackageVersion> new_versions(const PackageChanges& changes);

}  // namespace safeinstall::runner
