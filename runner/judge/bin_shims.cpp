#include "runner/judge/bin_shims.h"

#include <algorithm>
#include <array>
#include <set>
#include <vector>

namespace safeinstall::runner {
namespace {

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    auto end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

// Spaces and tabs only: a carriage return or any other byte makes a line differ from the
// template's.
std::string_view trimmed(std::string_view line) {
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  return line;
}

// Characters a package path may hold here: nothing a shell or PHP reads specially inside the
// template's quotes (no $, quotes, backslash, backtick, space).
bool is_plain_path(std::string_view path) {
  return !path.empty() && std::ranges::all_of(path, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '/' || c == '@' || c == '+' || c == '~' || c == ',' ||
           c == '=';
  });
}

std::optional<std::string_view> between(std::string_view line, std::string_view prefix,
                                        std::string_view suffix) {
  if (line.size() < prefix.size() + suffix.size() || !line.starts_with(prefix) ||
      !line.ends_with(suffix))
    return std::nullopt;
  return line.substr(prefix.size(), line.size() - prefix.size() - suffix.size());
}

// The one target every target-naming line of a file must agree on.
class Target {
 public:
  bool agree(std::string_view path) {
    if (!is_plain_path(path)) return false;
    if (!value_) value_ = std::string(path);
    return *value_ == path;
  }
  const std::optional<std::string>& value() const { return value_; }

 private:
  std::optional<std::string> value_;
};

// Whether every line after the first is a template line or one `target_line` takes (a line
// naming the target, agreeing with the others); anything else makes the file no shim.
template <typename TargetLine>
bool lines_fit(std::string_view text, const std::set<std::string_view>& template_lines,
               TargetLine&& target_line) {
  if (text.size() > kMaxBinShimBytes) return false;
  auto lines = lines_of(text);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    auto line = trimmed(lines[i]);
    if (line.empty() || template_lines.contains(line)) continue;
    if (!target_line(line)) return false;
  }
  return true;
}

// ---- pnpm: @zkochan/cmd-shim's sh shim (versions 4 to 9) ----

// The interpreters cmd-shim runs a bin with (from its #! line); a shim naming another
// program is no shim.
constexpr std::array<std::string_view, 3> kShimPrograms = {"node", "sh", "bash"};

const std::set<std::string_view>& cmd_shim_lines() {
  static const std::set<std::string_view> lines = [] {
    static const std::vector<std::string> fixed = [] {
      std::vector<std::string> out = {
          R"~(basedir=$(dirname "$(echo "$0" | sed -e 's,\\,/,g')"))~",
          "case `uname` in",
          R"~(*CYGWIN*) basedir=`cygpath -w "$basedir"`;;)~",
          R"~(*CYGWIN*|*MINGW*|*MSYS*) basedir=`cygpath -w "$basedir"`;;)~",
          "esac",
          R"~(basedir_win="$basedir")~",
          R"~(exe="")~",
          R"~(msys="")~",
          "case `uname -a` in",
          "*CYGWIN*|*MINGW*|*MSYS*)",
          "if command -v cygpath > /dev/null 2>&1; then",
          R"~(basedir_win=`cygpath -w "$basedir"`)~",
          R"~(exe=".exe")~",
          R"~(msys="true")~",
          ";;",
          "*WSL2*)",
          "if command -v wslpath > /dev/null 2>&1; then",
          R"~(basedir_win="$(wslpath -w "$basedir" 2> /dev/null)")~",
          R"~(if [ $? -ne 0 ] || [ -z "$basedir_win" ]; then)~",
          R"~(if [ -z "$NODE_PATH" ]; then)~",
          "else",
          "fi",
          "exit $?",
          "ret=$?",
          "exit $ret",
      };
      for (std::string_view p : kShimPrograms) {
        std::string prog(p);
        for (const auto& exe : {prog, prog + ".exe"}) {
          out.push_back("if [ -x \"$basedir/" + exe + "\" ]; then");
          out.push_back("elif [ -x \"$basedir/" + exe + "\" ]; then");
          out.push_back("if [ -n \"$exe\" ] && [ -x \"$basedir/" + exe + "\" ]; then");
          out.push_back("elif command -v " + exe + " >/dev/null 2>&1; then");
          out.push_back("elif [ -n \"$exe\" ] && command -v " + exe + " >/dev/null 2>&1; then");
        }
      }
      return out;
    }();
    return std::set<std::string_view>(fixed.begin(), fixed.end());
  }();
  return lines;
}

