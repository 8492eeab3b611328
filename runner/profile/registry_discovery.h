#pragma once
// Registries the user configured for their tools, so a private or mirrored registry works
// without --allow-host: `.npmrc` registry= and @scope:registry=, `.yarnrc.yml`
// npmRegistryServer (also under npmScopes), pip.conf / PIP_INDEX_URL / PIP_EXTRA_INDEX_URL /
// -i / --index-url / --extra-index-url in argv and in requirements files named by -r,
// pyproject.toml / Pipfile sources, `.bundle/config` mirrors and Gemfile `source`, `.gemrc`
// sources, `.cargo/config.toml` registries and source replacement, GOPROXY / GOPRIVATE,
// NuGet.Config package sources, composer.json repositories, maven settings.xml mirrors and
// repositories, gradle repositories. Only host names leave this file; credentials in URLs
// are dropped. A non-public IP literal found in a project's own files is not allowed (a
// cloned project must not open the way to 169.254.169.254); the same in the user's files is.

#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace safeinstall::runner {

struct DiscoveredHost {
  std::string pattern;  // as --allow-host takes it: "npm.example.com", "mirror.local:8080"
  std::string source;   // where it was found: ".npmrc", "~/.config/pip/pip.conf", "PIP_INDEX_URL"
};

struct DiscoveryInput {
  std::span<const std::string> readers;  // the profile's [network].discover
  std::span<const std::string> argv;
  const std::vector<std::string>* env = nullptr;  // the invoker's NAME=VALUE
  std::filesystem::path project;
  std::filesystem::path home;          // the invoker's real home; empty when there is none
  std::filesystem::path etc = "/etc";  // system-wide configuration (pip.conf)
};

struct Discovery {
  std::vector<DiscoveredHost> hosts;
  std::vector<std::string> notes;  // what was found but not allowed, and why
};

Discovery discover_registries(const DiscoveryInput& input);

// "https://user:pw@npm.example.com:8443/path" → "npm.example.com:8443"; "" when it is not a
// URL with a host. http:// without a port gives host:80, https:// host (443).
std::string host_pattern_of_url(std::string_view url);

}  // namespace safeinstall::runner
