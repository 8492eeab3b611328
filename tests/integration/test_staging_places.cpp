// A project that is a filesystem of its own: no staging dir on its filesystem can be made, so
// the run is staged in the state dir and promoted by copying, and says so, end to end. (The
// state dir on another filesystem, staged beside the project, is in test_staging.cpp.) The
// project is a tmpfs the test mounts, which needs root on the host.
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"

using namespace safeinstall::test;
namespace fs = std::filesystem;

namespace {

// A tmpfs at `path` for the test's lifetime, owned by `uid`.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& path, uid_t uid) : path_(path) {
    fs::create_directories(path);
    std::string options =
        "size=64m,mode=0755,uid=" + std::to_string(uid) + ",gid=" + std::to_string(uid);
    mounted_ =
        ::mount("si-test", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0;
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  bool mounted() const { return mounted_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

#define SKIP_UNLESS_ROOT_MOUNTS()                                                  \
  do {                                                                             \
    if (::geteuid() != 0) {                                                        \
      WARN("skipped: mounting the test's own filesystems needs root on the host"); \
      return;                                                                      \
    }                                                                              \
  } while (false)

const std::string kScript =
    "mkdir -p vendor/pkg/lib && echo one > vendor/pkg/lib/a.txt && echo two > vendor/pkg/b.txt "
    "&& echo lock > vendor.lock";
const std::vector<std::string> kExpect = {"--expect", "vendor/**", "--expect", "vendor.lock"};

SandboxRun stage(const Scenario& s, const std::string& script,
                 const std::vector<std::string>& flags, const std::vector<std::string>& env) {
  std::vector<std::string> all_env = kCleanCiEnv;
  all_env.insert(all_env.end(), env.begin(), env.end());
  auto run = s.run({"/bin/sh", "-c", script}, flags, all_env);
  UNSCOPED_INFO("exit " << run.exit_code() << "\nstderr: " << run.result.err);
  return run;
}

void check_promoted_tree(const Scenario& s) {
  CHECK(project_file(s, "vendor/pkg/lib/a.txt") == "one\n");
  CHECK(project_file(s, "vendor/pkg/b.txt") == "two\n");
  CHECK(project_file(s, "vendor.lock") == "lock\n");
}

}  // namespace

TEST_CASE("a project that is a filesystem of its own is promoted by copying, and says so",
          "[staging][places]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  SKIP_UNLESS_ROOT_MOUNTS();
  Scenario s(who);
  TmpfsMount project_fs(s.project(), s.uid());
  REQUIRE(project_fs.mounted());
  host_write(s, "README", "mine\n");

  auto run = stage(s, kScript, kExpect, {});
  // A staging dir beside the project would not be on the project's filesystem either: none
  // is made.
  CHECK_FALSE(fs::exists(s.root() + "/.safeinstall-staging"));
  REQUIRE(run.exit_code() == 0);
  const auto& staging = run.report.at("staging");
  CHECK(staging.at("copy_promotion") == true);
  CHECK(contains(staging.at("note").get<std::string>(), "changes were copied"));
  CHECK(contains(run.result.err, "changes were copied"));
  check_promoted_tree(s);
  CHECK(project_file(s, "README") == "mine\n");

  // A held run on the same project still leaves it byte for byte as it was.
  auto held = stage(s, "echo x > README; echo y > other.txt", {}, {});
  CHECK(held.exit_code() == kExitHeld);
  CHECK(contains(held.report.at("staging").at("note").get<std::string>(), "promotion copies"));
  CHECK(project_file(s, "README") == "mine\n");
  CHECK_FALSE(in_project(s, "other.txt"));
}
