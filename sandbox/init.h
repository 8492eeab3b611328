#pragma once
// The sandbox's pid 1: builds the confinement from inside the new namespaces, starts the
// command, forwards signals to it, reaps orphans, and when the command exits reports and
// kills whatever it left behind.

#include <string_view>

#include "sandbox/base/fd.h"
#include "sandbox/base/spec.h"

namespace safeinstall::sandbox {

// The message on `gateway` that carries an fd of each watched file (MountSpec::watched).
inline constexpr std::string_view kWatchedFilesTag = "watched";

// Never returns. `channel` is the sandbox's end of the supervisor's socket pair.
// `gateway` receives the egress gateway's listeners when spec.egress_gateway is set, then
// the watched files' fds when spec.mounts has any.
[[noreturn]] void run_sandbox_init(const Spec& spec, UniqueFd channel, UniqueFd gateway);

}  // namespace safeinstall::sandbox
