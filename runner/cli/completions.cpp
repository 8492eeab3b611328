#include "runner/cli/completions.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "runner/messages.h"
#include "runner/plan/environment.h"
#include "runner/profile/profile_layers.h"

namespace safeinstall::runner {
namespace {

// What an option's value completes to.
enum class ValueKind { none, profile, directory, file };

ValueKind value_kind(const OptionSpec& option) {
  if (option.value.empty()) return ValueKind::none;
  if (std::ranges::find(option.names, "--profile") != option.names.end()) return ValueKind::profile;
  if (option.value == "DIR") return ValueKind::directory;
  if (option.value == "FILE" || option.value == "PATH") return ValueKind::file;
  return ValueKind::none;
}

std::string joined(const std::vector<std::string>& words, const std::string& separator = " ") {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : separator) + w;
  return out;
}

std::vector<std::string> all_names(const std::vector<OptionSpec>& options) {
  std::vector<std::string> names;
  for (const auto& o : options) names.insert(names.end(), o.names.begin(), o.names.end());
  return names;
}

// A help text on one line, up to its first "; " and at most about 90 characters: what zsh
// and fish show beside a candidate.
std::string summary_of(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\n') c = ' ';
    if (c == ' ' && (out.ends_with(";") || out.size() > 90)) break;
    out += c;
  }
  while (!out.empty() &&
         (out.back() == '.' || out.back() == ';' || out.back() == ' ' || out.back() == ','))
    out.pop_back();
  return out;
}

const CommandSpec& main_spec(const std::vector<CommandSpec>& specs) {
  return specs.front();
}

std::vector<std::string> subcommand_names(const std::vector<CommandSpec>& specs) {
  std::vector<std::string> names;
  for (const auto& spec : specs)
    if (!spec.name.empty()) names.push_back(spec.name);
  return names;
}

// ---- bash ----

std::string bash_reply(ValueKind kind) {
  switch (kind) {
    case ValueKind::profile:
      return "COMPREPLY=($(compgen -W \"$(_safeinstall_profiles)\" -- \"$cur\"))";
    case ValueKind::directory:
      return "COMPREPLY=($(compgen -d -- \"$cur\"))";
    case ValueKind::file:
      return "COMPREPLY=($(compgen -f -- \"$cur\"))";
    case ValueKind::none:
      break;
  }
  return "COMPREPLY=()";
}

// `case "$prev" in --opt) ...; return 0;; esac` for the options that take a value.
std::string bash_value_cases(const std::vector<OptionSpec>& options, const std::string& indent) {
  std::string out;
  for (const auto& o : options) {
    if (o.value.empty()) continue;
    out +=
        indent + "  " + joined(o.names, "|") + ") " + bash_reply(value_kind(o)) + "; return 0 ;;\n";
  }
  if (out.empty()) return "";
  return indent + "case \"$prev\" in\n" + out + indent + "esac\n";
}

std::string bash_subcommand_case(const CommandSpec& spec) {
  const std::string in = "      ";
  std::string out = "    " + spec.name + ")\n";
  out += bash_value_cases(spec.options, in);
  out += in + "if [[ $cur == -* ]]; then\n";
  out +=
      in + "  COMPREPLY=($(compgen -W \"" + joined(all_names(spec.options)) + "\" -- \"$cur\"))\n";
  if (!spec.words.empty()) {
    out += in + "elif (( COMP_CWORD == i + 1 )); then\n";
    out += in + "  COMPREPLY=($(compgen -W \"" + joined(spec.words) + "\" -- \"$cur\"))\n";
  }
  if (spec.name == "profiles") {
    out += in + "elif (( COMP_CWORD == i + 2 )) && [[ ${COMP_WORDS[i+1]} == show ]]; then\n";
    out += in + "  " + bash_reply(ValueKind::profile) + "\n";
  }
  out += in + "else\n" + in + "  " + bash_reply(ValueKind::file) + "\n" + in + "fi\n";
  out += in + "return 0 ;;\n";
  return out;
}

// ---- zsh ----

std::string zsh_quoted_help(const std::string& help) {
  std::string out;
  for (char c : summary_of(help)) {
    if (c == '\'')
      out += "'\\''";
    else if (c == '[' || c == ']' || c == ':' || c == '\\')
      out += std::string("\\") + c;
    else
      out += c;
  }
  return out;
}

std::string zsh_action(ValueKind kind) {
  switch (kind) {
    case ValueKind::profile:
      return "_safeinstall_profiles";
    case ValueKind::directory:
      return "_files -/";
    case ValueKind::file:
      return "_files";
    case ValueKind::none:
      break;
  }
  return " ";
}

