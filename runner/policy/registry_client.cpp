#include "runner/policy/registry_client.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string_view>

namespace safeinstall::runner {
namespace {

std::string with_slash(std::string url) {
  if (!url.ends_with('/')) url += '/';
  return url;
}

std::string trimmed(std::string text) {
  text.erase(0, text.find_first_not_of(" \t"));
  text.erase(text.find_last_not_of(" \t\r") + 1);
  return text;
}

// "@myorg:registry" -> "@myorg"; npm reads configuration keys case-insensitively from the
// environment, where the scope keeps its case.
std::optional<std::string> scope_of_registry_key(std::string_view key) {
  constexpr std::string_view kSuffix = ":registry";
  if (key.size() <= kSuffix.size() + 1 || key.front() != '@') return std::nullopt;
  std::string_view suffix = key.substr(key.size() - kSuffix.size());
  if (!std::ranges::equal(suffix, kSuffix, [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == b;
      }))
    return std::nullopt;
  std::string scope(key.substr(0, key.size() - kSuffix.size()));
  if (scope.find('/') != std::string::npos) return std::nullopt;
  return scope;
}

std::string env_value(const std::vector<std::string>& env, std::string_view name) {
  for (const auto& entry : env) {
    if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=')
      return entry.substr(name.size() + 1);
  }
  return {};
}

// `--name VALUE` or `--name=VALUE`, the last one given.
std::string flag_value(const std::vector<std::string>& argv,
                       std::initializer_list<std::string_view> names) {
  std::string value;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    for (auto name : names) {
      if (argv[i] == name && i + 1 < argv.size()) value = argv[i + 1];
      if (argv[i].size() > name.size() && argv[i].starts_with(name) && argv[i][name.size()] == '=')
        value = argv[i].substr(name.size() + 1);
    }
  }
  return value;
}

// The `registry=` line and the `@scope:registry=` lines of an .npmrc, the last of each.
struct NpmrcRegistries {
  std::string registry;
  std::map<std::string, std::string> scopes;
};

NpmrcRegistries npmrc_registries(const std::string& text) {
  NpmrcRegistries out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    std::string line =
        text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? text.size() : end + 1;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trimmed(line.substr(0, eq));
    std::string value = trimmed(line.substr(eq + 1));
    if (key == "registry")
      out.registry = value;
    else if (auto scope = scope_of_registry_key(key))
      out.scopes[*scope] = value;
  }
  return out;
}

// A PEP 503 index URL ("https://pypi.org/simple/") -> the site its JSON API lives on.
std::string pypi_site(std::string index) {
  while (index.ends_with('/')) index.pop_back();
  if (index.ends_with("/simple")) index.resize(index.size() - 7);
  return with_slash(index);
}

std::string npm_escaped(const std::string& name) {
  std::string out = name;
  if (auto slash = out.find('/'); name.starts_with('@') && slash != std::string::npos)
    out.replace(slash, 1, "%2f");
  return out;
}

const std::string& npm_registry_for(const RegistryBases& bases, const std::string& name) {
  if (name.starts_with('@')) {
    auto scoped = bases.npm_scopes.find(name.substr(0, name.find('/')));
    if (scoped != bases.npm_scopes.end()) return scoped->second;
  }
  return bases.npm;
}

}  // namespace

