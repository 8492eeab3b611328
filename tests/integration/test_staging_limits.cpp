// What a hostile install can do to the host through its staging dir, and what it can carry
// into the project besides contents: the disk filled, millions of files, a tree too deep to
// remove, default limits on memory and time, and xattrs, ACLs and modes set in the staged
// tree. The real binary, as root and as an unprivileged user.
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

Who both_users() {
  return GENERATE(Who::Root, Who::Unprivileged);
}

const std::vector<std::string> kCi = {"CI=true"};

SandboxRun shell(const Scenario& s, const std::string& script,
                 const std::vector<std::string>& flags = {},
                 std::chrono::milliseconds timeout = 60s) {
  auto run = s.run({"/bin/sh", "-c", script}, flags, kCi, timeout);
  UNSCOPED_INFO("sh -c " << script << "\nflags " << Catch::Detail::stringify(flags) << "\nexit "
                         << run.exit_code() << "\nstderr: " << run.result.err);
  return run;
}

std::string limit_details(const SandboxRun& run) {
  std::string all;
  for (const auto& v : violations_of_kind(run.report, "limit"))
    all += v.at("detail").get<std::string>() + "\n";
  return all;
}

// Stopped, recorded as a `limit` violation naming `flag`, nothing of it promoted.
void check_stopped_by(const SandboxRun& run, const std::string& flag) {
  INFO("limit violations:\n" << limit_details(run));
  CHECK(run.exit_code() != 0);
  CHECK(contains(limit_details(run), flag));
  CHECK(run.report.at("verdict") == "rejected");
}

std::vector<std::string> xattr_names(const std::string& path) {
  std::string buffer(4096, '\0');
  ssize_t n = ::llistxattr(path.c_str(), buffer.data(), buffer.size());
  std::vector<std::string> names;
  for (std::size_t at = 0; n > 0 && at < static_cast<std::size_t>(n);) {
    std::string name(buffer.c_str() + at);
    at += name.size() + 1;
    names.push_back(name);
  }
  return names;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// A tmpfs where there is one: removing 20,000 directories from a disk mounted with online
// discard takes a minute however it is done (rm -rf too); the test is about depth, not disks.
std::string fast_scratch_parent() {
  struct stat st {};
  return ::stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
}

std::string staging_dir_of(const SandboxRun& run) {
  return run.report.at("staging").at("staging_dir").get<std::string>();
}

}  // namespace

TEST_CASE("staging limits: a command writing past --disk is stopped and nothing is promoted",
          "[staging][limits]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  SECTION("allocated while it runs (fallocate), seen by the sampler") {
    auto started = std::chrono::steady_clock::now();
    auto run =
        shell(s, "fallocate -l 256M big.bin && sleep 20", {"--disk", "64M", "--expect", "*"});
    CHECK(std::chrono::steady_clock::now() - started < 15s);
    check_stopped_by(run, "--disk 64 MiB");
    CHECK_FALSE(in_project(s, "big.bin"));
  }
  SECTION("allocated without a size (fallocate --keep-size) just before the command exits") {
    auto run = shell(s, ": > hidden.bin && fallocate -n -l 256M hidden.bin",
                     {"--disk", "64M", "--expect", "*"});
    check_stopped_by(run, "--disk 64 MiB");
    CHECK_FALSE(in_project(s, "hidden.bin"));
  }
  SECTION("a sparse file: no disk, but its apparent size counts") {
    auto run = shell(s, "truncate -s 8G sparse.bin", {"--disk", "64M", "--expect", "*"});
    check_stopped_by(run, "--disk 64 MiB");
    CHECK_FALSE(in_project(s, "sparse.bin"));
  }
}

TEST_CASE("staging limits: a command making files past --files is stopped and nothing is promoted",
          "[staging][limits]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto started = std::chrono::steady_clock::now();
  auto run = shell(s, "./.probe/si-probe many-files many 20000 && sleep 20",
                   {"--files", "2000", "--expect", "*"});
  CHECK(std::chrono::steady_clock::now() - started < 15s);
  check_stopped_by(run, "--files 2000");
  CHECK_FALSE(in_project(s, "many"));
}

TEST_CASE("staging limits: a 20,000-deep tree is removed by discard and by gc --all",
          "[staging][limits]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who, fast_scratch_parent());
  auto deep = [&] {
    auto run =
        shell(s, "mkdir deep && cd deep && ../.probe/si-probe deep-dirs 20000", {"--no-promote"});
    REQUIRE(run.report.contains("staging"));
    CHECK_FALSE(in_project(s, "deep"));
    return run;
  };
  auto first = deep();
  std::string first_staging = staging_dir_of(first);
  REQUIRE(path_exists(first_staging + "/upper/deep"));
  auto discarded = subcommand(s, {"discard", first.report.at("run_id").get<std::string>()});
  INFO(discarded.err);
  CHECK(discarded.exit_code == 0);
  CHECK_FALSE(path_exists(first_staging + "/upper"));

  auto second = deep();
  std::string second_staging = staging_dir_of(second);
  REQUIRE(path_exists(second_staging + "/upper/deep"));
  auto gc = subcommand(s, {"gc", "--all", "--older-than", "0"});
  INFO(gc.err);
  CHECK(gc.exit_code == 0);
  CHECK_FALSE(path_exists(second_staging + "/upper"));
  CHECK_FALSE(in_project(s, "deep"));
}

