#pragma once
// From the command line to the profile a run uses, and from the profile to the run plan:
// hosts (the profile's and the registries the user's configuration names), environment,
// caches, read-only paths, the user's tool configuration without secrets, and the expected
// and protected globs the verdict reads.

#include <string>

#include "runner/options.h"
#include "runner/plan/run_plan.h"
#include "runner/profile/base_profile.h"
#include "runner/profile/profile_layers.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

struct RunProfile {
  ResolvedProfile profile;
  Options options;  // as given, with the profile's script policy unless --scripts was given
  BaseProfile base;
};

// Resolves the profile for `given.command` (or --profile) over every layer, and makes its
// protected globs the verdict's (path_globs.h use_profile_protected).
Result<RunProfile> resolve_run_profile(const Options& given, const Invoker& invoker);

// The base profile over the built-in, system and user layers, without a project's: the
// invoker's own housekeeping settings ([runs]) for commands that run no command.
Result<BaseProfile> housekeeping_profile(const Invoker& invoker);

// Adds what the profile asks for to a plan made with run.base and run.options, the expected
// project writes (the profile's and --expect) among them.
Result<> apply_profile(RunPlan& plan, const RunProfile& run, const Invoker& invoker);

// "${HOME}/.npm" with the sandbox's values.
std::string expand_placeholders(const std::string& value, const RunPlan& plan);

}  // namespace safeinstall::runner
