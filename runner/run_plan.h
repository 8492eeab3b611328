#pragma once
// The run plan: everything resolved up front (paths, identity, environment, mounts) so the
// sandbox only has to carry it out and the report can say exactly what was set up.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "runner/base_profile.h"
#include "runner/options.h"
#include "runner/toolchains.h"
#include "sandbox/egress_policy.h"
#include "sandbox/error.h"
#include "sandbox/gateway_options.h"
#include "sandbox/spec.h"

namespace safeinstall::runner {

struct Invoker {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string user;
  std::string cwd;
  std::vector<std::string> env;  // NAME=VALUE
  bool stdin_is_terminal = false;
};

struct RunPlan {
  sandbox::Spec spec;
  std::string project;  // canonical
  std::string home;     // the throwaway home's path (the invoker's home path when it exists)
  std::vector<std::string> env_dropped;
  std::vector<std::string> hidden;  // host paths hidden inside
  std::vector<VisiblePath> toolchains;
  std::optional<double> timeout_seconds;
  sandbox::EgressPolicy egress;
  sandbox::GatewayOptions gateway;
  std::vector<std::string> allow_hosts;  // as given, for the receipt
};

Invoker current_invoker();

sandbox::Result<RunPlan> make_run_plan(const Options& options, const BaseProfile& base,
                                       const Invoker& invoker);

}  // namespace safeinstall::runner