// One _arguments spec per option: '(-y --yes)'{-y,--yes}'[help]', '*--expect=[help]:GLOB: '.
std::string zsh_option_spec(const OptionSpec& o) {
  std::string names = o.names.size() == 1 ? o.names.front() : "{" + joined(o.names, ",") + "}";
  std::string exclusion = o.names.size() > 1 ? "'(" + joined(o.names) + ")'" : "";
  std::string repeat = o.repeatable ? "'*'" : "";
  std::string tail = "'[" + zsh_quoted_help(o.help) + "]";
  if (!o.value.empty()) tail += ":" + o.value + ":" + zsh_action(value_kind(o));
  tail += "'";
  if (!o.value.empty() && o.names.size() == 1 && o.names.front().starts_with("--")) {
    // The value in the next word or after `=`.
    return (o.repeatable ? "'*" : "'") + o.names.front() + "=" + tail.substr(1);
  }
  return exclusion + repeat + names + tail;
}

std::string zsh_arguments(const std::vector<OptionSpec>& options, const std::string& indent) {
  std::string out;
  for (const auto& o : options) out += " \\\n" + indent + zsh_option_spec(o);
  return out;
}

// ---- fish ----

std::string fish_quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string fish_option(const OptionSpec& o, const std::string& condition) {
  std::string out = "complete -c safeinstall -n " + fish_quoted(condition);
  for (const auto& name : o.names)
    out += name.starts_with("--") ? " -l " + name.substr(2) : " -s " + name.substr(1);
  if (!o.value.empty()) {
    switch (value_kind(o)) {
      case ValueKind::profile:
        out += " -x -a '(__safeinstall_profiles)'";
        break;
      case ValueKind::directory:
        out += " -x -a '(__fish_complete_directories (commandline -ct))'";
        break;
      case ValueKind::file:
        out += " -r -F";
        break;
      case ValueKind::none:
        out += " -x";
        break;
    }
  }
  return out + " -d " + fish_quoted(summary_of(o.help)) + "\n";
}

}  // namespace

std::string bash_completion(const std::vector<CommandSpec>& specs) {
  const auto& main = main_spec(specs);
  std::vector<std::string> with_value;
  for (const auto& o : main.options)
    if (!o.value.empty()) with_value.insert(with_value.end(), o.names.begin(), o.names.end());
  std::string out =
      "# bash completion for safeinstall (generated by `safeinstall completions bash`)\n"
      "\n"
      "_safeinstall_profiles() {\n"
      "  \"${COMP_WORDS[0]:-safeinstall}\" completions profile-names 2>/dev/null\n"
      "}\n"
      "\n"
      "_safeinstall() {\n"
      "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"\"\n"
      "  (( COMP_CWORD > 0 )) && prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
      "  COMPREPLY=()\n"
      "  # The subcommand, or COMMAND: the first word that is neither an option nor the value\n"
      "  # of one.\n"
      "  local with_value=\" " +
      joined(with_value) +
      " \"\n"
      "  local i=1 sub=\"\" word\n"
      "  while (( i < COMP_CWORD )); do\n"
      "    word=\"${COMP_WORDS[i]}\"\n"
      "    if [[ $word == -- ]]; then sub=\"--\"; i=$((i + 1)); break; fi\n"
      "    if [[ $word != -* ]]; then sub=\"$word\"; break; fi\n"
      "    [[ $with_value == *\" $word \"* ]] && i=$((i + 1))\n"
      "    i=$((i + 1))\n"
      "  done\n"
      "  if [[ -z $sub ]]; then\n" +
      bash_value_cases(main.options, "    ") +
      "    if [[ $cur == -* ]]; then\n"
      "      COMPREPLY=($(compgen -W \"" +
      joined(all_names(main.options)) +
      "\" -- \"$cur\"))\n"
      "    else\n"
      "      COMPREPLY=($(compgen -W \"" +
      joined(subcommand_names(specs)) +
      "\" -- \"$cur\") $(compgen -c -- \"$cur\"))\n"
      "    fi\n"
      "    return 0\n"
      "  fi\n"
      "  case \"$sub\" in\n";
  for (const auto& spec : specs)
    if (!spec.name.empty()) out += bash_subcommand_case(spec);
  out +=
      "    *)\n"
      "      # COMMAND [ARGS...]: the command's own completion, when bash-completion is loaded.\n"
      "      if [[ $sub == -- ]] && (( i == COMP_CWORD )); then\n"
      "        COMPREPLY=($(compgen -c -- \"$cur\"))\n"
      "      elif declare -F _command_offset >/dev/null; then\n"
      "        _command_offset \"$i\"\n"
      "      else\n"
      "        COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      "      fi\n"
      "      return 0 ;;\n"
      "  esac\n"
      "}\n"
      "\n"
      "complete -F _safeinstall safeinstall\n";
  return out;
}

