#pragma once
// The package policy over what a run added to the lockfiles (docs/policy.md), as pure
// functions of the changes, the settings, the time and a metadata lookup:
//   min_release_age  a new version younger than the limit is `too_new` (medium); one whose
//                    publish time cannot be read is a low finding, medium with
//                    release_age_required
//   allow-lists      with allow_packages or allow_maintainers set, a new direct dependency
//                    outside both is `unapproved_dependency` (medium)
//   typosquats       a new direct dependency named like a popular package is `typosquat`
//                    (medium), naming the package it resembles
//   install scripts  a new package with an install script is named: info when [scripts]
//                    allow lists it, low when every script may run, medium when it may not

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "runner/finding.h"
#include "runner/packages/package_set.h"
#include "runner/policy/registry_metadata.h"
#include "runner/profile/package_pattern.h"
#include "runner/profile/profile_schema.h"
#include "runner/profile/script_policy.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

// The [policy.<name>] an ecosystem is configured under: "npm", "pypi", "crates", "rubygems",
// "go", "packagist".
std::string_view policy_ecosystem(Ecosystem ecosystem);

struct ReleaseAgeRule {
  std::chrono::seconds min_age{0};
  std::string text;  // as configured: "3d"
  std::vector<PackagePattern> exclude;
};

struct PolicySettings {
  std::map<std::string, ReleaseAgeRule, std::less<>> release_age;  // by policy_ecosystem()
  bool release_age_required = false;
  std::vector<PackagePattern> allow_packages;
  std::vector<std::string> allow_maintainers;
  bool typosquats = true;
  ScriptPolicy scripts;
  std::vector<PackagePattern> scripts_allow;  // [scripts] allow, with their versions

  bool has_allow_lists() const { return !allow_packages.empty() || !allow_maintainers.empty(); }
  // The rule for one ecosystem: its own [policy.<name>] over [policy]; nullopt when no age is set.
  const ReleaseAgeRule* release_age_for(Ecosystem ecosystem) const;
};

// The merged profile's [policy] and [scripts], and the run's script policy (--scripts or the
// profile's). Values were checked when the profile was read; an error here names the value.
Result<PolicySettings> policy_settings(const PolicyLayer& layer, const std::string& scripts);

using TimePoint = std::chrono::sys_seconds;
using MetadataLookup = std::function<Result<VersionMetadata>(const PackageVersion&)>;

// "name@version"
std::string package_id(const PackageVersion& package);

// One version against its ecosystem's rule, given what the registry said (or why it could not).
std::optional<Finding> release_age_finding(const PackageVersion& package,
                                           const ReleaseAgeRule& rule, bool required,
                                           const Result<VersionMetadata>& metadata, TimePoint now);

// One new direct dependency against the allow-lists; `metadata` is asked only when
// allow_maintainers is set and the name is not allowed already.
std::optional<Finding> allow_list_finding(const PackageVersion& package,
                                          const PolicySettings& settings,
                                          const MetadataLookup& metadata);

// One new direct dependency against its ecosystem's popular names.
std::optional<Finding> typosquat_finding(const PackageVersion& package);

// One new package whose lockfile entry says it has an install script.
Finding install_script_finding(const PackageVersion& package, const PolicySettings& settings);

struct PackagePolicyInput {
  const PackageChanges* changes = nullptr;
  std::set<std::string> install_scripts;  // package_id() of new versions with an install script
  TimePoint now{};
  MetadataLookup metadata;  // asked only when a rule needs the registry
};

// Every finding of the package policy, in the order of the changes.
std::vector<Finding> package_policy_findings(const PackagePolicyInput& input,
                                             const PolicySettings& settings);

}  // namespace safeinstall::runner
