#include "runner/setup/shims.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "runner/fs/fs_tree.h"
#include "runner/profile/command_matcher.h"
#include "runner/shim/shim_table.h"
#include "runner/shim/tool_lookup.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;

bool names_tool(const SourcedStrings& commands, const std::string& tool) {
  return std::ranges::any_of(commands, [&](const auto& form) {
    return form.value.find(' ') == std::string::npos && is_name_or_versioned(tool, form.value);
  });
}

void add_values(std::vector<std::string>& into, const SourcedStrings& from) {
  for (const auto& v : from)
    if (std::ranges::find(into, v.value) == into.end()) into.push_back(v.value);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

const std::vector<std::string>& shimmed_tools() {
  static const std::vector<std::string> tools = {"npm",   "npx", "yarn",    "pnpm", "pip",
                                                 "pip3",  "uv",  "poetry",  "gem",  "bundle",
                                                 "cargo", "go",  "composer"};
  return tools;
}

Result<ShimSpec> shim_spec(const std::string& tool, const LayerDirs& dirs) {
  ShimSpec spec{tool, {}, {}, {}, {}, false, false};
  for (const auto& name : available_profiles(dirs)) {
    auto profile = resolve_named_profile(name, {}, dirs);
    if (!profile) return propagate(profile);
    const auto& m = profile->merged;
    if (!names_tool(m.commands, tool)) continue;
    add_values(spec.install, m.install);
    add_values(spec.global, m.global);
    add_values(spec.value_options, m.value_options);
    add_values(spec.option_prefixes, m.option_prefixes);
    spec.always = spec.always || names_tool(m.always, tool);
    spec.bare = spec.bare || names_tool(m.bare, tool);
  }
  return spec;
}

std::string shim_file_text(const ShimSpec& spec, const std::string& interpreter,
                           const std::string& safeinstall) {
  std::string text = "#!" + interpreter + "\n";
  text += std::string(kShimMarker) + " for " + spec.tool +
          ": written by `safeinstall setup`, removed by `safeinstall setup --remove`.\n"
          "# The calls below install and run in safeinstall's sandbox; every other call runs " +
          spec.tool + " itself.\n";
  text += "tool " + spec.tool + "\n";
  text += "safeinstall " + safeinstall + "\n";
  for (const auto& form : spec.install) text += "install " + form + "\n";
  for (const auto& option : spec.global) text += "global " + option + "\n";
  for (const auto& option : spec.value_options) text += "value-option " + option + "\n";
  for (const auto& prefix : spec.option_prefixes) text += "option-prefix " + prefix + "\n";
  if (spec.always) text += "always\n";
  if (spec.bare) text += "bare\n";
  return text;
}

Result<std::string> shim_interpreter(const std::string& safeinstall) {
  fs::path dir = fs::path(safeinstall).parent_path();
  for (const auto& candidate :
       {dir / "safeinstall-shim", dir.parent_path() / "libexec/safeinstall/safeinstall-shim"}) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.lexically_normal().string();
  }
  return plain_error("safeinstall-shim is not installed beside " + safeinstall,
                     "install it (cmake --install) or build the safeinstall-shim target");
}

Result<std::vector<std::string>> write_shims(const std::string& dir,
                                             const std::vector<ShimSpec>& specs,
                                             const std::string& interpreter,
                                             const std::string& safeinstall) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return plain_error("create " + dir + ": " + ec.message());
  // Every file is checked before any is written: a refusal leaves the directory as it was.
  for (const auto& spec : specs) {
    std::string path = dir + "/" + spec.tool;
    if (exists(path) && !is_shim_file(path.c_str()))
      return plain_error(path + " exists and is not a safeinstall shim",
                         "choose an empty directory for the shims, or move that file away");
  }
  std::vector<std::string> written;
  for (const auto& spec : specs) {
    std::string path = dir + "/" + spec.tool;
    if (auto ok =
            write_file_atomically(path, shim_file_text(spec, interpreter, safeinstall), false);
        !ok)
      return propagate(ok);
    if (::chmod(path.c_str(), 0755) != 0) return sys_error("chmod " + path);
    written.push_back(path);
  }
  return written;
}

Result<std::vector<std::string>> remove_shims(const std::string& dir) {
  std::vector<std::string> removed;
  for (const auto& tool : shimmed_tools()) {
    std::string path = dir + "/" + tool;
    if (!is_shim_file(path.c_str())) continue;
    if (::unlink(path.c_str()) != 0) return sys_error("remove " + path);
    removed.push_back(path);
  }
  std::error_code ec;
  if (fs::is_directory(dir, ec) && fs::is_empty(dir, ec)) fs::remove(dir, ec);
  return removed;
}

}  // namespace safeinstall::runner
