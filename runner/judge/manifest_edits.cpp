#include "runner/judge/manifest_edits.h"

#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "runner/fs/fs_tree.h"
#include "runner/fs/toml_input.h"

namespace safeinstall::runner {
namespace {

using nlohmann::json;

// A manifest larger than this is not a hand-kept one; its edits are not looked into.
constexpr std::size_t kLargestManifest = 1 << 20;

struct Edit {
  std::vector<DependencyChange> dependencies;
  std::vector<std::string> outside;

  void change(const std::string& section, const std::string& name, const std::string& from,
              const std::string& to) {
    if (from != to) dependencies.push_back({section, name, from, to});
  }
};

// A registry version, not a place: file:, link:, git, URLs and user/repo shorthands fetch
// from somewhere the profile's registry is not, so they are never a routine edit.
bool is_registry_spec(std::string_view spec) {
  for (std::string_view place : {"file:", "link:", "git", "http:", "https:", "github:", "gitlab:",
                                 "bitbucket:", "gist:", "portal:", "patch:"}) {
    if (spec.starts_with(place)) return false;
  }
  return spec.find("://") == std::string_view::npos && spec.find('/') == std::string_view::npos;
}

void compare_spec_maps(const std::string& section, const std::map<std::string, std::string>& before,
                       const std::map<std::string, std::string>& after, Edit& edit) {
  for (const auto& [name, spec] : after) {
    auto old = before.find(name);
    std::string from = old == before.end() ? std::string() : old->second;
    if (from != spec && !is_registry_spec(spec))
      edit.outside.push_back(section + " " + name + " points at " + spec);
    edit.change(section, name, from, spec);
  }
  for (const auto& [name, spec] : before)
    if (!after.contains(name)) edit.change(section, name, spec, "");
}

// --- JSON: package.json, composer.json ---------------------------------------------------

std::map<std::string, std::string> json_specs(const json& section, const std::string& name,
                                              Edit& edit) {
  std::map<std::string, std::string> specs;
  if (section.is_null()) return specs;
  if (!section.is_object()) {
    edit.outside.push_back(name + " is not an object");
    return specs;
  }
  for (const auto& [dep, spec] : section.items()) {
    if (spec.is_string())
      specs[dep] = spec.get<std::string>();
    else
      edit.outside.push_back(name + " " + dep + " is not a version string");
  }
  return specs;
}

void compare_json(const std::vector<std::string>& sections, const std::string& before_text,
                  const std::string& after_text, Edit& edit) {
  json before = json::parse(before_text, nullptr, false);
  json after = json::parse(after_text, nullptr, false);
  if (!before.is_object() || !after.is_object()) {
    edit.outside.push_back("not a JSON object before and after");
    return;
  }
  for (const auto& section : sections) {
    auto from = json_specs(before.value(section, json()), section, edit);
    auto to = json_specs(after.value(section, json()), section, edit);
    compare_spec_maps(section, from, to, edit);
    before.erase(section);
    after.erase(section);
  }
  for (const auto& [key, value] : after.items())
    if (before.value(key, json()) != value) edit.outside.push_back(key + " changed");
  for (const auto& [key, value] : before.items())
    if (!after.contains(key)) edit.outside.push_back(key + " removed");
}

// --- TOML: Cargo.toml, pyproject.toml -----------------------------------------------------

// A dependency's spec as a string: the version, or the node in TOML's own form.
std::string toml_spec(const toml::node& node, bool& places) {
  if (auto s = node.value<std::string>()) return *s;
  std::ostringstream text;
  if (const auto* t = node.as_table()) {
    if (t->contains("path") || t->contains("git") || t->contains("url")) places = true;
    if (auto v = (*t)["version"].value<std::string>()) return *v;
    text << *t;
  } else if (const auto* a = node.as_array()) {
    text << *a;
  } else {
    node.visit([&](const auto& value) { text << value; });
  }
  return text.str();
}

// name → spec of a table of dependencies (Cargo, Poetry), erased from its parent.
std::map<std::string, std::string> take_toml_table(toml::table& parent, const std::string& key,
                                                   const std::string& section, Edit& edit) {
  std::map<std::string, std::string> specs;
  auto* table = parent[key].as_table();
  if (table == nullptr) {
    if (parent.contains(key)) edit.outside.push_back(section + " is not a table");
    parent.erase(key);
    return specs;
  }
  for (const auto& [name, node] : *table) {
    bool places = false;
    std::string spec = toml_spec(node, places);
    // Named by where it comes from, which is never a registry version.
    specs[std::string(name.str())] = places ? "path/git/url " + spec : spec;
  }
  parent.erase(key);
  return specs;
}

// PEP 508 strings ("requests>=2.31"): the normalized name → the rest. A direct reference
// ("pkg @ https://…") is kept whole, and is no registry version.
std::pair<std::string, std::string> pep508(std::string_view requirement) {
  std::size_t end = 0;
  while (end < requirement.size() &&
         (std::isalnum(static_cast<unsigned char>(requirement[end])) != 0 ||
          requirement[end] == '-' || requirement[end] == '_' || requirement[end] == '.'))
    ++end;
  std::string name;
  for (char c : requirement.substr(0, end))
    name +=
        c == '_' || c == '.' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string rest(requirement.substr(end));
  rest.erase(0, rest.find_first_not_of(' '));
  if (rest.find('@') != std::string::npos || rest.find("://") != std::string::npos)
    rest = "https://" + rest;  // never a registry spec
  return {name, rest.empty() ? std::string("*") : rest};
}

std::map<std::string, std::string> take_toml_array(toml::table& parent, const std::string& key,
                                                   const std::string& section, Edit& edit) {
  std::map<std::string, std::string> specs;
  if (auto* array = parent[key].as_array()) {
    for (const auto& item : *array) {
      if (auto s = item.value<std::string>()) {
        auto [name, spec] = pep508(*s);
        specs[name] = spec;
      } else {
        edit.outside.push_back(section + " holds something other than requirement strings");
      }
    }
  } else if (parent.contains(key)) {
    edit.outside.push_back(section + " is not an array");
  }
  parent.erase(key);
  return specs;
}

using SpecMaps = std::map<std::string, std::map<std::string, std::string>>;

void take_cargo(toml::table& doc, SpecMaps& out, Edit& edit) {
  for (const char* key : {"dependencies", "dev-dependencies", "build-dependencies"})
    out[key] = take_toml_table(doc, key, key, edit);
  if (auto* workspace = doc["workspace"].as_table())
    out["workspace.dependencies"] =
        take_toml_table(*workspace, "dependencies", "workspace.dependencies", edit);
  if (auto* targets = doc["target"].as_table()) {
    for (auto& [cfg, node] : *targets) {
      auto* target = node.as_table();
      if (target == nullptr) continue;
      for (const char* key : {"dependencies", "dev-dependencies", "build-dependencies"}) {
        std::string section = "target." + std::string(cfg.str()) + "." + key;
        out[section] = take_toml_table(*target, key, section, edit);
      }
    }
  }
}

void take_pyproject(toml::table& doc, SpecMaps& out, Edit& edit) {
  if (auto* project = doc["project"].as_table()) {
    out["project.dependencies"] =
        take_toml_array(*project, "dependencies", "project.dependencies", edit);
    if (auto* optional = (*project)["optional-dependencies"].as_table()) {
      std::vector<std::string> groups;
      for (const auto& [group, node] : *optional) groups.emplace_back(group.str());
      for (const auto& group : groups) {
        std::string section = "project.optional-dependencies." + group;
        out[section] = take_toml_array(*optional, group, section, edit);
      }
    }
  }
  if (auto* groups_table = doc["dependency-groups"].as_table()) {
    std::vector<std::string> groups;
    for (const auto& [group, node] : *groups_table) groups.emplace_back(group.str());
    for (const auto& group : groups)
      out["dependency-groups." + group] =
          take_toml_array(*groups_table, group, "dependency-groups." + group, edit);
  }
  auto* poetry = doc["tool"]["poetry"].as_table();
  if (poetry == nullptr) return;
  for (const char* key : {"dependencies", "dev-dependencies"})
    out[std::string("tool.poetry.") + key] =
        take_toml_table(*poetry, key, std::string("tool.poetry.") + key, edit);
  if (auto* groups = (*poetry)["group"].as_table()) {
    for (auto& [group, node] : *groups) {
      if (auto* g = node.as_table()) {
        std::string section = "tool.poetry.group." + std::string(group.str()) + ".dependencies";
        out[section] = take_toml_table(*g, "dependencies", section, edit);
      }
    }
  }
}

// Tables left empty once the dependency tables are taken out ([tool.poetry.group.dev]) say
// nothing of their own.
void prune_empty_tables(toml::table& table) {
  std::vector<std::string> empty;
  for (auto& [key, node] : table) {
    if (auto* inner = node.as_table()) {
      prune_empty_tables(*inner);
      if (inner->empty()) empty.emplace_back(key.str());
    }
  }
  for (const auto& key : empty) table.erase(key);
}

void compare_toml(bool cargo, const std::string& before_text, const std::string& after_text,
                  Edit& edit) {
  toml::table before_doc, after_doc;
  try {
    before_doc = toml::parse(toml_input(before_text));
    after_doc = toml::parse(toml_input(after_text));
  } catch (const toml::parse_error& e) {
    edit.outside.push_back("not valid TOML: " + std::string(e.description()));
    return;
  }
  SpecMaps from, to;
  (cargo ? take_cargo : take_pyproject)(before_doc, from, edit);
  (cargo ? take_cargo : take_pyproject)(after_doc, to, edit);
  prune_empty_tables(before_doc);
  prune_empty_tables(after_doc);
  for (const auto& [section, specs] : to) compare_spec_maps(section, from[section], specs, edit);
  for (const auto& [section, specs] : from)
    if (!to.contains(section)) compare_spec_maps(section, specs, {}, edit);
  if (before_doc != after_doc)
    edit.outside.push_back("settings outside the dependency tables changed");
}

// --- Lines: requirements*.txt, Gemfile ----------------------------------------------------

std::string trimmed(std::string_view line) {
  auto first = line.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  auto last = line.find_last_not_of(" \t\r");
  return std::string(line.substr(first, last - first + 1));
}

std::multiset<std::string> meaningful_lines(const std::string& text) {
  std::multiset<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::string t = trimmed(line);
    if (!t.empty() && t.front() != '#') lines.insert(t);
  }
  return lines;
}

// requirements.txt: a requirement, not an option (-e, -r, --index-url, --trusted-host…).
bool requirement_line(const std::string& line, std::string& name, std::string& spec) {
  if (line.empty() || std::isalnum(static_cast<unsigned char>(line.front())) == 0) return false;
  std::string without_comment = trimmed(line.substr(0, line.find(" #")));
  std::tie(name, spec) = pep508(without_comment);
  return is_registry_spec(spec);
}

// Gemfile: `gem "name"`, `gem 'name', '~> 1.2'`, with only group/require/platforms options.
bool gem_line(const std::string& line, std::string& name, std::string& spec) {
  if (!line.starts_with("gem ") && !line.starts_with("gem(")) return false;
  std::vector<std::string> parts;
  std::stringstream args(line.substr(4));
  std::string part;
  while (std::getline(args, part, ',')) parts.push_back(trimmed(part));
  auto quoted = [](const std::string& s) {
    return s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front() &&
           s.find("#{") == std::string::npos;
  };
  if (parts.empty() || !quoted(parts[0])) return false;
  name = parts[0].substr(1, parts[0].size() - 2);
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (quoted(p)) {
      spec += (spec.empty() ? "" : ", ") + p.substr(1, p.size() - 2);
      continue;
    }
    bool harmless = p.starts_with("group:") || p.starts_with("groups:") ||
                    p.starts_with("require:") || p.starts_with("platforms:") ||
                    p.starts_with(":group") || p.starts_with(":require");
    if (!harmless) return false;
  }
  if (spec.empty()) spec = "*";
  return true;
}

