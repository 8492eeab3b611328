#pragma once
// Where a profile's files are, layer by layer. The built-in layer of profile NAME is the first
// of $SAFEINSTALL_PROFILE_DIR/NAME.toml and <prefix>/share/safeinstall/profiles/NAME.toml that
// exists, else the copy of profiles/NAME.toml compiled into the binary; then come
// /etc/safeinstall/NAME.toml and ~/.config/safeinstall/NAME.toml, which add to it.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "runner/profile/profile_schema.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

struct LayerDirs {
  std::filesystem::path builtin;    // its files replace the compiled-in ones
  std::filesystem::path installed;  // the same, after `builtin` (share/safeinstall/profiles)
  bool compiled_in = false;         // the profiles compiled into the binary, last
  std::filesystem::path system;     // /etc/safeinstall
  std::filesystem::path user;       // ~/.config/safeinstall
  std::filesystem::path project;    // the project directory (its .safeinstall.toml)
};

// One profile's file at one layer.
struct ProfileFile {
  // The path, or for the compiled-in copy "built-in:NAME.toml", which errors and
  // `profiles show` give as the place of a value ("built-in:npm.toml:3:5").
  std::filesystem::path origin;
  bool compiled_in = false;
  std::string_view text;  // the compiled-in copy's text; a file on disk is read when loaded
};

// The files of profile `name`, lowest layer first; empty when there is no such profile.
std::vector<ProfileFile> profile_files(const std::string& name, const LayerDirs& dirs);

// What `profiles` lists as a file's place: "built-in" or the path.
std::string shown_origin(const ProfileFile& file);

Result<std::string> read_profile_text(const ProfileFile& file);

Result<ProfileLayer> load_profile_file(const ProfileFile& file, LayerKind kind);

// Every profile name of every layer (base included), sorted.
std::vector<std::string> available_profiles(const LayerDirs& dirs);

}  // namespace safeinstall::runner
