#pragma once
// What an install command did to the project's manifest (package.json, Cargo.toml…): the
// dependencies it added, changed or removed, and whether anything outside the dependency
// sections changed too. `npm install lodash` edits `dependencies`; a postinstall that adds a
// `prepare` script edits something else, and is not let through with it.

#include <string>
#include <vector>

namespace safeinstall::runner {

struct DependencyChange {
  std::string section;  // "dependencies", "dev-dependencies", "project.dependencies"…
  std::string name;
  std::string from;  // empty: added
  std::string to;    // empty: removed
};

struct ManifestEdit {
  std::string file;  // project-relative
  std::vector<DependencyChange> dependencies;
  // Empty when only dependency sections changed, each to a registry version; otherwise why
  // the edit is not a dependency edit ("scripts changed", "x points at file:../x").
  std::string outside;

  bool accepted() const { return outside.empty(); }
};

}  // namespace safeinstall::runner
