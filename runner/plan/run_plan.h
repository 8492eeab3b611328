#pragma once
// The run plan: everything resolved up front (paths, identity, environment, mounts) so the
// sandbox only has to carry it out and the report can say exactly what was set up.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "runner/cache/package_cache.h"
#include "runner/fs/path_globs.h"
#include "runner/options.h"
#include "runner/plan/decoys.h"
#include "runner/plan/toolchains.h"
#include "runner/profile/auto_run_rules.h"
#include "runner/profile/base_profile.h"
#include "runner/profile/carryover/sanitized_config.h"
#include "runner/profile/profile_schema.h"
#include "sandbox/base/error.h"
#include "sandbox/base/spec.h"
#include "sandbox/egress/egress_policy.h"
#include "sandbox/egress/gateway_options.h"

namespace safeinstall::runner {

struct Invoker {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string user;
  std::string cwd;
  std::vector<std::string> env;  // NAME=VALUE
  bool stdin_is_terminal = false;
};

// Where the tool writes its logs in the throwaway home (the profile's [[logs]]), to be kept
// with the run (runner/plan/tool_logs.h).
struct LogPlace {
  std::string inside;  // <home>/.npm/_logs
  std::string env;     // a variable that makes the tool log there; may be empty
  std::string file;    // set, the variable names <inside>/<file> rather than the directory
};

struct RunPlan {
  sandbox::Spec spec;
  std::string project;  // canonical
  std::string home;     // the throwaway home's path (the invoker's home path when it exists)
  std::vector<std::string> env_dropped;
  std::vector<WithheldSettings> config_dropped;  // settings kept out of carried configuration
  std::vector<std::string> visible;  // host paths the sandbox sees read-only (the allow-list)
  std::vector<std::string> hidden;   // host paths hidden inside those
  // Directories outside the project its manifests name as local dependencies (file:../x),
  // shown read-only at the same path (runner/plan/local_dependencies.h).
  std::vector<std::string> local_dependencies;
  std::vector<VisiblePath> toolchains;
  std::optional<double> timeout_seconds;
  sandbox::EgressPolicy egress;
  sandbox::GatewayOptions gateway;
  std::vector<std::string> allow_hosts;  // as given, for the receipt
  // The profile used and what it added (discovered registries, carried-over configuration),
  // one receipt line each.
  std::vector<std::string> profile_notes;
  // The profile's [files] direct names, and the upper dirs stage_project bound for them (those
  // the project did not have): after the run, an empty one is removed as never written.
  std::vector<std::string> direct_dirs;
  std::vector<std::string> direct_uppers;
  // The project writes the verdict counts as expected: the profile's [files] expected globs
  // and --expect. Made once, here; everything after the command judges with this set.
  GlobSet expected_writes;
  // Decoy credentials in the home (runner/plan/decoys.h); their values never reach the
  // report, only their names.
  std::vector<Decoy> decoys;
  std::vector<std::string> decoy_tool_reads;  // the profile's tool reads these itself
  // The profile's [autorun] points and acceptances: files under the expected paths that run
  // by themselves later, checked before promotion.
  AutoRunRules autorun;
  // An install command's manifests (the profile's [files] manifests): their dependency
  // sections may change. Empty for other commands.
  std::vector<std::string> dependency_manifests;
  // The profile's [[logs]], in the throwaway home.
  std::vector<LogPlace> log_places;
  // The profile's [policy] and [scripts], for the package policy after the command.
  PolicyLayer package_policy;
};

Invoker current_invoker();

// Where a run's writes to the project go instead of the project: the overlay's upper and work
// dirs, and the host directories holding other runs' staged data, which the sandbox must not
// see (the state dir, a staging dir beside the project).
struct ProjectStaging {
  std::string upper;
  std::string work;
  std::vector<std::string> hide;
};

// Replaces the read-write project bind with an overlay: lower = the real project, writes
// staged in `staging`. The sandbox then never writes the real project. Each of
// plan.direct_dirs the project lacks is made in the upper dir and bound over the overlay's:
// the tool writes it at plain-filesystem speed, and the upper dir still holds every write.
Result<> stage_project(RunPlan& plan, const ProjectStaging& staging);

// Mounts each package cache as an overlay at its place in the throwaway home (lower = the
// persistent cache, writes staged in the run's dir) and sets its variables; the cache root
// itself is hidden wherever the home does not already hide it.
Result<> mount_caches(RunPlan& plan, const std::vector<CacheStaging>& caches);

// Parents before children, so every mount lands on top of the one that should hold it.
void order_mounts(std::vector<sandbox::MountSpec>& mounts);

Result<RunPlan> make_run_plan(const Options& options, const BaseProfile& base,
                              const Invoker& invoker);

}  // namespace safeinstall::runner
