#pragma once
// Which package a staged file belongs to, read from where package managers put packages:
// a wheel's files are listed in its site-packages/NAME-VERSION.dist-info/RECORD, an npm
// package lives in node_modules/[@scope/]NAME with its package.json, a gem in
// .../gems/NAME-VERSION/. The writing process is not known per file; where the path names
// no package, the one package whose code ran during the install (its scripts or build) is
// named, when there was exactly one.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runner/staging/change_list.h"
#include "runner/supervise/process_tree.h"

namespace safeinstall::runner {

// Reads a project-relative file as the run left it: from the upper dir when staged there,
// else from the project. Bounded; symlinks are never followed.
class StagedFiles {
 public:
  StagedFiles(std::string upper, std::string project);
  // nullopt when the file is absent, unreadable or larger than `max_bytes`.
  std::optional<std::string> read(const std::string& path, std::size_t max_bytes) const;

 private:
  std::string upper_;
  std::string project_;
};

class PackageOwners {
 public:
  PackageOwners(const ChangeList& changes, const StagedFiles& files,
                const std::vector<ProcessRecord>& processes);

  // "name@version", or empty when nothing tells.
  std::string owner_of(const std::string& path);
  // The package of an npm package directory ("node_modules/@s/x") from its package.json.
  std::string npm_package_at(const std::string& package_dir);
  // Packages whose code ran during the run (install scripts, builds), sorted.
  const std::vector<std::string>& packages_that_ran() const { return ran_; }

 private:
  std::string wheel_owner(const std::string& path);
  void load_records();

  const ChangeList& changes_;
  const StagedFiles& files_;
  std::vector<std::string> ran_;
  bool records_loaded_ = false;
  std::map<std::string, std::string> wheel_files_;  // project-relative path → name@version
};

// The [@scope/]name directory of the npm package that holds `path` ("node_modules/a" for
// "node_modules/a/lib/x.js"), or empty; names starting with '.' (.bin, .cache) are none.
std::string npm_package_dir(const std::string& path);

// "a/b/../c" → "a/c"; nullopt when `..` climbs above the start.
std::optional<std::string> normalized(const std::string& path);

}  // namespace safeinstall::runner
