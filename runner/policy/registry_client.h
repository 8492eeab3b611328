#pragma once
// Registry metadata for the package policy, fetched by the runner after the command: from the
// registry the run used (npm: --registry, npm_config_registry, the project's .npmrc; PyPI:
// --index-url / PIP_INDEX_URL; else the public registry), only when the run's egress policy
// allows its host, with a short timeout, one request per document per run.

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "runner/packages/package_set.h"
#include "runner/policy/http_get.h"
#include "runner/policy/registry_metadata.h"
#include "sandbox/base/error.h"
#include "sandbox/egress/egress_policy.h"

namespace safeinstall::runner {

struct RegistryBases {
  std::string npm = "https://registry.npmjs.org/";
  std::map<std::string, std::string> npm_scopes;  // "@myorg" -> its registry (@scope:registry)
  std::string pypi = "https://pypi.org/";
  std::string crates = "https://crates.io/";
  std::string rubygems = "https://rubygems.org/";
};

// The registries a run used, from its argv, the sandbox's environment (NAME=VALUE) and the
// project's .npmrc (its `registry=` and `@scope:registry=` lines, when given). A scoped
// package's metadata comes from its scope's registry, as npm fetched it.
RegistryBases registry_bases(const std::vector<std::string>& argv,
                             const std::vector<std::string>& env, const std::string& project_npmrc);

// The URL of the metadata document for one version (see registry_metadata.h).
Result<std::string> metadata_url(const RegistryBases& bases, const PackageVersion& package);

class RegistryClient {
 public:
  RegistryClient(RegistryBases bases, sandbox::EgressPolicy allowed, HttpGetLimits limits = {});

  // Fetches the documents `packages` need that are not fetched yet, several at once, so that
  // lookup() then answers from the cache.
  void prefetch(const std::vector<PackageVersion>& packages);

  Result<VersionMetadata> lookup(const PackageVersion& package);

 private:
  Result<std::string> document(const std::string& url);
  void keep(const std::string& url, Result<std::string> body);

  RegistryBases bases_;
  sandbox::EgressPolicy allowed_;
  HttpGetLimits limits_;
  std::map<std::string, Result<std::string>> documents_;  // by URL
  std::set<std::string> unreachable_;                     // hosts that timed out once
};

}  // namespace safeinstall::runner
