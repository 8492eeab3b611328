// seccomp: a filter the kernel enforces, and user notification with "continue", which the
// recorder answers execve and connect with.

#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <memory>

#include "sandbox/host_check/checks.h"
#include "sandbox/host_check/probe.h"

namespace safeinstall::sandbox::host_check {
namespace {

using SeccompContext = std::unique_ptr<void, decltype(&seccomp_release)>;

std::string seccomp_fix(int err, const HostKnobs& knobs, bool notify) {
  if (err == EINVAL || err == ENOSYS || err == EOPNOTSUPP) {
    if (confined_by_container(knobs) && err == ENOSYS) return kContainerFix;
    return notify ? "seccomp user notification needs Linux 5.5 or newer (5.0 for the listener, "
                    "5.5 to let calls continue) and libseccomp 2.5; upgrade the kernel"
                  : "the kernel was built without CONFIG_SECCOMP_FILTER; use a distribution "
                    "kernel, all of which have it";
  }
  if (err == EACCES || err == EPERM)
    return confined_by_container(knobs) ? std::string(kContainerFix)
                                        : std::string(
                                              "a security policy refuses seccomp filters; "
                                              "`dmesg` names it");
  if (err == EBUSY)
    return "a seccomp listener already exists in this process tree (nested notifying filters "
           "need Linux 6.x); run safeinstall outside other sandboxes that use user notification";
  return "unexpected seccomp error; `dmesg` may show the kernel's reason";
}

// libseccomp returns -errno.
ChildReport seccomp_failed(int rc, std::string_view step) {
  return failed(Stage::Other, step, -rc);
}

ChildReport load_filter(uint32_t action, int syscall_nr, SeccompContext& ctx) {
  ctx.reset(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return failed(Stage::Other, "seccomp_init", ENOMEM);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return sys_failed(Stage::Other, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
  if (int rc = seccomp_rule_add(ctx.get(), action, syscall_nr, 0); rc < 0)
    return seccomp_failed(rc, "seccomp_rule_add");
  if (int rc = seccomp_load(ctx.get()); rc < 0) return seccomp_failed(rc, "seccomp_load");
  return succeeded("");
}

// Answers one notification with "continue", as the supervisor does for execve and connect.
ChildReport continue_one_notification(int listener) {
  pollfd pfd{listener, POLLIN, 0};
  if (::poll(&pfd, 1, kNestedTimeoutMs) != 1)
    return failed(Stage::Other, "no notification arrived within 1 s", ETIMEDOUT);
  seccomp_notif* request = nullptr;
  seccomp_notif_resp* response = nullptr;
  if (int rc = seccomp_notify_alloc(&request, &response); rc < 0)
    return seccomp_failed(rc, "seccomp_notify_alloc");
  std::unique_ptr<seccomp_notif, void (*)(seccomp_notif*)> owned_request(
      request, [](seccomp_notif* p) { seccomp_notify_free(p, nullptr); });
  std::unique_ptr<seccomp_notif_resp, void (*)(seccomp_notif_resp*)> owned_response(
      response, [](seccomp_notif_resp* p) { seccomp_notify_free(nullptr, p); });
  if (int rc = seccomp_notify_receive(listener, request); rc < 0)
    return seccomp_failed(rc, "seccomp_notify_receive");
  response->id = request->id;
  response->error = 0;
  response->val = 0;
  response->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  if (int rc = seccomp_notify_respond(listener, response); rc < 0)
    return seccomp_failed(rc, "seccomp_notify_respond (continue)");
  return succeeded("");
}

}  // namespace

void check_seccomp_filter(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_forked([] {
    SeccompContext ctx(nullptr, seccomp_release);
    if (auto r = load_filter(SCMP_ACT_ERRNO(ESRCH), SCMP_SYS(getppid), ctx); !r.ok) return r;
    // getppid cannot fail on its own: ESRCH proves the filter runs.
    errno = 0;
    if (::syscall(SYS_getppid) != -1 || errno != ESRCH)
      return failed(Stage::Other, "filter loaded but getppid was not refused", 0);
    return succeeded("no_new_privs set, filter loaded and enforced (libseccomp API level " +
                     std::to_string(seccomp_api_get()) + ")");
  });
  record(check, report, seccomp_fix(report.err, knobs, false), knobs);
}

void check_seccomp_notify(FeatureCheck& check, const HostKnobs& knobs) {
  const ChildReport report = run_forked([] {
    SeccompContext ctx(nullptr, seccomp_release);
    if (auto r = load_filter(SCMP_ACT_NOTIFY, SCMP_SYS(getppid), ctx); !r.ok) return r;
    const int listener = seccomp_notify_fd(ctx.get());
    if (listener < 0) return seccomp_failed(listener, "seccomp_notify_fd");
    const pid_t self = ::getpid();
    const pid_t traced = ::fork();
    if (traced < 0) return sys_failed(Stage::Other, errno, "fork");
    if (traced == 0) ::_exit(::syscall(SYS_getppid) == self ? 0 : 1);
    ChildReport answered = continue_one_notification(listener);
    if (!answered.ok) ::kill(traced, SIGKILL);
    int status = 0;
    reap(traced, &status);
    if (!answered.ok) return answered;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      return failed(Stage::Other, "the continued syscall returned a wrong result", 0);
    return succeeded("listener fd received a notification and let the syscall continue");
  });
  record(check, report, seccomp_fix(report.err, knobs, true), knobs);
}

}  // namespace safeinstall::sandbox::host_check
