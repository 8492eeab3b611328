// Line-based lockfiles: requirements*.txt (== pins), go.sum (with go.mod for direct
// modules) and Gemfile.lock.
#include <algorithm>
#include <set>

#include "runner/packages/lockfile.h"
#include "runner/packages/lockfile_text.h"

namespace safeinstall::runner {
namespace {

// Walks `text` line by line, 1-based numbers; a trailing '\r' is dropped.
template <typename F>
Result<> for_each_line(std::string_view text, F&& f) {
  std::size_t number = 0;
  while (!text.empty()) {
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (auto ok = f(line, number); !ok) return ok;
  }
  return {};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  while (true) {
    line = trim(line);
    if (line.empty()) break;
    auto end = line.find_first_of(" \t");
    out.push_back(line.substr(0, end));
    if (end == std::string_view::npos) break;
    line.remove_prefix(end);
  }
  return out;
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

// go.mod's required modules without `// indirect`, in single lines and require blocks.
std::set<std::string> go_mod_direct(std::string_view go_mod) {
  std::set<std::string> names;
  bool in_block = false;
  (void)for_each_line(go_mod, [&](std::string_view line, std::size_t) -> Result<> {
    auto comment = line.find("//");
    bool indirect = comment != std::string_view::npos &&
                    line.substr(comment).find("indirect") != std::string_view::npos;
    auto w = words(line.substr(0, comment));
    if (w.empty()) return {};
    if (in_block) {
      if (w[0] == ")") {
        in_block = false;
      } else if (!indirect) {
        names.insert(std::string(w[0]));
      }
    } else if (w[0] == "require") {
      if (w.size() >= 2 && w[1] == "(") {
        in_block = true;
      } else if (w.size() >= 3 && !indirect) {
        names.insert(std::string(w[1]));
      }
    }
    return {};
  });
  return names;
}

}  // namespace

Result<std::vector<PackageVersion>> parse_requirements(std::string_view text,
                                                       const std::string& source) {
  std::vector<PackageVersion> out;
  std::string joined;  // lines continued with a trailing backslash
  std::size_t first_line = 0;
  auto ok = for_each_line(text, [&](std::string_view line, std::size_t number) -> Result<> {
    if (joined.empty()) first_line = number;
    if (line.ends_with("\\")) {
      joined.append(line.substr(0, line.size() - 1)).append(" ");
      return {};
    }
    joined.append(line);
    std::string_view spec = joined;
    if (auto hash = spec.find(" #"); hash != std::string_view::npos) spec = spec.substr(0, hash);
    if (auto marker = spec.find(';'); marker != std::string_view::npos)
      spec = spec.substr(0, marker);
    spec = trim(spec);
    auto pin = spec.find("==");
    if (!spec.empty() && spec.front() != '#' && spec.front() != '-' &&
        pin != std::string_view::npos) {
      std::string_view name = trim(spec.substr(0, pin));
      if (auto extras = name.find('['); extras != std::string_view::npos)
        name = trim(name.substr(0, extras));
      std::string_view rest = spec.substr(pin + 2);
      if (!rest.empty() && rest.front() == '=') rest.remove_prefix(1);  // === arbitrary equality
      auto w = words(rest);
      std::string_view version = w.empty() ? std::string_view() : w[0];
      if (name.empty() || version.empty() || !std::ranges::all_of(name, is_name_char))
        return lockfile_error(source, first_line, 1, "a `==` pin needs NAME==VERSION");
      if (version.find('*') == std::string_view::npos)
        out.push_back({Ecosystem::pypi, std::string(name), std::string(version), true, source});
    }
    joined.clear();
    return {};
  });
  if (!ok) return propagate(ok);
  return out;
}

Result<std::vector<PackageVersion>> parse_go_sum(std::string_view text, const std::string& source,
                                                 std::string_view go_mod) {
  auto direct = go_mod_direct(go_mod);
  std::vector<PackageVersion> out;
  auto ok = for_each_line(text, [&](std::string_view line, std::size_t number) -> Result<> {
    auto w = words(line);
    if (w.empty()) return {};
    if (w.size() != 3 || !w[1].starts_with("v") || !w[2].starts_with("h1:"))
      return lockfile_error(source, number, 1, "expected `MODULE VERSION h1:HASH`");
    std::string_view version = w[1];
    if (version.ends_with("/go.mod")) version.remove_suffix(7);
    std::string module(w[0]);
    out.push_back({Ecosystem::go, module, std::string(version), direct.contains(module), source});
    return {};
  });
  if (!ok) return propagate(ok);
  return out;
}

Result<std::vector<PackageVersion>> parse_gemfile_lock(std::string_view text,
                                                       const std::string& source) {
  std::vector<PackageVersion> out;
  std::set<std::string> direct;
  std::string section;
  bool in_specs = false;
  auto ok = for_each_line(text, [&](std::string_view line, std::size_t number) -> Result<> {
    if (trim(line).empty()) return {};
    if (line.front() != ' ') {
      section = std::string(trim(line));
      in_specs = false;
      return {};
    }
    if (section == "DEPENDENCIES" && line.starts_with("  ") && line[2] != ' ') {
      std::string_view name = trim(line);
      name = name.substr(0, name.find_first_of(" !"));
      direct.insert(std::string(name));
      return {};
    }
    if (section != "GEM" && section != "GIT" && section != "PATH") return {};
    if (line == "  specs:") {
      in_specs = true;
      return {};
    }
    // Specs sit at four spaces; their own dependencies at six.
    if (!in_specs || !line.starts_with("    ") || line[4] == ' ') return {};
    std::string_view spec = trim(line);
    auto open = spec.find(" (");
    if (open == std::string_view::npos || !spec.ends_with(")"))
      return lockfile_error(source, number, 5, "expected `NAME (VERSION)`");
    std::string name(spec.substr(0, open));
    std::string version(spec.substr(open + 2, spec.size() - open - 3));
    if (name.empty() || version.empty())
      return lockfile_error(source, number, 5, "expected `NAME (VERSION)`");
    if (section == "PATH") return {};  // the project's own gems
    // A platform gem ("1.15.4-x86_64-linux"): gem versions themselves never hold '-'.
    version.resize(std::min(version.size(), version.find('-')));
    out.push_back({Ecosystem::rubygems, name, version, false, source});
    return {};
  });
  if (!ok) return propagate(ok);
  // DEPENDENCIES comes after the specs.
  for (auto& p : out) p.direct = direct.contains(p.name);
  return out;
}

}  // namespace safeinstall::runner
