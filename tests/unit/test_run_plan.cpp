#include <catch2/catch.hpp>
#include <filesystem>

#include "runner/plan/run_plan.h"

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
    i.env = {"HOME=" + (root / "home").string(),
             "PATH=" + (root / "home/.cargo/bin").string() + ":/usr/bin", "GITHUB_TOKEN=x",
             "LANG=C.UTF-8"};
    return i;
  }
};

BaseProfile profile() {
  BaseProfile base;
  base.env_allow = {"PATH", "LANG"};
  base.env_secret = {"*TOKEN*"};
  base.visible = {"/usr", "/bin", "/etc"};
  base.hide = {"/etc/shadow", "/var/mail"};
  base.hide_user_homes = false;
  base.home_size = 1 << 20;
  base.tmp_size = 1 << 20;
  base.toolchains = {{"rust", {".cargo", ".rustup"}}};
  return base;
}

}  // namespace

TEST_CASE("run plan: only the allow-listed host paths are mounted, hides only inside them") {
  Fixture f;
  Options options;
  options.command = {"npm", "ci"};
  auto plan = make_run_plan(options, profile(), f.invoker((f.root / "project").string()));
  REQUIRE(plan);
  auto find = [&](const std::string& target) -> const safeinstall::sandbox::MountSpec* {
    for (const auto& m : plan->spec.mounts)
      if (m.target == target) return &m;
    return nullptr;
  };
  REQUIRE(find("/usr") != nullptr);
  CHECK(find("/usr")->kind == MountKind::BindReadOnly);
  // Debian 12's merged /usr: /bin is a link, made again as one.
  if (fs::is_symlink("/bin")) {
    REQUIRE(find("/bin") != nullptr);
    CHECK(find("/bin")->kind == MountKind::Symlink);
    CHECK(find("/bin")->content == fs::read_symlink("/bin").string());
  }
  CHECK(find("/etc/shadow") != nullptr);
  CHECK(find("/var/mail") == nullptr);  // /var is not visible: nothing to hide
  CHECK(find("/var") == nullptr);
  for (const auto& m : plan->spec.mounts) CHECK(m.target != "/");
  CHECK(std::ranges::find(plan->visible, "/usr") != plan->visible.end());

  options.ro_binds = {"/var"};
  auto wider = make_run_plan(options, profile(), f.invoker((f.root / "project").string()));
  REQUIRE(wider);
  bool var_bound = false, mail_hidden = false;
  for (const auto& m : wider->spec.mounts) {
    var_bound |= m.target == "/var" && m.kind == MountKind::BindReadOnly;
    mail_hidden |= m.target == "/var/mail";
  }
  CHECK(var_bound);
  CHECK(mail_hidden == fs::exists("/var/mail"));

  options.ro_binds = {"/"};
  CHECK_FALSE(make_run_plan(options, profile(), f.invoker((f.root / "project").string())));
  options.ro_binds = {"/nonexistent-si-path"};
  auto missing = make_run_plan(options, profile(), f.invoker((f.root / "project").string()));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message().find("--ro-bind /nonexistent-si-path") != std::string::npos);
}

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
    if (m.target == (f.root / "home/.cargo").string() && m.kind == MountKind::BindReadOnly)
      cargo_ro = true;
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
  CHECK_THAT(home.error().step, Catch::Contains("it is your home directory, which the sandbox "
                                                "replaces with a throwaway home"));
  CHECK_THAT(home.error().hint, Catch::Contains("run it in the project's own directory"));
  // Typed through a shim, the message says why safeinstall is there at all.
  CHECK_THAT(home.error().step, !Catch::Contains("safeinstall setup"));
  auto shimmed = f.invoker("/");
  shimmed.env.push_back("SAFEINSTALL_SHIM_HOPS=1");
  options.command = {"npm", "install"};
  auto from_shim = make_run_plan(options, profile(), shimmed);
  REQUIRE_FALSE(from_shim);
  CHECK_THAT(from_shim.error().step,
             Catch::Contains("`npm` installs run in safeinstall's sandbox (safeinstall setup)"));
  options.command = {"true"};
  options.project = f.root.string();
  auto holding = make_run_plan(options, profile(), f.invoker("/"));
  REQUIRE_FALSE(holding);
  CHECK_THAT(holding.error().step,
             Catch::Contains("it contains your home directory " + (f.root / "home").string()));
  options.project = (f.root / "missing").string();
  auto missing = make_run_plan(options, profile(), f.invoker("/"));
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().step, Catch::Contains("cannot be used"));
}

TEST_CASE("run plan: staging turns the project into an overlay and hides other runs' staging") {
  Fixture f;
  Options options;
  options.command = {"npm", "ci"};
  // Other runs' staging needs hiding only where the host is visible: here, by --ro-bind.
  options.ro_binds = {"/var/tmp"};
  auto plan = make_run_plan(options, profile(), f.invoker((f.root / "project").string()));
  REQUIRE(plan);
  fs::path state = fs::path("/var/tmp") / ("si-plan-state-" + std::to_string(::getpid()));
  fs::create_directories(state);
  ProjectStaging staging{(f.root / "home/state/upper").string(),
                         (f.root / "home/state/work").string(),
                         {state.string(), (f.root / "home/state").string(), "/tmp", "/dev/shm"}};
  auto staged = stage_project(*plan, staging);
  fs::remove_all(state);
  REQUIRE(staged);
  int overlays = 0, binds = 0;
  bool state_hidden = false, home_state_hidden = false;
  for (const auto& m : plan->spec.mounts) {
    if (m.target == plan->project && m.kind == MountKind::Overlay) {
      ++overlays;
      CHECK(m.source == plan->project);
      CHECK(m.upper == staging.upper);
      CHECK(m.work == staging.work);
    }
    if (m.kind == MountKind::BindReadWrite) ++binds;
    if (m.kind == MountKind::HideDir && m.target == state.string()) state_hidden = true;
    // Under the throwaway home (a fresh tmpfs) it is gone already; /tmp holds the project.
    if (m.kind == MountKind::HideDir && m.target.starts_with((f.root / "home").string()))
      home_state_hidden = true;
    CHECK_FALSE((m.kind == MountKind::HideDir && m.target == "/tmp"));
    CHECK_FALSE((m.kind == MountKind::HideDir && m.target == "/dev/shm"));
  }
  CHECK(overlays == 1);
  CHECK(binds == 0);
  CHECK(state_hidden);
  CHECK_FALSE(home_state_hidden);
  CHECK(std::find(plan->hidden.begin(), plan->hidden.end(), state.string()) != plan->hidden.end());

  // Only once: a second call finds no read-write project bind left.
  CHECK_FALSE(stage_project(*plan, staging));
}
