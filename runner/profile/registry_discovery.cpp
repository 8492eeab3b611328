#include "runner/profile/registry_discovery.h"

#include <toml++/toml.h>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "runner/fs/fs_tree.h"
#include "runner/fs/toml_input.h"
#include "runner/profile/carryover/config_text.h"
#include "runner/profile/markup_sources.h"
#include "sandbox/base/env_vars.h"
#include "sandbox/egress/egress_policy.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;

// A file that cannot be read counts as empty.
std::string config_text(const fs::path& file) {
  auto text = read_small_file(file.string(), kMaxConfigFileBytes, Links::followed);
  return text && *text ? std::move(**text) : std::string();
}

std::string trim(std::string_view s) {
  auto begin = s.find_first_not_of(" \t\r\n\"'");
  if (begin == std::string_view::npos) return {};
  auto end = s.find_last_not_of(" \t\r\n\"',");
  return std::string(s.substr(begin, end - begin + 1));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string env_value(const DiscoveryInput& in, const std::string& name) {
  return in.env == nullptr ? std::string() : safeinstall::env_value(*in.env, name);
}

class Collector {
 public:
  Collector(const DiscoveryInput& in) : in_(in) {}

  // A file path as the receipt shows it: project-relative, ~/-relative or absolute.
  std::string shown(const fs::path& file) const {
    auto text = file.string();
    auto project = in_.project.string() + "/";
    auto home = in_.home.string() + "/";
    if (!in_.project.empty() && text.starts_with(project)) return text.substr(project.size());
    if (!in_.home.empty() && text.starts_with(home)) return "~/" + text.substr(home.size());
    return text;
  }

  void url(std::string_view url, const std::string& source, bool from_project) {
    add(host_pattern_of_url(url), source, from_project);
  }
  // URLs a parser found in `file`; a file that did not parse is named in a note, with where.
  void urls(const MarkupUrls& found, const fs::path& file, bool from_project) {
    if (!found.error.empty())
      out.notes.push_back("not read for registries: " + shown(file) + ": " + found.error);
    for (const auto& u : found.urls) url(u, shown(file), from_project);
  }

  void add(const std::string& pattern, const std::string& source, bool from_project) {
    if (pattern.empty()) return;
    auto parsed = sandbox::parse_host_pattern(pattern);
    if (!parsed) return;
    if (from_project && parsed->address && sandbox::is_non_public_address(*parsed->address)) {
      out.notes.push_back("not allowed from " + source + ": " + pattern +
                          " (a non-public address named by the project; use --allow-host)");
      return;
    }
    if (std::ranges::any_of(out.hosts, [&](const auto& h) { return h.pattern == pattern; })) return;
    out.hosts.push_back({pattern, source});
  }

  const DiscoveryInput& in_;
  Discovery out;
};

// Files of one kind, project first, then the user's.
std::vector<std::pair<fs::path, bool>> candidates(const DiscoveryInput& in,
                                                  std::initializer_list<const char*> project,
                                                  std::initializer_list<const char*> home) {
  std::vector<std::pair<fs::path, bool>> files;
  if (!in.project.empty()) {
    for (const char* p : project) files.push_back({in.project / p, true});
  }
  if (!in.home.empty()) {
    for (const char* h : home) files.push_back({in.home / h, false});
  }
  return files;
}

void read_npmrc(Collector& c) {
  for (const auto& [file, from_project] : candidates(c.in_, {".npmrc"}, {".npmrc"})) {
    for (const auto& line : lines_of(config_text(file))) {
      auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      std::string key = trim(line.substr(0, eq));
      if (key == "registry" || (key.starts_with('@') && key.ends_with(":registry")))
        c.url(trim(line.substr(eq + 1)), c.shown(file), from_project);
    }
  }
  for (const char* name : {"npm_config_registry", "NPM_CONFIG_REGISTRY"})
    c.url(env_value(c.in_, name), name, false);
}

void read_yarnrc(Collector& c) {
  // .yarnrc.yml is YAML; the classic .yarnrc is yarn 1's own `key value` lines.
  static const std::regex classic(R"(^\s*"?registry"?\s+(\S+))");
  for (const auto& [file, from_project] : candidates(c.in_, {".yarnrc.yml"}, {".yarnrc.yml"})) {
    std::string text = config_text(file);
    if (!text.empty()) c.urls(yarnrc_registry_urls(text), file, from_project);
  }
  for (const auto& [file, from_project] : candidates(c.in_, {".yarnrc"}, {".yarnrc"})) {
    for (const auto& line : lines_of(config_text(file))) {
      std::smatch m;
      if (std::regex_search(line, m, classic)) c.url(trim(m[1].str()), c.shown(file), from_project);
    }
  }
  c.url(env_value(c.in_, "YARN_NPM_REGISTRY_SERVER"), "YARN_NPM_REGISTRY_SERVER", false);
}

// --index-url URL, --index-url=URL, -i URL, -iURL, --extra-index-url, -r FILE (followed).
void read_pip_arguments(Collector& c, std::span<const std::string> args, const std::string& source,
                        bool from_project, const fs::path& base, int depth) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value_of = [&](const std::string& long_name,
                        const std::string& short_name) -> std::optional<std::string> {
      if (a == long_name || (!short_name.empty() && a == short_name)) {
        if (i + 1 < args.size()) return args[++i];
        return std::nullopt;
      }
      if (a.starts_with(long_name + "=")) return a.substr(long_name.size() + 1);
      if (!short_name.empty() && a.starts_with(short_name) && a.size() > short_name.size())
        return a.substr(short_name.size());
      return std::nullopt;
    };
    if (auto index = value_of("--index-url", "-i")) {
      c.url(*index, source, from_project);
    } else if (auto extra = value_of("--extra-index-url", "")) {
      c.url(*extra, source, from_project);
    } else if (auto named = value_of("--requirement", "-r"); named && depth < 4) {
      fs::path file = fs::path(*named).is_absolute() ? fs::path(*named) : base / *named;
      std::vector<std::string> words;
      for (const auto& line : lines_of(config_text(file))) {
        std::istringstream split(line.substr(0, line.find(" #")));
        for (std::string w; split >> w;) words.push_back(w);
      }
      read_pip_arguments(c, words, c.shown(file), true, file.parent_path(), depth + 1);
    }
  }
}

