#include "runner/policy/run_package_policy.h"

#include <chrono>

#include "runner/fs/fs_tree.h"
#include "runner/policy/package_policy.h"
#include "runner/policy/registry_client.h"

namespace safeinstall::runner {
namespace {

Finding unreadable(const std::string& why) {
  Finding f;
  f.kind = FindingKind::unapproved_dependency;
  f.severity = Severity::low;
  f.detail = "the package policy could not be read: " + why;
  return f;
}

// The packages whose registry metadata the rules will ask for: new versions under an age rule
// (not excluded), and new direct dependencies when allow_maintainers must be read.
std::vector<PackageVersion> needing_metadata(const PackageChanges& changes,
                                             const PolicySettings& settings) {
  std::vector<PackageVersion> out;
  auto consider = [&](const PackageVersion& p) {
    const ReleaseAgeRule* rule = settings.release_age_for(p.ecosystem);
    if (rule && !any_matches(rule->exclude, p.name, p.version)) out.push_back(p);
  };
  for (const auto& p : changes.added) consider(p);
  for (const auto& c : changes.changed) consider(c.to);
  if (!settings.allow_maintainers.empty()) {
    for (const auto& p : changes.added) {
      if (p.direct && !any_matches(settings.allow_packages, p.name, p.version)) out.push_back(p);
    }
  }
  return out;
}

std::set<std::string> refused_scripts(const RunRecord& record) {
  std::set<std::string> out;
  for (const auto& f : record.findings) {
    if (f.kind == FindingKind::unlisted_script && !f.package.empty()) out.insert(f.package);
  }
  return out;
}

}  // namespace

std::vector<Finding> package_policy_findings(const RunRecord& record, const std::string& scripts) {
  if (!record.plan || !record.packages) return {};
  const PackageChanges& changes = *record.packages;
  if (changes.added.empty() && changes.changed.empty()) return {};

  auto settings = policy_settings(record.plan->package_policy, scripts);
  if (!settings) return {unreadable(settings.error().message())};

  auto npmrc = read_small_file(record.project + "/.npmrc", 1024 * 1024, Links::followed);
  RegistryClient registry(
      registry_bases(record.command, record.plan->spec.env, npmrc && *npmrc ? **npmrc : ""),
      record.plan->egress);
  registry.prefetch(needing_metadata(changes, *settings));
  PackagePolicyInput input;
  input.changes = &changes;
  input.now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  input.metadata = [&registry](const PackageVersion& p) { return registry.lookup(p); };
  auto already = refused_scripts(record);
  auto note_script = [&](const PackageVersion& p) {
    if (p.install_script && !already.contains(package_id(p)))
      input.install_scripts.insert(package_id(p));
  };
  for (const auto& p : changes.added) note_script(p);
  for (const auto& c : changes.changed) note_script(c.to);
  return package_policy_findings(input, *settings);
}

}  // namespace safeinstall::runner
