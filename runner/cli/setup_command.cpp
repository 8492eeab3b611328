#include "runner/cli/setup_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "runner/cli/cli.h"
#include "runner/exit_codes.h"
#include "runner/fs/user_dirs.h"
#include "runner/messages.h"
#include "runner/plan/environment.h"
#include "runner/profile/profile_layers.h"
#include "runner/setup/rc_block.h"
#include "runner/setup/shell_aliases.h"
#include "runner/setup/shims.h"
#include "sandbox/base/env_vars.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDescription =
    "Sets up aliases (or, with --ci, PATH shims) for npm, npx, yarn, pnpm, pip, pip3, uv,\n"
    "poetry, gem, bundle, cargo, go and composer. Through them only installs run in the\n"
    "sandbox, quietly (-q): the install subcommands of each tool's profile ([match] install:\n"
    "npm ci, pip install, cargo build, go mod download...). Every other call (npm --version,\n"
    "npm run dev, npm publish, npm i -g) runs the real tool as it is.\n\n"
    "  safeinstall setup [--shell bash|zsh|fish]\n"
    "        aliases in ~/.bashrc, ~/.zshrc or fish's conf.d/safeinstall.fish, between\n"
    "        marker lines (the shell from $SHELL)\n"
    "  safeinstall setup --ci DIR\n"
    "        one shim per tool in DIR; put DIR first on PATH (CI scripts expand no aliases)\n"
    "  safeinstall setup [--shell SHELL | --ci DIR] --remove\n"
    "        take them out again (without --shell or --ci: from every shell)";

std::string absolute(const std::string& path) {
  std::error_code ec;
  auto made = fs::absolute(path, ec);
  return ec ? path : made.lexically_normal().string();
}

ShellPlaces shell_places() {
  return {getenv_string("HOME"), getenv_string("XDG_CONFIG_HOME"), getenv_string("ZDOTDIR")};
}

// Where the aliases' shim files live: $XDG_DATA_HOME/safeinstall/shims.
Result<std::string> alias_shim_dir() {
  return user_dir({"SAFEINSTALL_SHIM_DIR", "XDG_DATA_HOME", ".local/share", "safeinstall/shims",
                   "the aliases' shims"});
}

Result<std::string> own_binary() {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return plain_error("cannot tell where safeinstall is: /proc/self/exe: " + ec.message());
  return exe.string();
}

Result<std::vector<ShimSpec>> all_specs() {
  auto dirs = default_layer_dirs(current_environment(), "");
  if (!dirs) return propagate(dirs);
  std::vector<ShimSpec> specs;
  for (const auto& tool : shimmed_tools()) {
    auto spec = shim_spec(tool, *dirs);
    if (!spec) return propagate(spec);
    specs.push_back(std::move(*spec));
  }
  return specs;
}

Result<std::vector<std::string>> write_all_shims(const std::string& dir) {
  auto safeinstall = own_binary();
  if (!safeinstall) return propagate(safeinstall);
  auto interpreter = shim_interpreter(*safeinstall);
  if (!interpreter) return propagate(interpreter);
  auto specs = all_specs();
  if (!specs) return propagate(specs);
  return write_shims(dir, *specs, *interpreter, *safeinstall);
}

void print_sandboxed(const std::vector<ShimSpec>& specs) {
  std::printf("sandboxed through them (every other call runs the tool itself):\n");
  for (const auto& spec : specs) {
    std::string forms = spec.bare ? "no subcommand" : "";
    for (const auto& form : spec.install) forms += (forms.empty() ? "" : ", ") + form;
    if (spec.always) forms = "every call but --version and --help";
    std::string global;
    for (const auto& option : spec.global) global += (global.empty() ? "" : " ") + option;
    std::printf("  %-8s %s%s\n", spec.tool.c_str(), forms.c_str(),
                global.empty() ? "" : ("  (not with " + global + ")").c_str());
  }
}

int setup_ci(const std::string& given_dir) {
  std::string dir = absolute(given_dir);
  auto written = write_all_shims(dir);
  if (!written) return fail(written.error().message());
  std::printf("safeinstall setup: wrote %zu shims to %s\n", written->size(), dir.c_str());
  if (auto specs = all_specs()) print_sandboxed(*specs);
  if (!getenv_string("GITHUB_ACTIONS").empty() || !getenv_string("GITHUB_PATH").empty()) {
    std::printf("put them first on PATH for the next steps:\n  echo %s >> \"$GITHUB_PATH\"\n",
                dir.c_str());
  } else {
    std::printf("put them first on PATH:\n  export PATH=%s:\"$PATH\"\n", dir.c_str());
  }
  return exit_code::kSuccess;
}