void read_pip(Collector& c) {
  std::vector<std::pair<fs::path, bool>> files =
      candidates(c.in_, {"pip.conf"}, {".config/pip/pip.conf", ".pip/pip.conf"});
  files.push_back({c.in_.etc / "pip.conf", false});
  if (auto custom = env_value(c.in_, "PIP_CONFIG_FILE"); !custom.empty())
    files.push_back({custom, false});
  for (const auto& [file, from_project] : files) {
    bool continuing = false;
    for (const auto& line : lines_of(config_text(file))) {
      auto eq = line.find('=');
      bool indented = !line.empty() && (line.front() == ' ' || line.front() == '\t');
      if (continuing && indented && eq == std::string::npos) {
        c.url(trim(line), c.shown(file), from_project);
        continue;
      }
      continuing = false;
      if (eq == std::string::npos) continue;
      std::string key = trim(line.substr(0, eq));
      if (key == "index-url" || key == "extra-index-url" || key == "index_url" ||
          key == "extra_index_url") {
        std::istringstream urls(line.substr(eq + 1));
        for (std::string u; urls >> u;) c.url(u, c.shown(file), from_project);
        continuing = true;
      }
    }
  }
  for (const char* name : {"PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_INDEX_URL",
                           "UV_EXTRA_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX"}) {
    std::istringstream urls(env_value(c.in_, name));
    for (std::string u; urls >> u;) {
      // UV_INDEX entries may be name=url.
      auto eq = u.find('=');
      c.url(eq != std::string::npos && u.find("://") > eq ? u.substr(eq + 1) : u, name, false);
    }
  }
  if (c.in_.argv.size() > 1)
    read_pip_arguments(c, c.in_.argv.subspan(1), "the command line", false, c.in_.project, 0);
}

