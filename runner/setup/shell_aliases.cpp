#include "runner/setup/shell_aliases.h"

namespace safeinstall::runner {
namespace {

// 'text' for sh and fish alike: a quote inside ends the string, adds an escaped quote and
// starts a new one ('\'' in sh; fish reads \' inside single quotes, so that form differs).
std::string single_quoted(const std::string& text, Shell shell) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += shell == Shell::fish ? "\\'" : "'\\''";
    else if (c == '\\' && shell == Shell::fish)
      out += "\\\\";
    else
      out += c;
  }
  return out + "'";
}

std::string leaf(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

const char* name_of(Shell shell) {
  switch (shell) {
    case Shell::bash:
      return "bash";
    case Shell::zsh:
      return "zsh";
    case Shell::fish:
      return "fish";
  }
  return "bash";
}

std::optional<Shell> shell_named(const std::string& name) {
  for (Shell s : {Shell::bash, Shell::zsh, Shell::fish})
    if (name == name_of(s)) return s;
  return std::nullopt;
}

Result<Shell> shell_from(const std::string& shell_variable) {
  if (auto shell = shell_named(leaf(shell_variable))) return *shell;
  return plain_error("cannot tell the shell from SHELL=" +
                         (shell_variable.empty() ? std::string("(unset)") : shell_variable),
                     "name it: safeinstall setup --shell bash|zsh|fish");
}

std::string rc_file_of(Shell shell, const ShellPlaces& places) {
  switch (shell) {
    case Shell::bash:
      return places.home + "/.bashrc";
    case Shell::zsh:
      return (places.zdotdir.empty() ? places.home : places.zdotdir) + "/.zshrc";
    case Shell::fish:
      return (places.xdg_config_home.starts_with('/') ? places.xdg_config_home
                                                      : places.home + "/.config") +
             "/fish/conf.d/safeinstall.fish";
  }
  return {};
}

bool rc_file_is_own(Shell shell) {
  return shell == Shell::fish;
}

std::string alias_block(Shell shell, const std::vector<std::string>& tools,
                        const std::string& shim_dir) {
  std::string block =
      "# Installs by these tools run in safeinstall's sandbox; their other calls run as usual.\n";
  for (const auto& tool : tools) {
    std::string shim = single_quoted(shim_dir + "/" + tool, shell);
    if (shell == Shell::fish) {
      block += "function " + tool + " --description " +
               single_quoted(tool + ": installs through safeinstall", shell) + "\n    " + shim +
               " $argv\nend\n";
    } else {
      block += "alias " + tool + "=" + shim + "\n";
    }
  }
  return block;
}

}  // namespace safeinstall::runner
