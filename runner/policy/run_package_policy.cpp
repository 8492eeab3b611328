#include "runner/policy/run_package_policy.h"

#include <sys/stat.h>

#include <chrono>

#include "runner/fs/fs_tree.h"
#include "runner/policy/npm_lock_changes.h"
#include "runner/policy/package_policy.h"
#include "runner/policy/registry_client.h"

namespace safeinstall::runner {
namespace {

constexpr const char* kNpmLock = "package-lock.json";
// Lockfiles of large monorepos run to tens of MB; beyond this one is not read.
constexpr std::size_t kMaxLockBytes = 256 * 1024 * 1024;

enum class StagedState { unchanged, removed, written };

StagedState staged_state(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return StagedState::unchanged;
  // An overlay whiteout (a 0/0 character device) marks a deletion.
  if (S_ISCHR(st.st_mode)) return StagedState::removed;
  return S_ISREG(st.st_mode) ? StagedState::written : StagedState::unchanged;
}

Result<NpmLock> lock_at(const std::string& path) {
  auto text = read_small_file(path, kMaxLockBytes);
  if (!text) return propagate(text);
  if (!*text) return NpmLock{};
  return read_npm_lock(**text, kNpmLock);
}

Finding unreadable(const std::string& why) {
  Finding f;
  f.kind = FindingKind::unapproved_dependency;
  f.severity = Severity::low;
  f.detail = "the package policy could not read the lockfiles: " + why;
  f.path = kNpmLock;
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

std::vector<Finding> package_policy_findings(const RunRecord& record, const std::string& upper,
                                             const std::string& scripts) {
  if (!record.plan) return {};
  const std::string staged = upper + "/" + kNpmLock;
  auto state = staged_state(staged);
  if (state == StagedState::unchanged) return {};
  auto before = lock_at(record.project + "/" + kNpmLock);
  if (!before) return {unreadable(before.error().message())};
  NpmLock after;
  if (state == StagedState::written) {
    auto read = lock_at(staged);
    if (!read) return {unreadable(read.error().message())};
    after = std::move(*read);
  }
  PackageChanges changes = npm_lock_changes(before->packages, after.packages);
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
  for (const auto& id : after.install_scripts) {
    if (!already.contains(id)) input.install_scripts.insert(id);
  }
  return package_policy_findings(input, *settings);
}

}  // namespace safeinstall::runner