void compare_lines(bool gemfile, const std::string& before_text, const std::string& after_text,
                   Edit& edit) {
  auto before = meaningful_lines(before_text);
  auto after = meaningful_lines(after_text);
  std::map<std::string, std::string> from, to;
  const char* section = gemfile ? "gems" : "requirements";
  auto read = [&](const std::multiset<std::string>& mine, const std::multiset<std::string>& other,
                  std::map<std::string, std::string>& specs) {
    for (auto it = mine.begin(); it != mine.end(); it = mine.upper_bound(*it)) {
      if (mine.count(*it) == other.count(*it)) continue;
      std::string name, spec;
      bool ok = gemfile ? gem_line(*it, name, spec) : requirement_line(*it, name, spec);
      if (!ok)
        edit.outside.push_back("a line that is no plain dependency changed: " + *it);
      else
        specs[name] = spec;
    }
  };
  read(before, after, from);
  read(after, before, to);
  compare_spec_maps(section, from, to, edit);
}

std::string leaf(const std::string& file) {
  auto slash = file.find_last_of('/');
  return slash == std::string::npos ? file : file.substr(slash + 1);
}

bool is_requirements(const std::string& name) {
  return name.starts_with("requirements") && name.ends_with(".txt");
}

}  // namespace

bool is_known_manifest(std::string_view file) {
  std::string name = leaf(std::string(file));
  return name == "package.json" || name == "composer.json" || name == "Cargo.toml" ||
         name == "pyproject.toml" || name == "Gemfile" || is_requirements(name);
}