std::vector<std::string_view> words_of(std::string_view line) {
  std::vector<std::string_view> words;
  while (!line.empty()) {
    auto start = line.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    auto end = line.find(' ');
    words.push_back(line.substr(0, end));
    if (end == std::string_view::npos) break;
    line.remove_prefix(end);
  }
  return words;
}

bool is_shim_program(std::string_view word) {
  if (word.starts_with("\"$basedir/") && word.ends_with('"'))
    word = word.substr(10, word.size() - 11);
  if (word.ends_with(".exe")) word.remove_suffix(4);
  return std::ranges::find(kShimPrograms, word) != kShimPrograms.end();
}

// `"$basedir/../x/bin/cli"`, `"$basedir_win/…"` or `"/abs/path"`: the path.
std::optional<std::string_view> shim_target_word(std::string_view word) {
  if (auto rel = between(word, "\"$basedir/", "\"")) return rel;
  if (auto rel = between(word, "\"$basedir_win/", "\"")) return rel;
  if (auto abs = between(word, "\"", "\""); abs && abs->starts_with('/')) return abs;
  return std::nullopt;
}

// `[exec] [PROGRAM] TARGET "$@"`.
bool cmd_shim_run_line(std::string_view line, Target& target) {
  auto words = words_of(line);
  std::size_t i = 0;
  if (i < words.size() && words[i] == "exec") ++i;
  if (i < words.size() && is_shim_program(words[i])) ++i;
  if (words.size() != i + 2 || words[i + 1] != "\"$@\"") return false;
  auto path = shim_target_word(words[i]);
  return path && target.agree(*path);
}

// `export NODE_PATH="a:b"` or `export NODE_PATH="a:b:$NODE_PATH"`: literal text inside the
// double quotes (no `$`, backquote, quote or backslash; a space is literal there, as in a
// project under "My Projects").
bool node_path_line(std::string_view line) {
  auto value = between(line, "export NODE_PATH=\"", "\"");
  if (!value) return false;
  if (value->ends_with(":$NODE_PATH")) value->remove_suffix(11);
  return !value->empty() && value->find_first_of("$`\"\\") == std::string_view::npos;
}

// ---- Composer: BinaryInstaller's proxies (2.2 to 2.8) ----

const std::set<std::string_view>& composer_sh_lines() {
  static const std::set<std::string_view> lines = {
      R"~(selfArg="$BASH_SOURCE")~",
      R"~(if [ -z "$selfArg" ]; then)~",
      R"~(selfArg="$0")~",
      "fi",
      R"~(self=$(realpath $selfArg 2> /dev/null))~",
      R"~(self=$(realpath "$selfArg" 2> /dev/null))~",
      R"~(if [ -z "$self" ]; then)~",
      R"~(self="$selfArg")~",
      "if [ -d /proc/cygdrive ]; then",
      "case $(which php) in",
      "$(readlink -n /proc/cygdrive)/*)",
      R"~(dir=$(cygpath -m "$dir");)~",
      ";;",
      "esac",
      R"~(export COMPOSER_RUNTIME_BIN_DIR="$(cd "${self%[/\\]*}" > /dev/null; pwd)")~",
      R"~(bashSource="$BASH_SOURCE")~",
      R"~(if [ -n "$bashSource" ]; then)~",
      R"~(if [ "$bashSource" != "$0" ]; then)~",
      "return",
  };
  return lines;
}

