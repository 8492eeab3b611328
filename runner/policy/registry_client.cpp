#include "runner/policy/registry_client.h"

#include <algorithm>

namespace safeinstall::runner {
namespace {

std::string with_slash(std::string url) {
  if (!url.ends_with('/')) url += '/';
  return url;
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

std::string npmrc_registry(const std::string& text) {
  std::string value;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    std::string line =
        text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? text.size() : end + 1;
    line.erase(0, line.find_first_not_of(" \t"));
    if (!line.starts_with("registry")) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos || line.find_first_not_of(" \t", 8) != eq) continue;
    value = line.substr(eq + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t\r") + 1);
  }
  return value;
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

}  // namespace

RegistryBases registry_bases(const std::vector<std::string>& argv,
                             const std::vector<std::string>& env,
                             const std::string& project_npmrc) {
  RegistryBases bases;
  std::string npm = flag_value(argv, {"--registry"});
  if (npm.empty()) npm = env_value(env, "npm_config_registry");
  if (npm.empty()) npm = env_value(env, "NPM_CONFIG_REGISTRY");
  if (npm.empty()) npm = npmrc_registry(project_npmrc);
  if (!npm.empty()) bases.npm = with_slash(npm);
  std::string pypi = flag_value(argv, {"--index-url", "-i"});
  if (pypi.empty()) pypi = env_value(env, "PIP_INDEX_URL");
  if (!pypi.empty()) bases.pypi = pypi_site(pypi);
  return bases;
}

Result<std::string> metadata_url(const RegistryBases& bases, const PackageVersion& p) {
  switch (p.ecosystem) {
    case Ecosystem::npm:
      return bases.npm + npm_escaped(p.name);
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
