// poetry.lock, uv.lock and Cargo.lock: TOML with a [[package]] array.
#include <toml++/toml.h>

#include <cctype>
#include <set>

#include "runner/packages/lockfile.h"
#include "runner/packages/lockfile_text.h"

namespace safeinstall::runner {
namespace {

// TOML++ 3.3 reaches __builtin_unreachable() when it asks whether some non-ASCII characters
// (U+00A1..U+0499 among them) outside a string are whitespace: undefined behaviour on a
// hostile file. Every value a lockfile reader uses is ASCII, so each byte of a multi-byte
// character becomes '?' first; offsets, and so line:col, stay as they were.
std::string ascii_only(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (static_cast<unsigned char>(c) >= 0x80) c = '?';
  return out;
}

Result<toml::table> parse_toml(std::string_view text, const std::string& source) {
  try {
    return toml::parse(ascii_only(text), source);
  } catch (const toml::parse_error& e) {
    return lockfile_error(source, e.source().begin.line, e.source().begin.column,
                          std::string(e.description()));
  }
}

std::string string_at(const toml::table& table, std::string_view key) {
  return std::string(table[key].value_or(std::string_view()));
}

// Every [[package]] table, or an error when `package` is not an array of tables.
Result<std::vector<const toml::table*>> package_tables(const toml::table& root,
                                                       const std::string& source) {
  std::vector<const toml::table*> out;
  const toml::node* node = root.get("package");
  if (node == nullptr) return out;
  const auto* array = node->as_array();
  if (array == nullptr)
    return lockfile_error(source, node->source().begin.line, node->source().begin.column,
                          "`package` must be an array of tables");
  for (const auto& item : *array) {
    if (const auto* table = item.as_table()) out.push_back(table);
  }
  return out;
}

// "requests[socks] >=2.0 ; python_version<'3'" → "requests".
std::string requirement_name(std::string_view spec) {
  std::size_t end = 0;
  while (end < spec.size() && (std::isalnum(static_cast<unsigned char>(spec[end])) ||
                               spec[end] == '-' || spec[end] == '_' || spec[end] == '.'))
    ++end;
  return std::string(spec.substr(0, end));
}

// pyproject.toml's direct dependencies, PEP 621 and poetry's own tables, normalized.
std::set<std::string> pyproject_names(std::string_view pyproject) {
  std::set<std::string> names;
  if (pyproject.empty()) return names;
  toml::table root;
  try {
    root = toml::parse(ascii_only(pyproject));
  } catch (const toml::parse_error&) {
    return names;
  }
  auto add_specs = [&](const toml::array* specs) {
    if (specs == nullptr) return;
    for (const auto& s : *specs) {
      if (auto text = s.value<std::string>())
        names.insert(normalize_pypi_name(requirement_name(*text)));
    }
  };
  add_specs(root["project"]["dependencies"].as_array());
  if (const auto* optional = root["project"]["optional-dependencies"].as_table()) {
    for (const auto& [_, specs] : *optional) add_specs(specs.as_array());
  }
  if (const auto* groups = root["dependency-groups"].as_table()) {
    for (const auto& [_, specs] : *groups) add_specs(specs.as_array());
  }
  auto add_keys = [&](const toml::table* table) {
    if (table == nullptr) return;
    for (const auto& [key, _] : *table) {
      if (key.str() != "python") names.insert(normalize_pypi_name(key.str()));
    }
  };
  add_keys(root["tool"]["poetry"]["dependencies"].as_table());
  add_keys(root["tool"]["poetry"]["dev-dependencies"].as_table());
  if (const auto* groups = root["tool"]["poetry"]["group"].as_table()) {
    for (const auto& [_, group] : *groups) {
      if (const auto* g = group.as_table()) add_keys((*g)["dependencies"].as_table());
    }
  }
  return names;
}

}  // namespace

Result<std::vector<PackageVersion>> parse_poetry_lock(std::string_view text,
                                                      const std::string& source,
                                                      std::string_view pyproject) {
  auto root = parse_toml(text, source);
  if (!root) return propagate(root);
  auto tables = package_tables(*root, source);
  if (!tables) return propagate(tables);
  auto direct = pyproject_names(pyproject);
  std::vector<PackageVersion> out;
  for (const auto* t : *tables) {
    std::string name = string_at(*t, "name");
    std::string version = string_at(*t, "version");
    if (name.empty() || version.empty()) continue;
    bool is_direct = direct.contains(normalize_pypi_name(name));
    out.push_back({Ecosystem::pypi, name, version, is_direct, source});
  }
  return out;
}

Result<std::vector<PackageVersion>> parse_uv_lock(std::string_view text, const std::string& source,
                                                  std::string_view pyproject) {
  auto root = parse_toml(text, source);
  if (!root) return propagate(root);
  auto tables = package_tables(*root, source);
  if (!tables) return propagate(tables);
  auto direct = pyproject_names(pyproject);
  // The project itself is a package whose source is the project dir; its dependencies are
  // the direct ones.
  auto is_project = [](const toml::table& t) {
    const auto* src = t["source"].as_table();
    return src != nullptr && (src->contains("editable") || src->contains("virtual"));
  };
  for (const auto* t : *tables) {
    if (!is_project(*t)) continue;
    for (const char* key : {"dependencies", "dev-dependencies"}) {
      const auto* deps = (*t)[key].as_array();
      if (deps == nullptr) continue;
      for (const auto& d : *deps) {
        if (const auto* dt = d.as_table())
          direct.insert(normalize_pypi_name(string_at(*dt, "name")));
      }
    }
  }
  std::vector<PackageVersion> out;
  for (const auto* t : *tables) {
    std::string name = string_at(*t, "name");
    std::string version = string_at(*t, "version");
    if (name.empty() || version.empty() || is_project(*t)) continue;
    bool is_direct = direct.contains(normalize_pypi_name(name));
    out.push_back({Ecosystem::pypi, name, version, is_direct, source});
  }
  return out;
}

Result<std::vector<PackageVersion>> parse_cargo_lock(std::string_view text,
                                                     const std::string& source) {
  auto root = parse_toml(text, source);
  if (!root) return propagate(root);
  auto tables = package_tables(*root, source);
  if (!tables) return propagate(tables);
  // Workspace members have no `source`; what they depend on is direct. A dependency is
  // "name" or "name version (source)".
  std::set<std::string> direct;
  for (const auto* t : *tables) {
    if (t->contains("source")) continue;
    const auto* deps = (*t)["dependencies"].as_array();
    if (deps == nullptr) continue;
    for (const auto& d : *deps) {
      if (auto text_dep = d.value<std::string>())
        direct.insert(text_dep->substr(0, text_dep->find(' ')));
    }
  }
  std::vector<PackageVersion> out;
  for (const auto* t : *tables) {
    if (!t->contains("source")) continue;
    std::string name = string_at(*t, "name");
    std::string version = string_at(*t, "version");
    if (name.empty() || version.empty()) continue;
    out.push_back({Ecosystem::crates_io, name, version, direct.contains(name), source});
  }
  return out;
}

}  // namespace safeinstall::runner