TEST_CASE("default limits: in force without flags, and a memory hog is stopped by them",
          "[limits]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  SECTION("the report shows the built-in defaults") {
    auto run = s.probe({"exit", "0"});
    CHECK(run.exit_code() == 0);
    const auto& limits = run.report.at("limits");
    CHECK(limits.at("memory_bytes") == 8ULL << 30);
    CHECK(limits.at("pids") == 4096);
    CHECK(limits.at("cpu_time_s") == 14400);
    CHECK(limits.at("timeout_s") == 3600);
    CHECK(limits.at("disk_bytes") == 4ULL << 30);
    CHECK(limits.at("files") == 400000);
  }
  SECTION("a flag wins over the default") {
    auto run = s.probe({"exit", "0"}, {"--memory", "1G", "--files", "10"});
    CHECK(run.report.at("limits").at("memory_bytes") == 1ULL << 30);
    CHECK(run.report.at("limits").at("files") == 10);
  }
  SECTION("a hog without flags is stopped by the default (lowered in the user's base layer)") {
    // The built-in 8 GiB would take a shared test machine's memory; the same default path,
    // from the user's own layer, with a figure the test can afford.
    std::string config = s.home() + "/.config/safeinstall";
    fs::create_directories(config);
    std::ofstream(config + "/base.toml") << "[limits]\nmemory = \"192M\"\n";
    for (fs::path p = config + "/base.toml"; p != fs::path(s.home()); p = p.parent_path())
      REQUIRE(::lchown(p.c_str(), s.uid(), s.uid()) == 0);
    auto run = s.probe({"memory-hog", "4", "50"});
    INFO(run.result.err);
    CHECK(run.exit_code() != 0);
    CHECK(run.report.at("limits").at("memory_bytes") == 192ULL << 20);
    CHECK(contains(limit_details(run), "memory"));
  }
}

TEST_CASE("promotion carries contents, not the command's xattrs, ACLs or world-writable modes",
          "[staging][metadata]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  host_write(s, "package.json", "{}\n");
  const std::vector<std::string> npm = {"--profile", "npm", "--expect", "notes.txt"};
  SECTION("in the direct node_modules and in the overlay: stripped, clamped and recorded") {
    auto run = shell(s,
                     "P=./.probe/si-probe; mkdir -p node_modules/a/dir && "
                     "echo a > node_modules/a/index.js && echo n > notes.txt && "
                     "$P set-xattr node_modules/a/index.js user.evil payload && "
                     "$P set-acl node_modules/a/index.js && "
                     "$P set-xattr node_modules/a/dir user.mime.type x && "
                     "$P set-acl node_modules/a/dir && "
                     "chmod 666 node_modules/a/index.js && chmod 777 node_modules/a/dir && "
                     "$P set-xattr notes.txt user.origin x && $P set-acl notes.txt && "
                     "chmod 666 notes.txt",
                     npm);
    CHECK(run.exit_code() == 0);
    CHECK(run.report.at("verdict") == "promoted");
    for (const char* path : {"node_modules/a/index.js", "node_modules/a/dir", "notes.txt"}) {
      INFO(path);
      REQUIRE(in_project(s, path));
      CHECK(xattr_names(s.project() + "/" + path).empty());
      CHECK((mode_of(s.project() + "/" + path) & S_IWOTH) == 0);
      const auto* entry = change_at(run.report.at("files").at("project"), path);
      REQUIRE(entry != nullptr);
      CHECK(has_flag(entry, "foreign-xattrs"));
      CHECK(has_flag(entry, "world-writable"));
      CHECK(contains(entry->at("xattrs").dump(), "system.posix_acl_access"));
    }
    const auto* index = change_at(run.report.at("files").at("project"), "node_modules/a/index.js");
    CHECK(contains(index->at("xattrs").dump(), "user.evil"));
  }
  SECTION("overlay xattrs forged in the direct dir reject the run and are never interpreted") {
    auto run = shell(s,
                     "mkdir -p node_modules/b && echo b > node_modules/b/index.js && "
                     "./.probe/si-probe set-xattr node_modules/b user.overlay.opaque y && "
                     "./.probe/si-probe set-xattr node_modules/b/index.js user.overlay.origin x",
                     npm);
    CHECK(run.exit_code() == kExitRejected);
    CHECK(run.report.at("verdict") == "rejected");
    CHECK_FALSE(in_project(s, "node_modules"));
    const auto* dir = change_at(run.report.at("files").at("project"), "node_modules/b");
    REQUIRE(dir != nullptr);
    CHECK(has_flag(dir, "forged-overlay-xattrs"));
    CHECK(contains(run.report.at("verdict_reasons").dump(), "user.overlay.opaque"));
    auto promote = subcommand(s, {"promote", run.report.at("run_id").get<std::string>()});
    CHECK(promote.exit_code == kExitRejected);
    CHECK_FALSE(in_project(s, "node_modules"));
  }
}
