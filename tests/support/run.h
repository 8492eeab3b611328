#pragma once
// Runs a command the way the tests need it: captured stdout/stderr, a hard timeout, optional
// stdin, environment edits, and optionally as another user.
//
// as_user: the command is run as `setpriv --reuid=U --regid=U --clear-groups -- argv...`, so the
// caller must be root (setpriv fails otherwise, and that failure is what the result shows).
// The group is the uid's number too, which is right for the users the tests use (65534 =
// nobody/nogroup). The environment is not changed for the user: HOME etc. stay as given.
//
// The child runs in its own process group; on timeout the whole group is SIGKILLed, so a
// shell and the sleep it started both die. Processes that left the group (setsid) are not
// chased, and if they keep stdout/stderr open, run() stops reading shortly after the child
// it started has exited instead of waiting for them.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace safeinstall::test {

struct RunOptions {
  std::vector<std::string> env_overrides;  // NAME=VALUE, applied after env_remove
  std::vector<std::string> env_remove;     // NAMEs
  std::optional<uid_t> as_user;            // via setpriv, see above; needs root
  std::string cwd;                         // empty: the caller's
  std::chrono::milliseconds timeout{60000};
  std::string stdin_data;   // then stdin is closed
  bool inherit_env = true;  // false: only env_overrides
};

struct RunResult {
  int exit_code = -1;  // the exit status, or 128 + signal when killed by one
  bool timed_out = false;
  std::string out, err;
  std::chrono::milliseconds elapsed{0};
};

// Never throws for the command's own failures: a command that cannot be started gives exit
// code 127 (not found) or 126 (not executable) and the reason in `err`, like a shell would.
RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});

// `setpriv --reuid=U --regid=U --clear-groups -- argv...`: what run() does for as_user, for
// callers who need the switch somewhere inside a longer command line (e.g. after
// `ip netns exec`, which itself needs root).
std::vector<std::string> as_user_argv(uid_t uid, const std::vector<std::string>& argv);

// Full path of an executable found on PATH (then the usual sbin/bin directories, which a
// non-login root shell may lack); empty if none. A name with a slash is returned as is when
// it is executable.
std::string which(const std::string& name);

bool running_as_root();

}  // namespace safeinstall::test
