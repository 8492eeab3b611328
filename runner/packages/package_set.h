#pragma once
// The packages a project's lockfiles (and manifests) name, per ecosystem, and what a run
// changed in them: the vocabulary the package policy (known-bad, release age, allow-lists,
// typosquats) and `safeinstall scan` share.

#include <string>
#include <string_view>
#include <vector>

namespace safeinstall::runner {

// Named as OSV names them (https://ossf.github.io/osv-schema/#affectedpackage-field).
enum class Ecosystem { npm, pypi, crates_io, go, rubygems, packagist };
std::string_view to_string(
    Ecosystem ecosystem);  // "npm", "PyPI", "crates.io", "Go", "RubyGems", "Packagist"

struct PackageVersion {
  Ecosystem ecosystem = Ecosystem::npm;
  std::string name;     // as the registry spells it (npm scopes included: "@scope/name")
  std::string version;  // exact, as locked
  bool direct = false;  // named by the manifest, not only pulled in by another package
  std::string source;   // the lockfile it came from, project-relative ("package-lock.json")
};

// Every package version one project locks, in lockfile order; duplicates (the same
// name@version at several places) are kept once.
struct PackageSet {
  std::vector<PackageVersion> packages;
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

}  // namespace safeinstall::runner