// `dir=$(… cd '../acme/tool/bin' && pwd)` names the directory, `"${dir}/tool" "$@"` (and
// its `source` and `exec` forms) the file.
std::optional<std::string> composer_sh_target(std::string_view text) {
  Target dir;
  Target file;
  bool fit = lines_fit(text, composer_sh_lines(), [&](std::string_view line) {
    if (line.starts_with('#')) return true;
    if (auto cd = between(line, R"~(dir=$(cd "${self%[/\\]*}" > /dev/null; cd )~", " && pwd)"))
      return dir.agree(between(*cd, "'", "'").value_or(*cd));
    for (std::string_view prefix : {"source \"${dir}/", "\"${dir}/", "exec \"${dir}/"}) {
      if (auto name = between(line, prefix, "\" \"$@\""))
        return name->find('/') == std::string_view::npos && file.agree(*name);
    }
    return false;
  });
  if (!fit || !dir.value() || !file.value()) return std::nullopt;
  return *dir.value() + "/" + *file.value();
}

const std::set<std::string_view>& composer_php_lines() {
  static const std::set<std::string_view> lines = {
      "<?php",
      "/**",
      "*",
      "*/",
      "* Proxy PHP file generated by Composer",
      "* using a stream wrapper to prevent the shebang from being output on PHP<8",
      "* @generated",
      "* @internal",
      "namespace Composer;",
      "$GLOBALS['_composer_bin_dir'] = __DIR__;",
      "if (PHP_VERSION_ID < 80000) {",
      "if (!class_exists('Composer\\BinProxyWrapper')) {",
      "final class BinProxyWrapper",
      "{",
      "}",
      "private $handle;",
      "private $position;",
      "private $realpath;",
      "public function stream_open($path, $mode, $options, &$opened_path)",
      "// get rid of phpvfscomposer:// prefix for __FILE__ & __DIR__ resolution",
      "$opened_path = substr($path, 17);",
      "$this->realpath = realpath($opened_path) ?: $opened_path;",
      "$opened_path = $this->realpath;",
      "$opened_path = 'phpvfscomposer://'.$this->realpath;",
      "$this->handle = fopen($this->realpath, $mode);",
      "$realpath = realpath($opened_path) ?: $opened_path;",
      "$opened_path = $realpath;",
      "$opened_path = 'phpvfscomposer://'.$realpath;",
      "$this->handle = fopen($realpath, $mode);",
      "$this->position = 0;",
      "return (bool) $this->handle;",
      "public function stream_read($count)",
      "$data = fread($this->handle, $count);",
      "if ($this->position === 0) {",
      "$data = preg_replace('{^#!.*\\r?\\n}', '', $data);",
      "$data = str_replace('__DIR__', var_export(dirname($this->realpath), true), $data);",
      "$data = str_replace('__FILE__', var_export($this->realpath, true), $data);",
      "$this->position += strlen($data);",
      "return $data;",
      "public function stream_cast($castAs)",
      "return $this->handle;",
      "public function stream_close()",
      "fclose($this->handle);",
      "public function stream_lock($operation)",
      "return $operation ? flock($this->handle, $operation) : true;",
      "public function stream_seek($offset, $whence)",
      "if (0 === fseek($this->handle, $offset, $whence)) {",
      "$this->position = ftell($this->handle);",
      "return true;",
      "return false;",
      "public function stream_tell()",
      "return $this->position;",
      "public function stream_eof()",
      "return feof($this->handle);",
      "public function stream_stat()",
      "return array();",
      "public function stream_set_option($option, $arg1, $arg2)",
      "public function url_stat($path, $flags)",
      "$path = substr($path, 17);",
      "if (file_exists($path)) {",
      "return stat($path);",
      "if (",
      "(function_exists('stream_get_wrappers') && in_array('phpvfscomposer', "
      "stream_get_wrappers(), true))",
      "|| (function_exists('stream_wrapper_register') && "
      "stream_wrapper_register('phpvfscomposer', 'Composer\\BinProxyWrapper'))",
      ") {",
      "exit(0);",
  };
  return lines;
}