// pyproject.toml [[tool.uv.index]] / [[tool.poetry.source]] / [[tool.pdm.source]], Pipfile
// [[source]].
void read_pyproject(Collector& c) {
  auto urls_in = [&](const toml::node* node, const fs::path& file) {
    if (node == nullptr || !node->is_array()) return;
    for (const auto& item : *node->as_array()) {
      if (const auto* t = item.as_table()) {
        if (const auto* url = t->get_as<std::string>("url")) c.url(url->get(), c.shown(file), true);
      }
    }
  };
  for (const char* name : {"pyproject.toml", "Pipfile"}) {
    fs::path file = c.in_.project / name;
    std::string text = config_text(file);
    if (text.empty()) continue;
    try {
      auto root = toml::parse(toml_input(text), file.string());
      urls_in(root.at_path("tool.uv.index").node(), file);
      urls_in(root.at_path("tool.poetry.source").node(), file);
      urls_in(root.at_path("tool.pdm.source").node(), file);
      urls_in(root.at_path("source").node(), file);
    } catch (const toml::parse_error&) {
      // A broken project file is the tool's to report.
    }
  }
}

void read_bundler(Collector& c) {
  static const std::regex gemfile(R"(^\s*source\s*\(?\s*["']([^"']+)["'])");
  for (const auto& [file, from_project] : candidates(c.in_, {"Gemfile", "gems.rb"}, {})) {
    for (const auto& line : lines_of(config_text(file))) {
      std::smatch m;
      if (std::regex_search(line, m, gemfile)) c.url(m[1].str(), c.shown(file), from_project);
    }
  }
  for (const auto& [file, from_project] :
       candidates(c.in_, {".bundle/config"}, {".bundle/config"})) {
    std::string text = config_text(file);
    if (!text.empty()) c.urls(bundler_mirror_urls(text), file, from_project);
  }
  for (const auto& [file, from_project] : candidates(c.in_, {}, {".gemrc"})) {
    std::string text = config_text(file);
    if (!text.empty()) c.urls(gemrc_source_urls(text), file, from_project);
  }
}

// [registries.NAME] index, [registry] index, [source.NAME] registry (source replacement).
void read_cargo(Collector& c) {
  for (const auto& [file, from_project] : candidates(c.in_, {".cargo/config.toml", ".cargo/config"},
                                                     {".cargo/config.toml", ".cargo/config"})) {
    std::string text = config_text(file);
    if (text.empty()) continue;
    try {
      auto root = toml::parse(toml_input(text), file.string());
      auto from_tables = [&](const char* section, const char* key) {
        const auto* tables = root[section].as_table();
        if (tables == nullptr) return;
        for (const auto& [name, node] : *tables) {
          if (const auto* t = node.as_table()) {
            if (const auto* url = t->get_as<std::string>(key)) {
              std::string u = url->get();
              if (u.starts_with("sparse+")) u.erase(0, 7);
              c.url(u, c.shown(file), from_project);
            }
          }
        }
      };
      from_tables("registries", "index");
      from_tables("source", "registry");
      if (const auto* index = root.at_path("registry.index").as_string())
        c.url(index->get(), c.shown(file), from_project);
    } catch (const toml::parse_error&) {
    }
  }
}

// GOPROXY=https://proxy.corp,direct; GOPRIVATE=*.corp.example.com,github.com/org (fetched
// directly from their hosts). Also the go env file.
void read_go(Collector& c) {
  auto proxies = [&](const std::string& value, const std::string& source) {
    std::string v = value;
    std::ranges::replace(v, '|', ',');
    std::istringstream in(v);
    for (std::string item; std::getline(in, item, ',');) {
      item = trim(item);
      if (item != "direct" && item != "off") c.url(item, source, false);
    }
  };
  auto privates = [&](const std::string& value, const std::string& source) {
    std::istringstream in(value);
    for (std::string item; std::getline(in, item, ',');) {
      item = trim(item);
      std::string host = item.substr(0, item.find('/'));
      if (host.empty()) continue;
      c.add(host, source, false);
    }
  };
  proxies(env_value(c.in_, "GOPROXY"), "GOPROXY");
  privates(env_value(c.in_, "GOPRIVATE"), "GOPRIVATE");
  if (c.in_.home.empty()) return;
  fs::path file = c.in_.home / ".config/go/env";
  for (const auto& line : lines_of(config_text(file))) {
    if (line.starts_with("GOPROXY=") && env_value(c.in_, "GOPROXY").empty())
      proxies(line.substr(8), c.shown(file));
    if (line.starts_with("GOPRIVATE=") && env_value(c.in_, "GOPRIVATE").empty())
      privates(line.substr(10), c.shown(file));
  }
}

