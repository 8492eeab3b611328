#pragma once
// A shim file: what `safeinstall setup` writes for one tool (npm, pip, cargo…). Its first
// line runs safeinstall-shim as the interpreter, so the kernel hands the file's path over;
// the rest says which tool it stands for, where safeinstall is, and which of the tool's calls
// install (from the profile's [match] table):
//
//   #!/usr/libexec/safeinstall/safeinstall-shim
//   # safeinstall shim: ...
//   tool npm
//   safeinstall /usr/bin/safeinstall
//   install ci
//   install mod download
//   global -g
//   value-option --prefix
//   option-prefix +
//   always
//   bare
//
// Read without allocating: every value is a view into the file's text.

#include <array>
#include <cstddef>
#include <string_view>

namespace safeinstall::runner {

// The second line of every shim file starts with this: a tool found on PATH that has it is
// a shim too, never the real tool.
inline constexpr std::string_view kShimMarker = "# safeinstall shim";
// A shim file is small; one larger than this is not one.
inline constexpr std::size_t kMaxShimFileBytes = 16384;
inline constexpr std::size_t kMaxInstallForms = 128;
inline constexpr std::size_t kMaxGlobalFlags = 16;
inline constexpr std::size_t kMaxValueOptions = 64;
inline constexpr std::size_t kMaxOptionPrefixes = 4;

struct ShimTable {
  std::string_view tool;         // "npm", "pip3": the command the shim stands for
  std::string_view safeinstall;  // the absolute path of the safeinstall binary
  std::array<std::string_view, kMaxInstallForms> install{};  // "ci", "mod download"
  std::size_t install_count = 0;
  // Options that make a call act outside the project (`npm i -g`): such a call runs the tool
  // itself, as it would without safeinstall.
  std::array<std::string_view, kMaxGlobalFlags> global{};
  std::size_t global_count = 0;
  // The profiles' [match] value_options and option_prefixes: `npm --prefix web ci` installs.
  std::array<std::string_view, kMaxValueOptions> value_options{};
  std::size_t value_option_count = 0;
  std::array<std::string_view, kMaxOptionPrefixes> option_prefixes{};
  std::size_t option_prefix_count = 0;
  bool always = false;  // every call installs, except --version and --help (npx)
  bool bare = false;    // a call without a subcommand installs (`yarn`, `bundle`)
};

// The table in a shim file's text, or false when the text is not a shim file: no `#!` line,
// no marker, an unknown line, no tool or safeinstall, or more forms than the table holds.
bool parse_shim_table(std::string_view text, ShimTable& out);

// Whether the start of a file is a shim file's: `#!` on the first line, the marker on the
// second.
bool looks_like_shim(std::string_view head);

}  // namespace safeinstall::runner
