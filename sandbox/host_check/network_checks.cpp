// The network namespace: loopback brought up by the sandbox's own code, and TCP over it.

#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>

#include <string>

#include "sandbox/base/fd.h"
#include "sandbox/confine/network.h"
#include "sandbox/host_check/checks.h"
#include "sandbox/host_check/probe_steps.h"

namespace safeinstall::sandbox::host_check {
namespace {

// The gateway's listeners live on the sandbox's loopback: a connection over it proves it works.
ChildReport connect_over_loopback() {
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener || !client) return sys_failed(Stage::Other, errno, "socket(AF_INET)");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  auto* generic = reinterpret_cast<sockaddr*>(&address);
  if (::bind(listener.get(), generic, length) != 0 || ::listen(listener.get(), 1) != 0 ||
      ::getsockname(listener.get(), generic, &length) != 0)
    return sys_failed(Stage::Other, errno, "listen on 127.0.0.1");
  if (::connect(client.get(), generic, length) != 0)
    return sys_failed(Stage::Other, errno, "connect to 127.0.0.1");
  return succeeded("");
}

}  // namespace

void check_loopback(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_forked([] {
    if (auto r = enter_namespaces(CLONE_NEWNET); !r.ok) return r;
    // The sandbox's pid 1 brings loopback up with this very call (sandbox/confine/network.h).
    if (auto up = bring_loopback_up(); !up) return failed_with(Stage::Other, up.error());
    if (auto r = connect_over_loopback(); !r.ok) return r;
    return succeeded("lo brought up in a new network namespace; TCP over 127.0.0.1 works");
  });
  if (report.ok || report.stage == Stage::Namespace || report.stage == Stage::IdMap)
    return record(check, report, MountFs::Tmpfs, knobs);
  record(check, report,
         confined_by_container(knobs)
             ? std::string(kContainerFix)
             : std::string("the kernel refused to configure loopback in a new network namespace; "
                           "`dmesg` may name the refusing policy"),
         knobs);
}

}  // namespace safeinstall::sandbox::host_check
