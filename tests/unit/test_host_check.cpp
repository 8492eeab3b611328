#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/confine/mounts.h"
#include "sandbox/confine/network.h"
#include "sandbox/confine/userns.h"
#include "sandbox/host_check/host_check.h"

using safeinstall::sandbox::check_host_features;
using safeinstall::sandbox::explain_namespace_failure;
using safeinstall::sandbox::FeatureCheck;
using safeinstall::sandbox::sandbox_can_be_built;
using safeinstall::sandbox::StagingOverlay;

namespace {

// Tries a user namespace in a throwaway child, independently of the code under test, so a
// kernel that refuses namespaces makes the tests skip instead of fail. Empty when it works.
std::string user_namespace_refusal() {
  const pid_t child = ::fork();
  if (child < 0) return std::string("fork: ") + std::strerror(errno);
  if (child == 0) ::_exit(::unshare(CLONE_NEWUSER) == 0 ? 0 : errno);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  const int err = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
  return std::string("this kernel refuses unshare(CLONE_NEWUSER): ") + std::strerror(err) +
         "; hint: " + explain_namespace_failure(err);
}

const FeatureCheck* find_check(const std::vector<FeatureCheck>& checks, std::string_view name) {
  for (const auto& check : checks) {
    if (check.name == name) return &check;
  }
  return nullptr;
}

std::string read_all(const char* path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string namespace_id(const char* kind) {
  char target[64] = {};
  const std::string link = std::string("/proc/self/ns/") + kind;
  const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
  return n > 0 ? std::string(target, static_cast<std::size_t>(n)) : std::string();
}

// Runs `body` in a child, in a new user namespace mapped as the launcher maps it and in the
// namespaces `flags` names: true when body returned true. The body must not use Catch.
template <typename Body>
bool in_new_namespaces(int flags, Body body) {
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  const pid_t child = ::fork();
  if (child < 0) return false;
  if (child == 0) {
    if (::unshare(CLONE_NEWUSER) != 0 ||
        !safeinstall::sandbox::write_identity_maps(::getpid(), uid, gid) || ::unshare(flags) != 0)
      ::_exit(2);
    ::_exit(body() ? 0 : 1);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// What the launch does for the project: the sandbox's overlay mount, here on a private tmpfs.
bool launch_mounts_staging_overlay() {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return false;
  if (::mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") != 0) return false;
  for (const char* dir : {"/tmp/lower", "/tmp/upper", "/tmp/work", "/tmp/merged"}) {
    if (::mkdir(dir, 0700) != 0) return false;
  }
  const StagingOverlay dirs{"/tmp/lower", "/tmp/upper", "/tmp/work"};
  return safeinstall::sandbox::mount_staging_overlay("/tmp/merged", dirs, "mount").has_value();
}

}  // namespace

TEST_CASE("host check: names are unique and every failure says how to fix it", "[host_check]") {
  const auto checks = check_host_features();
  REQUIRE_FALSE(checks.empty());
  std::set<std::string> names;
  for (const auto& check : checks) {
    INFO(check.name << ": " << check.detail);
    CHECK_FALSE(check.name.empty());
    CHECK_FALSE(check.description.empty());
    CHECK(names.insert(check.name).second);
    CHECK_FALSE(check.detail.empty());
    if (check.ok)
      CHECK(check.fix.empty());
    else
      CHECK_FALSE(check.fix.empty());
  }
  CHECK(checks.front().name == "user-namespace");
  CHECK((find_check(checks, "user-namespace-unprivileged") != nullptr) == (::geteuid() == 0));
}

TEST_CASE("host check: the features this machine supports are reported ok", "[host_check]") {
  if (const auto refusal = user_namespace_refusal(); !refusal.empty()) {
    WARN("skipped: " << refusal);
    return;
  }
  const auto checks = check_host_features();
  for (const char* name : {"user-namespace", "mount-namespace", "pid-namespace", "net-namespace",
                           "tmpfs-mount", "proc-mount", "pivot-root", "seccomp-filter"}) {
    const FeatureCheck* check = find_check(checks, name);
    REQUIRE(check != nullptr);
    INFO(name << ": " << check->detail << " | fix: " << check->fix);
    CHECK(check->ok);
  }
}

TEST_CASE("host check: the caller's namespaces and mounts are untouched", "[host_check]") {
  const std::string mounts_before = read_all("/proc/self/mountinfo");
  const std::string user_ns = namespace_id("user");
  const std::string mnt_ns = namespace_id("mnt");
  const std::string net_ns = namespace_id("net");
  const auto started = std::chrono::steady_clock::now();
  (void)check_host_features();
  const auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(read_all("/proc/self/mountinfo") == mounts_before);
  CHECK(namespace_id("user") == user_ns);
  CHECK(namespace_id("mnt") == mnt_ns);
  CHECK(namespace_id("net") == net_ns);
  // Normally well under 200 ms; the bound only catches a probe that hangs until its timeout.
  CHECK(elapsed < std::chrono::seconds(2));
}

TEST_CASE("host check: buildable means every required check passed", "[host_check]") {
  std::vector<FeatureCheck> checks(2);
  checks[0].name = "required";
  checks[0].ok = true;
  checks[1].name = "optional";
  checks[1].required = false;
  checks[1].ok = false;
  CHECK(sandbox_can_be_built(checks));
  checks[0].ok = false;
  CHECK_FALSE(sandbox_can_be_built(checks));
  CHECK(sandbox_can_be_built({}));
}

TEST_CASE("host check: namespace failures get a concrete hint", "[host_check]") {
  for (const int err : {EPERM, EACCES, ENOSPC, EINVAL, ENOSYS, ENOMEM, EIO}) {
    INFO("errno " << err);
    CHECK_FALSE(explain_namespace_failure(err).empty());
  }
  CHECK_THAT(explain_namespace_failure(ENOSPC), Catch::Contains("max_"));
  CHECK_THAT(explain_namespace_failure(EINVAL), Catch::Contains("CONFIG_"));
}

TEST_CASE("host check: the staging overlay's options are the launch's", "[host_check]") {
  const StagingOverlay dirs{"/a,b:c", "/run/up", "/run/work"};
  CHECK(safeinstall::sandbox::staging_overlay_options(dirs) ==
        std::string("lowerdir=/a\\,b\\:c,upperdir=/run/up,workdir=/run/work,") +
            safeinstall::sandbox::kStagingOverlayFeatures);
  if (const auto refusal = user_namespace_refusal(); !refusal.empty()) {
    WARN("skipped: " << refusal);
    return;
  }
  const auto checks = check_host_features();
  const FeatureCheck* overlay = find_check(checks, "overlayfs-userxattr");
  REQUIRE(overlay != nullptr);
  INFO(overlay->detail);
  // Said on success ("mounted as the sandbox mounts it (...)") and in the failed step alike.
  CHECK_THAT(overlay->detail, Catch::Contains(safeinstall::sandbox::kStagingOverlayFeatures));
}

TEST_CASE("host check: the overlay and loopback checks agree with the launch's own code",
          "[host_check]") {
  if (const auto refusal = user_namespace_refusal(); !refusal.empty()) {
    WARN("skipped: " << refusal);
    return;
  }
  const auto checks = check_host_features();
  const FeatureCheck* overlay = find_check(checks, "overlayfs-userxattr");
  const FeatureCheck* loopback = find_check(checks, "loopback");
  REQUIRE(overlay != nullptr);
  REQUIRE(loopback != nullptr);
  INFO("overlay: " << overlay->detail << " | loopback: " << loopback->detail);
  CHECK(overlay->ok == in_new_namespaces(CLONE_NEWNS, launch_mounts_staging_overlay));
  CHECK(loopback->ok == in_new_namespaces(CLONE_NEWNET, [] {
          return safeinstall::sandbox::bring_loopback_up().has_value();
        }));
}