int remove_ci(const std::string& given_dir) {
  std::string dir = absolute(given_dir);
  auto removed = remove_shims(dir);
  if (!removed) return fail(removed.error().message());
  std::printf("safeinstall setup: removed %zu shims from %s\n", removed->size(), dir.c_str());
  return exit_code::kSuccess;
}

int setup_aliases(Shell shell) {
  auto shim_dir = alias_shim_dir();
  if (!shim_dir) return fail(shim_dir.error().message());
  auto places = shell_places();
  if (!places.home.starts_with('/')) return fail("HOME is not set to an absolute path");
  auto written = write_all_shims(*shim_dir);
  if (!written) return fail(written.error().message());
  std::string rc = rc_file_of(shell, places);
  std::string block = alias_block(shell, shimmed_tools(), *shim_dir);
  auto change = write_block(rc, block);
  if (!change) return fail(change.error().message());
  std::printf("safeinstall setup: %s %s:\n%s\n%s%s\n",
              *change == RcChange::unchanged ? "already set up in" : "wrote to", rc.c_str(),
              std::string(kBlockBegin).c_str(), block.c_str(), std::string(kBlockEnd).c_str());
  std::printf("shims for the aliases: %s\n", shim_dir->c_str());
  if (auto specs = all_specs()) print_sandboxed(*specs);
  std::printf("open a new shell, or: source %s\n", rc.c_str());
  return exit_code::kSuccess;
}

int remove_aliases(const std::string& shell_name) {
  auto places = shell_places();
  if (!places.home.starts_with('/')) return fail("HOME is not set to an absolute path");
  std::vector<Shell> shells = {Shell::bash, Shell::zsh, Shell::fish};
  if (!shell_name.empty()) shells = {*shell_named(shell_name)};
  for (Shell shell : shells) {
    std::string rc = rc_file_of(shell, places);
    auto change = remove_block(rc, rc_file_is_own(shell));
    if (!change) return fail(change.error().message());
    if (*change == RcChange::removed)
      std::printf("safeinstall setup: removed the aliases from %s\n", rc.c_str());
  }
  // The shims go once no shell's rc file uses them.
  for (Shell shell : {Shell::bash, Shell::zsh, Shell::fish}) {
    auto used = file_has_block(rc_file_of(shell, places));
    if (!used) return fail(used.error().message());
    if (*used) return exit_code::kSuccess;
  }
  auto shim_dir = alias_shim_dir();
  if (!shim_dir) return fail(shim_dir.error().message());
  auto removed = remove_shims(*shim_dir);
  if (!removed) return fail(removed.error().message());
  if (!removed->empty())
    std::printf("safeinstall setup: removed the shims in %s\n", shim_dir->c_str());
  return exit_code::kSuccess;
}

}  // namespace

void define_setup_options(CLI::App& sub, SetupRequest& setup) {
  auto* shell = sub.add_option("--shell", setup.shell, "bash, zsh or fish (default: $SHELL)")
                    ->type_name("SHELL")
                    ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  sub.add_option("--ci", setup.ci_dir, "Write PATH shims into DIR instead of aliases")
      ->type_name("DIR")
      ->excludes(shell);
  sub.add_flag("--remove", setup.remove, "Remove the aliases (or the shims in DIR)");
}

CommandLine parse_setup_subcommand(CommandLine cl, const std::vector<std::string>& words) {
  CLI::App sub(kDescription, "safeinstall setup");
  sub.formatter(std::make_shared<CLI::Formatter>());
  define_setup_options(sub, cl.setup);
  std::vector<std::string> reversed(words.rbegin(), words.rend() - 1);
  try {
    sub.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return exit_with(exit_code::kSuccess, sub.help(), false);
  } catch (const CLI::ParseError& e) {
    return exit_with(exit_code::kSafeinstallFailed,
                     "safeinstall setup: " + std::string(e.what()) + "\n\n" + sub.help(), true);
  }
  cl.action = CommandLine::Action::Setup;
  return cl;
}

int setup_command(const SetupRequest& request) {
  if (!request.ci_dir.empty())
    return request.remove ? remove_ci(request.ci_dir) : setup_ci(request.ci_dir);
  if (request.remove) return remove_aliases(request.shell);
  auto shell = request.shell.empty() ? shell_from(getenv_string("SHELL"))
                                     : Result<Shell>(*shell_named(request.shell));
  if (!shell) return fail(shell.error().message());
  return setup_aliases(*shell);
}

}  // namespace safeinstall::runner
