#include <catch2/catch.hpp>
#include <filesystem>

#include "runner/run_plan.h"

using namespace safeinstall::runner;
using safeinstall::sandbox::MountKind;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  fs::path root;
  Fixture() {
    root = fs::temp_directory_path() / ("si-plan-" + std::to_string(::getpid()));
    fs::create_directories(root / "home/.cargo/bin");
    fs::create_directories(root / "home/.secret");
    fs::create_directories(root / "project/sub");
  }
  ~Fixture() { fs::remove_all(root); }
  Invoker invoker(const std::string& cwd) const {
    Invoker i;
    i.uid = 1000;
    i.gid = 1000;
    i.user = "alice";
    i.cwd = cwd;
    i.env = {"HOME=" + (root / "home").string(), "PATH=" + (root / "home/.cargo/bin").string() + ":/usr/bin",
             "GITHUB_TOKEN=x", "LANG=C.UTF-8"};
    return i;
  }
};

BaseProfile profile() {
  BaseProfile base;
  base.env_allow = {"PATH", "LANG"};
  base.env_secret = {"*TOKEN*"};
  base.hide = {"/etc/shadow"};
  base.hide_user_homes = false;
  base.home_size = 1 << 20;
  base.tmp_size = 1 << 20;
  base.toolchains = {{"rust", {".cargo", ".rustup"}}};
  return base;
}

}  // namespace

TEST_CASE("run plan: parents are mounted before children") {
  Fixture f;
  Options options;
  options.command = {"cargo", "fetch"};
  auto plan = make_run_plan(options, profile(), f.invoker((f.root / "project/sub").string()));
  REQUIRE(plan);
  std::size_t last_depth = 0;
  for (const auto& m : plan->spec.mounts) {
    auto depth = static_cast<std::size_t>(std::count(m.target.begin(), m.target.end(), '/'));
    CHECK(depth >= last_depth);
    last_depth = depth;
  }
  CHECK(plan->spec.cwd == (f.root / "project/sub").string());
}

TEST_CASE("run plan: home is a tmpfs, toolchains in it read-only, nothing else of it") {
  Fixture f;
  Options options;
  options.command = {"cargo", "fetch"};
  auto plan = make_run_plan(options, profile(), f.invoker((f.root / "project").string()));
  REQUIRE(plan);
  bool home_tmpfs = false, cargo_ro = false, secret_visible = false;
  for (const auto& m : plan->spec.mounts) {
    if (m.target == (f.root / "home").string() && m.kind == MountKind::Tmpfs) home_tmpfs = true;
    if (m.target == (f.root / "home/.cargo").string() && m.kind == MountKind::BindReadOnly) cargo_ro = true;
    if (m.target.find(".secret") != std::string::npos) secret_visible = true;
  }
  CHECK(home_tmpfs);
  CHECK(cargo_ro);
  CHECK_FALSE(secret_visible);
  CHECK(std::find(plan->env_dropped.begin(), plan->env_dropped.end(), "GITHUB_TOKEN") !=
        plan->env_dropped.end());
}

TEST_CASE("run plan: refuses a project that would expose the home or the system") {
  Fixture f;
  Options options;
  options.command = {"true"};
  options.project = "/";
  CHECK_FALSE(make_run_plan(options, profile(), f.invoker("/")));
  options.project = (f.root / "home").string();
  auto home = make_run_plan(options, profile(), f.invoker("/"));
  REQUIRE_FALSE(home);
  CHECK_THAT(home.error().step, Catch::Contains("contains your home directory"));
  options.project = f.root.string();
  CHECK_FALSE(make_run_plan(options, profile(), f.invoker("/")));
  options.project = (f.root / "missing").string();
  auto missing = make_run_plan(options, profile(), f.invoker("/"));
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().step, Catch::Contains("cannot be used"));
}
