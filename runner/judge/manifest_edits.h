#pragma once
// Manifest edits an install command may make: the dependency sections of the profile's
// manifests, each dependency a registry version. Such a change counts as expected and is
// shown as a list of dependencies; any other change to a manifest stays unexpected, with
// the reason.

#include <string>
#include <string_view>
#include <vector>

#include "runner/staging/change_list.h"
#include "runner/staging/manifest_edit.h"

namespace safeinstall::runner {

// The manifest formats read: package.json, composer.json, Cargo.toml, pyproject.toml,
// requirements*.txt, Gemfile.
bool is_known_manifest(std::string_view file);

// Compares two versions of `file` (the name decides the format). An unreadable version makes
// the edit not accepted, with the parser's message.
ManifestEdit compare_manifest(const std::string& file, const std::string& before,
                              const std::string& after);

// For each modified manifest among `changes` (top-level regular files named in `manifests`),
// reads the project's and the staged version and compares them; an accepted edit's change
// becomes expected. Returns every edit looked at.
std::vector<ManifestEdit> accept_dependency_edits(ChangeList& changes, const std::string& upper,
                                                  const std::string& project,
                                                  const std::vector<std::string>& manifests);

}  // namespace safeinstall::runner