// findShortestPathCode's static form: `__DIR__ . '/..'.'/a/b'` (relative to the proxy's
// directory) or `'/abs/path'`. The path, relative or absolute.
std::optional<std::string> php_path(std::string_view expr) {
  expr = trimmed(expr);
  std::string path;
  bool relative = expr.starts_with("__DIR__");
  if (relative) expr.remove_prefix(7);
  bool first = true;
  while (!(expr = trimmed(expr)).empty()) {
    if (relative || !first) {
      if (!expr.starts_with('.')) return std::nullopt;
      expr = trimmed(expr.substr(1));
    }
    if (!expr.starts_with('\'')) return std::nullopt;
    auto close = expr.find('\'', 1);
    if (close == std::string_view::npos) return std::nullopt;
    path += expr.substr(1, close - 1);
    expr.remove_prefix(close + 1);
    first = false;
  }
  if (first || !path.starts_with('/')) return std::nullopt;
  return relative ? path.substr(1) : path;
}

bool composer_php_line(std::string_view line, Target& target) {
  if (auto shown = between(line, "* This file includes the referenced bin path (", ")"))
    return is_plain_path(*shown);
  // The bin includes this as its autoloader: vendor/autoload.php, nothing else.
  if (auto autoload = between(line, "$GLOBALS['_composer_autoload_path'] = ", ";"))
    return php_path(*autoload) == "../autoload.php";
  for (auto [prefix, suffix] : std::initializer_list<std::pair<std::string_view, std::string_view>>{
           {"include(\"phpvfscomposer://\" . ", ");"},
           {"return include(\"phpvfscomposer://\" . ", ");"},
           {"include ", ";"},
           {"return include ", ";"},
           {"$GLOBALS['__PHPUNIT_ISOLATION_EXCLUDE_LIST'] = "
            "$GLOBALS['__PHPUNIT_ISOLATION_BLACKLIST'] = array(realpath(",
            "));"}}) {
    if (auto expr = between(line, prefix, suffix)) {
      auto path = php_path(*expr);
      return path && target.agree(*path);
    }
  }
  return false;
}

// The proxy carries the bin's own #! line over: only a php interpreter's passes.
bool is_php_shebang(std::string_view line) {
  if (line == "#!/usr/bin/env php") return true;
  if (!line.starts_with("#!/")) return false;
  auto leaf = line.substr(line.rfind('/') + 1);
  return leaf.starts_with("php") && std::ranges::all_of(leaf.substr(3), [](char c) {
           return (c >= '0' && c <= '9') || c == '.';
         });
}

}  // namespace

std::optional<std::string> pnpm_shim_target(std::string_view text) {
  if (!text.starts_with("#!/bin/sh\n")) return std::nullopt;
  Target target;
  bool fit = lines_fit(text, cmd_shim_lines(), [&](std::string_view line) {
    // A whole-line comment (cmd-shim 9 ends with one naming the target).
    if (line.starts_with('#')) return true;
    return node_path_line(line) || cmd_shim_run_line(line, target);
  });
  return fit ? target.value() : std::nullopt;
}

std::optional<std::string> composer_proxy_target(std::string_view text) {
  if (text.starts_with("#!/usr/bin/env sh\n")) return composer_sh_target(text);
  if (!is_php_shebang(text.substr(0, text.find('\n')))) return std::nullopt;
  Target target;
  bool fit = lines_fit(text, composer_php_lines(),
                       [&](std::string_view line) { return composer_php_line(line, target); });
  return fit ? target.value() : std::nullopt;
}

}  // namespace safeinstall::runner