void read_nuget(Collector& c) {
  for (const auto& [file, from_project] :
       candidates(c.in_, {"NuGet.Config", "nuget.config", "NuGet.config"},
                  {".nuget/NuGet/NuGet.Config"})) {
    std::string text = config_text(file);
    if (!text.empty()) c.urls(nuget_source_urls(text), file, from_project);
  }
}

void read_composer(Collector& c) {
  fs::path file = c.in_.project / "composer.json";
  std::string text = config_text(file);
  if (text.empty()) return;
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object() || !json.contains("repositories")) return;
  for (const auto& repo : json["repositories"]) {
    if (repo.is_object() && repo.contains("url") && repo["url"].is_string())
      c.url(repo["url"].get<std::string>(), c.shown(file), true);
  }
}

// <url> inside <mirrors>, <repositories> and <pluginRepositories>; never the project's own
// <url> (a homepage).
void read_maven(Collector& c) {
  for (const auto& [file, from_project] :
       candidates(c.in_, {"pom.xml", ".mvn/settings.xml"}, {".m2/settings.xml"})) {
    std::string text = config_text(file);
    if (!text.empty()) c.urls(maven_repository_urls(text), file, from_project);
  }
}

void read_gradle(Collector& c) {
  static const std::regex repo(
      R"(maven\s*(?:\(\s*|\{[^}]*?url\s*(?:=\s*)?(?:uri\s*\(\s*)?)["']([^"']+)["'])");
  for (const auto& [file, from_project] : candidates(
           c.in_, {"settings.gradle", "settings.gradle.kts", "build.gradle", "build.gradle.kts"},
           {".gradle/init.gradle"})) {
    std::string text = config_text(file);
    for (std::sregex_iterator it(text.begin(), text.end(), repo), end; it != end; ++it)
      c.url((*it)[1].str(), c.shown(file), from_project);
  }
}

}  // namespace

std::string host_pattern_of_url(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::string scheme(url.substr(0, scheme_end));
  std::ranges::transform(scheme, scheme.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (scheme != "https" && scheme != "http") return {};
  auto rest = url.substr(scheme_end + 3);
  auto authority = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = authority.rfind('@'); at != std::string_view::npos)
    authority = authority.substr(at + 1);
  if (authority.empty()) return {};
  std::string host(authority);
  bool has_port = false;
  if (host.front() == '[')
    has_port = host.find("]:") != std::string::npos;
  else
    has_port = host.find(':') != std::string::npos;
  if (!has_port && scheme == "http") host += ":80";
  if (host.ends_with(":443")) host.resize(host.size() - 4);
  return host;
}

Discovery discover_registries(const DiscoveryInput& input) {
  Collector c(input);
  for (const auto& reader : input.readers) {
    if (reader == "npmrc")
      read_npmrc(c);
    else if (reader == "yarnrc")
      read_yarnrc(c);
    else if (reader == "pip")
      read_pip(c);
    else if (reader == "pyproject")
      read_pyproject(c);
    else if (reader == "bundler")
      read_bundler(c);
    else if (reader == "cargo")
      read_cargo(c);
    else if (reader == "go")
      read_go(c);
    else if (reader == "nuget")
      read_nuget(c);
    else if (reader == "composer")
      read_composer(c);
    else if (reader == "maven")
      read_maven(c);
    else if (reader == "gradle")
      read_gradle(c);
  }
  return std::move(c.out);
}

}  // namespace safeinstall::runner
