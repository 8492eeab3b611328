#pragma once
// The shim files `safeinstall setup` writes, one per tool: the tool's install forms and
// options from the profiles whose [match] commands name it, in the format safeinstall-shim
// reads (runner/shim/shim_table.h).

#include <string>
#include <vector>

#include "runner/profile/profile_layers.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

// The tools setup covers, in the order the aliases are written.
const std::vector<std::string>& shimmed_tools();

struct ShimSpec {
  std::string tool;                          // "pip3"
  std::vector<std::string> install;          // "install", "mod download"
  std::vector<std::string> global;           // "-g"
  std::vector<std::string> value_options;    // "--prefix": its value is the next word
  std::vector<std::string> option_prefixes;  // "+" (`cargo +nightly build`)
  bool always = false;
  bool bare = false;
};

// What the profiles say about `tool`: every profile with a one-word [match] command form
// that names it (pip3 → pip) adds its lists (yarn: both yarn profiles).
Result<ShimSpec> shim_spec(const std::string& tool, const LayerDirs& dirs);

// The text of a shim file: `interpreter` on its #! line (safeinstall-shim), `safeinstall` the
// binary that runs the installs.
std::string shim_file_text(const ShimSpec& spec, const std::string& interpreter,
                           const std::string& safeinstall);

// Where safeinstall-shim is for the running safeinstall: beside it (the build tree), or
// ../libexec/safeinstall/ (installed).
Result<std::string> shim_interpreter(const std::string& safeinstall);

// Writes DIR/TOOL for every spec (mode 0755), replacing older shim files but never a file that
// is not one. DIR is created when missing. Returns the files written.
Result<std::vector<std::string>> write_shims(const std::string& dir,
                                             const std::vector<ShimSpec>& specs,
                                             const std::string& interpreter,
                                             const std::string& safeinstall);

// Removes the shim files of the covered tools from DIR (other files stay); the directory too
// when that leaves it empty. Returns the files removed.
Result<std::vector<std::string>> remove_shims(const std::string& dir);

}  // namespace safeinstall::runner
