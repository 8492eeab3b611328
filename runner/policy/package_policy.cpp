#include "runner/policy/package_policy.h"

#include <algorithm>

#include "runner/policy/typosquat.h"
#include "runner/profile/release_age.h"

namespace safeinstall::runner {
namespace {

Result<std::vector<PackagePattern>> patterns_of(const SourcedStrings& values) {
  std::vector<PackagePattern> out;
  for (const auto& v : values) {
    auto pattern = parse_package_pattern(v.value);
    if (!pattern)
      return plain_error(v.origin.text() + ": " + pattern.error().step, pattern.error().hint);
    out.push_back(std::move(*pattern));
  }
  return out;
}

Result<std::optional<ReleaseAgeRule>> rule_of(const ReleaseAgeLayer& layer,
                                              const ReleaseAgeLayer* general) {
  const auto& age = layer.min_release_age ? layer.min_release_age
                                          : (general ? general->min_release_age : std::nullopt);
  if (!age) return std::optional<ReleaseAgeRule>();
  auto parsed = parse_age(age->value);
  if (!parsed)
    return plain_error(age->origin.text() + ": " + parsed.error().step, parsed.error().hint);
  ReleaseAgeRule rule{*parsed, age->value, {}};
  for (const auto* source : {general, &layer}) {
    if (source == nullptr) continue;
    auto exclude = patterns_of(source->exclude);
    if (!exclude) return propagate(exclude);
    rule.exclude.insert(rule.exclude.end(), exclude->begin(), exclude->end());
  }
  return std::optional<ReleaseAgeRule>(std::move(rule));
}

// Versions a run brought in: new names, and names whose version moved.
std::vector<const PackageVersion*> new_version_refs(const PackageChanges& changes) {
  std::vector<const PackageVersion*> out;
  for (const auto& p : changes.added) out.push_back(&p);
  for (const auto& c : changes.changed) out.push_back(&c.to);
  return out;
}

Finding package_finding(FindingKind kind, Severity severity, const PackageVersion& package,
                        std::string detail) {
  Finding f;
  f.kind = kind;
  f.severity = severity;
  f.detail = std::move(detail);
  f.package = package_id(package);
  f.path = package.source;
  return f;
}

bool maintained_by_allowed(const VersionMetadata& metadata,
                           const std::vector<std::string>& allowed) {
  return std::ranges::any_of(metadata.maintainers, [&](const std::string& m) {
    return std::ranges::find(allowed, m) != allowed.end();
  });
}

}  // namespace

std::string_view policy_ecosystem(Ecosystem ecosystem) {
  switch (ecosystem) {
    case Ecosystem::npm:
      return "npm";
    case Ecosystem::pypi:
      return "pypi";
    case Ecosystem::crates_io:
      return "crates";
    case Ecosystem::go:
      return "go";
    case Ecosystem::rubygems:
      return "rubygems";
    case Ecosystem::packagist:
      return "packagist";
  }
  return "npm";
}

std::string package_id(const PackageVersion& package) {
  return package.name + "@" + package.version;
}

const ReleaseAgeRule* PolicySettings::release_age_for(Ecosystem ecosystem) const {
  auto it = release_age.find(policy_ecosystem(ecosystem));
  if (it != release_age.end()) return &it->second;
  it = release_age.find("");
  return it == release_age.end() ? nullptr : &it->second;
}

Result<PolicySettings> policy_settings(const PolicyLayer& layer, const std::string& scripts) {
  PolicySettings out;
  auto general = rule_of(layer.release_age, nullptr);
  if (!general) return propagate(general);
  if (*general) out.release_age.emplace("", std::move(**general));
  for (const auto& [name, ecosystem] : layer.ecosystems) {
    auto rule = rule_of(ecosystem, &layer.release_age);
    if (!rule) return propagate(rule);
    if (*rule) out.release_age.emplace(name, std::move(**rule));
  }
  if (layer.release_age_required) out.release_age_required = layer.release_age_required->value;
  if (layer.typosquats) out.typosquats = layer.typosquats->value;
  auto allow = patterns_of(layer.allow_packages);
  if (!allow) return propagate(allow);
  out.allow_packages = std::move(*allow);
  for (const auto& m : layer.allow_maintainers) out.allow_maintainers.push_back(m.value);
  auto script_patterns = patterns_of(layer.scripts_allow);
  if (!script_patterns) return propagate(script_patterns);
  out.scripts_allow = std::move(*script_patterns);
  auto policy = parse_script_policy(scripts);
  if (!policy) return propagate(policy);
  out.scripts = std::move(*policy);
  return out;
}

std::optional<Finding> release_age_finding(const PackageVersion& package,
                                           const ReleaseAgeRule& rule, bool required,
                                           const Result<VersionMetadata>& metadata, TimePoint now) {
  if (any_matches(rule.exclude, package.name, package.version)) return std::nullopt;
  const std::string id = package_id(package);
  if (!metadata || !metadata->published) {
    std::string why = metadata ? "the registry gave no publish time" : metadata.error().message();
    return package_finding(
        FindingKind::too_new, required ? Severity::medium : Severity::low, package,
        "the publish time of " + id + " could not be read (" + why + "); min_release_age is " +
            rule.text + (required ? " and release_age_required is set" : ""));
  }
  auto age = std::max(std::chrono::seconds(0), now - *metadata->published);
  if (age >= rule.min_age) return std::nullopt;
  return package_finding(
      FindingKind::too_new, Severity::medium, package,
      id + " was published " + describe_age(age) + " ago; min_release_age is " + rule.text);
}

std::optional<Finding> allow_list_finding(const PackageVersion& package,
                                          const PolicySettings& settings,
                                          const MetadataLookup& metadata) {
  if (!settings.has_allow_lists()) return std::nullopt;
  if (any_matches(settings.allow_packages, package.name, package.version)) return std::nullopt;
  std::string why;
  if (!settings.allow_maintainers.empty()) {
    if (package.ecosystem != Ecosystem::npm) {
      why = "; allow_maintainers is read from npm only";
    } else if (auto found = metadata(package); !found) {
      why = "; its maintainers could not be read (" + found.error().message() + ")";
    } else if (maintained_by_allowed(*found, settings.allow_maintainers)) {
      return std::nullopt;
    }
  }
  std::string lists = settings.allow_packages.empty()      ? "allow_maintainers"
                      : settings.allow_maintainers.empty() ? "allow_packages"
                                                           : "allow_packages and allow_maintainers";
  return package_finding(
      FindingKind::unapproved_dependency, Severity::medium, package,
      package_id(package) + " is a new direct dependency outside [policy] " + lists + why);
}

std::optional<Finding> typosquat_finding(const PackageVersion& package) {
  auto like = PopularNames::of(policy_ecosystem(package.ecosystem)).resembled_by(package.name);
  if (!like) return std::nullopt;
  return package_finding(FindingKind::typosquat, Severity::medium, package,
                         package_id(package) + " is named like the popular package " +
                             like->popular + " (" + like->how + "); check that " + package.name +
                             " is the package meant");
}

Finding install_script_finding(const PackageVersion& package, const PolicySettings& settings) {
  const std::string id = package_id(package);
  const std::string policy = "--scripts " + settings.scripts.describe();
  if (settings.scripts.mode == ScriptPolicy::Mode::All)
    return package_finding(FindingKind::unlisted_script, Severity::low, package,
                           id + " has an install script; " + policy + " lets every one run");
  if (!settings.scripts.allows(package.name))
    return package_finding(FindingKind::unlisted_script, Severity::medium, package,
                           id + " has an install script, which " + policy + " does not allow");
  // Listed by name; a version given in [scripts] allow must match too.
  std::vector<const PackagePattern*> pinned;
  for (const auto& p : settings.scripts_allow) {
    if (p.matches_name(package.name) && !p.version.empty()) pinned.push_back(&p);
  }
  bool version_ok = pinned.empty() || std::ranges::any_of(pinned, [&](const PackagePattern* p) {
                      return version_matches(p->version, package.version);
                    });
  if (!version_ok)
    return package_finding(FindingKind::unlisted_script, Severity::medium, package,
                           id + " has an install script; [scripts] allow names " +
                               pinned.front()->text + ", not this version");
  return package_finding(FindingKind::unlisted_script, Severity::info, package,
                         id + " has an install script, allowed by " + policy);
}

std::vector<Finding> package_policy_findings(const PackagePolicyInput& input,
                                             const PolicySettings& settings) {
  std::vector<Finding> out;
  if (input.changes == nullptr) return out;
  auto add = [&](std::optional<Finding> f) {
    if (f) out.push_back(std::move(*f));
  };
  for (const PackageVersion* p : new_version_refs(*input.changes)) {
    if (const ReleaseAgeRule* rule = settings.release_age_for(p->ecosystem))
      add(release_age_finding(*p, *rule, settings.release_age_required, input.metadata(*p),
                              input.now));
  }
  for (const auto& p : input.changes->added) {
    if (!p.direct) continue;
    add(allow_list_finding(p, settings, input.metadata));
    bool approved = any_matches(settings.allow_packages, p.name, p.version);
    if (settings.typosquats && !approved) add(typosquat_finding(p));
  }
  for (const PackageVersion* p : new_version_refs(*input.changes)) {
    if (input.install_scripts.contains(package_id(*p)))
      out.push_back(install_script_finding(*p, settings));
  }
  return out;
}

}  // namespace safeinstall::runner