ManifestEdit compare_manifest(const std::string& file, const std::string& before,
                              const std::string& after) {
  Edit edit;
  std::string name = leaf(file);
  if (name == "package.json")
    compare_json({"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"},
                 before, after, edit);
  else if (name == "composer.json")
    compare_json({"require", "require-dev"}, before, after, edit);
  else if (name == "Cargo.toml" || name == "pyproject.toml")
    compare_toml(name == "Cargo.toml", before, after, edit);
  else if (name == "Gemfile" || is_requirements(name))
    compare_lines(name == "Gemfile", before, after, edit);
  else
    edit.outside.push_back("not a manifest safeinstall reads");
  ManifestEdit out{file, std::move(edit.dependencies), {}};
  for (const auto& why : edit.outside) out.outside += (out.outside.empty() ? "" : "; ") + why;
  return out;
}

std::vector<ManifestEdit> accept_dependency_edits(ChangeList& changes, const std::string& upper,
                                                  const std::string& project,
                                                  const std::vector<std::string>& manifests) {
  std::vector<ManifestEdit> edits;
  if (manifests.empty()) return edits;
  for (auto& change : changes.changes) {
    if (change.change != ChangeKind::modified || change.type != EntryType::file ||
        change.category != Category::unexpected)
      continue;
    if (std::ranges::find(manifests, change.path.view()) == manifests.end()) continue;
    const std::string path = change.path.str();
    auto before = read_small_file(project + "/" + path, kLargestManifest);
    auto after = read_small_file(upper + "/" + path, kLargestManifest);
    if (!before || !after || !*before || !*after) {
      edits.push_back({path, {}, "could not be read before and after the run"});
      continue;
    }
    edits.push_back(compare_manifest(path, **before, **after));
    if (edits.back().accepted()) change.category = Category::expected;
  }
  return edits;
}

}  // namespace safeinstall::runner
