#pragma once
// `safeinstall profiles` and `safeinstall profiles show NAME`.

#include <string>

#include "runner/options.h"
#include "runner/profile/profile_layers.h"

namespace safeinstall::runner {

// The listing: every profile, what it matches and the layer files that define it.
std::string render_profile_list(const LayerDirs& dirs);

// The effective profile as TOML, every value followed by `# file:line:col`.
std::string render_profile(const ResolvedProfile& profile);

// Both commands for this invoker and project; returns the exit code.
int profiles_command(const std::string& name, const Options& options);

}  // namespace safeinstall::runner