RegistryBases registry_bases(const std::vector<std::string>& argv,
                             const std::vector<std::string>& env,
                             const std::string& project_npmrc) {
  RegistryBases bases;
  std::string npm = flag_value(argv, {"--registry"});
  if (npm.empty()) npm = env_value(env, "npm_config_registry");
  if (npm.empty()) npm = env_value(env, "NPM_CONFIG_REGISTRY");
  NpmrcRegistries npmrc = npmrc_registries(project_npmrc);
  if (npm.empty()) npm = npmrc.registry;
  if (!npm.empty()) bases.npm = with_slash(npm);
  // Lowest precedence first: the project's .npmrc, then the environment, then the flags.
  for (auto& [scope, url] : npmrc.scopes) bases.npm_scopes[scope] = with_slash(url);
  for (const auto& entry : env) {
    constexpr std::string_view kPrefix = "npm_config_";
    auto eq = entry.find('=');
    if (eq == std::string::npos || eq <= kPrefix.size()) continue;
    std::string lowered = entry.substr(0, kPrefix.size());
    for (auto& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lowered != kPrefix) continue;
    auto scope =
        scope_of_registry_key(std::string_view(entry).substr(kPrefix.size(), eq - kPrefix.size()));
    if (scope && eq + 1 < entry.size()) bases.npm_scopes[*scope] = with_slash(entry.substr(eq + 1));
  }
  for (std::size_t i = 0; i < argv.size(); ++i) {
    std::string_view arg = argv[i];
    if (!arg.starts_with("--@")) continue;
    auto eq = arg.find('=');
    auto scope = scope_of_registry_key(
        arg.substr(2, eq == std::string_view::npos ? std::string_view::npos : eq - 2));
    if (!scope) continue;
    if (eq != std::string_view::npos)
      bases.npm_scopes[*scope] = with_slash(std::string(arg.substr(eq + 1)));
    else if (i + 1 < argv.size())
      bases.npm_scopes[*scope] = with_slash(argv[i + 1]);
  }
  std::string pypi = flag_value(argv, {"--index-url", "-i"});
  if (pypi.empty()) pypi = env_value(env, "PIP_INDEX_URL");
  if (!pypi.empty()) bases.pypi = pypi_site(pypi);
  return bases;
}

Result<std::string> metadata_url(const RegistryBases& bases, const PackageVersion& p) {
  switch (p.ecosystem) {
    case Ecosystem::npm:
      return npm_registry_for(bases, p.name) + npm_escaped(p.name);
    case Ecosystem::pypi:
      return bases.pypi + "pypi/" + p.name + "/" + p.version + "/json";
    case Ecosystem::crates_io:
      return bases.crates + "api/v1/crates/" + p.name + "/" + p.version;
    case Ecosystem::rubygems:
      return bases.rubygems + "api/v1/versions/" + p.name + ".json";
    case Ecosystem::go:
    case Ecosystem::packagist:
      break;
  }
  return plain_error("no registry metadata is read for " + p.name + "'s ecosystem");
}

RegistryClient::RegistryClient(RegistryBases bases, sandbox::EgressPolicy allowed,
                               HttpGetLimits limits)
    : bases_(std::move(bases)), allowed_(std::move(allowed)), limits_(limits) {}

void RegistryClient::keep(const std::string& url, Result<std::string> body) {
  // A host that let one request time out would make every other wait as long.
  if (!body && body.error().step.find("no answer within") != std::string::npos) {
    if (auto parsed = parse_url(url)) unreachable_.insert(parsed->host);
  }
  documents_.insert_or_assign(url, std::move(body));
}

void RegistryClient::prefetch(const std::vector<PackageVersion>& packages) {
  std::vector<std::string> urls;
  for (const auto& p : packages) {
    auto url = metadata_url(bases_, p);
    if (!url || documents_.contains(*url) || std::ranges::find(urls, *url) != urls.end()) continue;
    urls.push_back(std::move(*url));
  }
  auto bodies = http_get_all(urls, allowed_, limits_);
  for (std::size_t i = 0; i < urls.size(); ++i) keep(urls[i], std::move(bodies[i]));
}

Result<std::string> RegistryClient::document(const std::string& url) {
  if (auto cached = documents_.find(url); cached != documents_.end()) return cached->second;
  auto parsed = parse_url(url);
  if (!parsed) return propagate(parsed);
  if (unreachable_.contains(parsed->host))
    return plain_error(url + ": " + parsed->host + " did not answer an earlier request in time");
  keep(url, http_get(url, allowed_, limits_));
  return documents_.at(url);
}

Result<VersionMetadata> RegistryClient::lookup(const PackageVersion& p) {
  auto url = metadata_url(bases_, p);
  if (!url) return propagate(url);
  auto body = document(*url);
  if (!body) return propagate(body);
  switch (p.ecosystem) {
    case Ecosystem::npm:
      return npm_version_metadata(*body, p.version);
    case Ecosystem::pypi:
      return pypi_version_metadata(*body, p.version);
    case Ecosystem::crates_io:
      return crates_version_metadata(*body);
    case Ecosystem::rubygems:
      return rubygems_version_metadata(*body, p.version);
    default:
      break;
  }
  return plain_error("no registry metadata is read for " + p.name + "'s ecosystem");
}

}  // namespace safeinstall::runner