std::string zsh_completion(const std::vector<CommandSpec>& specs) {
  const auto& main = main_spec(specs);
  std::string out =
      "#compdef safeinstall\n"
      "# zsh completion for safeinstall (generated by `safeinstall completions zsh`)\n"
      "\n"
      "_safeinstall_profiles() {\n"
      "  local -a names\n"
      "  names=(${(f)\"$(${_safeinstall_command:-safeinstall} completions profile-names "
      "2>/dev/null)\"})\n"
      "  _describe -t profiles 'profile' names\n"
      "}\n"
      "\n"
      "_safeinstall() {\n"
      "  local curcontext=\"$curcontext\" state line ret=1\n"
      "  local _safeinstall_command=${words[1]}\n"
      "  local -a subcommands\n"
      "  subcommands=(\n";
  for (const auto& spec : specs) {
    if (spec.name.empty()) continue;
    out += "    '" + spec.name + ":" + zsh_quoted_help(spec.help) + "'\n";
  }
  out += "  )\n  _arguments -C -S" + zsh_arguments(main.options, "    ") +
         " \\\n"
         "    '1: :->command' \\\n"
         "    '*:: :->args' && ret=0\n"
         "  case $state in\n"
         "    command)\n"
         "      _describe -t subcommands 'subcommand' subcommands && ret=0\n"
         "      _command_names -e && ret=0\n"
         "      ;;\n"
         "    args)\n"
         "      case $words[1] in\n";
  for (const auto& spec : specs) {
    if (spec.name.empty()) continue;
    out += "        " + spec.name + ")\n          _arguments -S" +
           zsh_arguments(spec.options, "            ");
    if (spec.name == "profiles")
      out += " \\\n            '1: :(show)' \\\n            '2: :_safeinstall_profiles'";
    else if (!spec.words.empty())
      out += " \\\n            '1:: :(" + joined(spec.words) + ")' \\\n            '*: :_files'";
    else
      out += " \\\n            '*: :_files'";
    out += " && ret=0\n          ;;\n";
  }
  out +=
      "        *)\n"
      "          _normal && ret=0\n"
      "          ;;\n"
      "      esac\n"
      "      ;;\n"
      "  esac\n"
      "  return ret\n"
      "}\n"
      "\n"
      "_safeinstall \"$@\"\n";
  return out;
}

std::string fish_completion(const std::vector<CommandSpec>& specs) {
  const auto& main = main_spec(specs);
  std::vector<std::string> with_value;
  for (const auto& o : main.options)
    if (!o.value.empty()) with_value.insert(with_value.end(), o.names.begin(), o.names.end());
  std::string out =
      "# fish completion for safeinstall (generated by `safeinstall completions fish`)\n"
      "\n"
      "function __safeinstall_profiles\n"
      "    set -l words (commandline -opc)\n"
      "    $words[1] completions profile-names 2>/dev/null\n"
      "end\n"
      "\n"
      "# The subcommand, or COMMAND: the first word that is neither an option nor the value of\n"
      "# one; empty while there is none.\n"
      "function __safeinstall_subcommand\n"
      "    set -l words (commandline -opc)\n"
      "    set -e words[1]\n"
      "    set -l skip 0\n"
      "    for word in $words\n"
      "        if test $skip = 1\n"
      "            set skip 0\n"
      "            continue\n"
      "        end\n"
      "        switch $word\n"
      "            case " +
      joined(with_value) +
      "\n"
      "                set skip 1\n"
      "            case '-*'\n"
      "            case '*'\n"
      "                echo $word\n"
      "                return 0\n"
      "        end\n"
      "    end\n"
      "    return 1\n"
      "end\n"
      "\n"
      "function __safeinstall_no_subcommand\n"
      "    not __safeinstall_subcommand >/dev/null\n"
      "end\n"
      "\n"
      "function __safeinstall_subcommand_is\n"
      "    set -l sub (__safeinstall_subcommand)\n"
      "    and test \"$sub\" = $argv[1]\n"
      "end\n"
      "\n";
  for (const auto& spec : specs) {
    if (spec.name.empty()) continue;
    out += "complete -c safeinstall -n __safeinstall_no_subcommand -f -a " +
           fish_quoted(spec.name) + " -d " + fish_quoted(summary_of(spec.help)) + "\n";
  }
  out +=
      "complete -c safeinstall -n __safeinstall_no_subcommand -f -a '(__fish_complete_command)'\n";
  for (const auto& o : main.options) out += fish_option(o, "__safeinstall_no_subcommand");
  for (const auto& spec : specs) {
    if (spec.name.empty()) continue;
    std::string condition = "__safeinstall_subcommand_is " + spec.name;
    for (const auto& o : spec.options) out += fish_option(o, condition);
    for (const auto& word : spec.words)
      out += "complete -c safeinstall -n " + fish_quoted(condition) + " -f -a " +
             fish_quoted(word) + "\n";
    if (spec.name == "profiles")
      out += "complete -c safeinstall -n " +
             fish_quoted(condition + "; and __fish_seen_subcommand_from show") +
             " -f -a '(__safeinstall_profiles)'\n";
  }
  return out;
}

int completions_command(const std::string& kind) {
  if (kind == "profile-names") {
    std::error_code ec;
    auto here = std::filesystem::current_path(ec);
    auto dirs = default_layer_dirs(current_environment(), ec ? std::string() : here.string());
    if (!dirs) return fail(dirs.error().message());
    for (const auto& name : available_profiles(*dirs)) std::printf("%s\n", name.c_str());
    return 0;
  }
  auto specs = command_specs();
  std::string script = kind == "bash"  ? bash_completion(specs)
                       : kind == "zsh" ? zsh_completion(specs)
                                       : fish_completion(specs);
  std::fputs(script.c_str(), stdout);
  return 0;
}

}  // namespace safeinstall::runner
