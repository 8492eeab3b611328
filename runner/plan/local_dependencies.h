#pragma once
// Local dependencies outside the project: directories a manifest names by path
// (`"sib": "file:../sib"` or `link:` in package.json, `path = "../x"` in Cargo.toml, a
// composer.json repository of type "path", `-e ../x` in requirements.txt). The package
// manager reads them, so the sandbox shows them read-only at the same path; a manifest never
// makes anything writable, and never shows the home itself, a directory holding the home or
// the project, or a hidden (secret) path.

#include <string>
#include <vector>

#include "sandbox/base/error.h"

namespace safeinstall::runner {

// The paths the project's manifests name, as written, resolved against the project (or the
// manifest's directory). Unreadable or malformed manifests name nothing here: the package
// manager reports them itself.
std::vector<std::string> declared_local_dependencies(const std::string& project);

// The canonical directories to show for `declared` (existing, outside the project), or an
// error naming the manifest entry that points at the home, a directory above the home or the
// project, or a path under one of `secrets`.
Result<std::vector<std::string>> local_dependency_dirs(const std::vector<std::string>& declared,
                                                       const std::string& project,
                                                       const std::string& home,
                                                       const std::vector<std::string>& secrets);

}  // namespace safeinstall::runner
