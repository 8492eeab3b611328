#pragma once
// Profiles in layers: built-in (compiled in, or replaced by a file on disk) < /etc/safeinstall/
// < ~/.config/safeinstall/ < the project's .safeinstall.toml < command-line flags. A profile's
// own layers come after those of the profile it extends (`extends = "base"`). Lists add up
// (hosts, globs, env names); single values and [env.set] entries are replaced by the later
// layer. Which profile a command gets: --profile, else the project's `profile = "..."`, else
// the profile whose [match] fits argv best, else base (nothing allowed on the network).

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runner/profile/base_profile.h"
#include "runner/profile/profile_files.h"
#include "runner/profile/profile_schema.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

// The directories for this invoker: $SAFEINSTALL_PROFILE_DIR and installed_profile_dir()
// over the compiled-in profiles, $SAFEINSTALL_SYSTEM_DIR or
// /etc/safeinstall, $XDG_CONFIG_HOME/safeinstall or HOME/.config/safeinstall.
Result<LayerDirs> default_layer_dirs(const std::vector<std::string>& env,
                                     const std::string& project);

struct ResolvedProfile {
  std::string name;
  std::string reason;             // "matched `npm`", "--profile npm", "no profile matches `sh`"
  bool fallback = false;          // no profile matched: base, with a notice
  std::size_t matched_words = 0;  // argv words the match consumed (`python -m pip`: 3)
  std::vector<std::filesystem::path> files;  // every layer file, in the order applied
  ProfileLayer merged;                       // every value with the place it was set

  bool is_install(std::span<const std::string> argv) const;
  bool is_build(std::span<const std::string> argv) const;  // a [match] build form
  BaseProfile base() const;                                // the fields the run plan reads
};

// Values given on the command line, as the last layer.
struct FlagLayer {
  std::optional<std::string> profile;
  std::vector<std::string> allow_hosts;
  std::vector<std::string> expect;
  std::optional<std::string> scripts;
  std::vector<std::string> credentials;
};

// One base profile file (base.toml), read with the schema of every profile file; errors name
// file:line:col and the expected form.
Result<BaseProfile> load_base_profile(const std::filesystem::path& file);

// The built-in base profile: base.toml in $SAFEINSTALL_PROFILE_DIR or installed_profile_dir(),
// else the compiled-in one.
Result<BaseProfile> load_default_base_profile();

// Merges `from` into `into`: lists appended (repeats dropped), single values replaced.
void merge_layer(ProfileLayer& into, const ProfileLayer& from, bool with_match);

Result<ResolvedProfile> resolve_profile(std::span<const std::string> argv, const FlagLayer& flags,
                                        const LayerDirs& dirs);

// A named profile with the project and flag layers, as `profiles show NAME` prints it.
Result<ResolvedProfile> resolve_named_profile(const std::string& name, const FlagLayer& flags,
                                              const LayerDirs& dirs);

}  // namespace safeinstall::runner
