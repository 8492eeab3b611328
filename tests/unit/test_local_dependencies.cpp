// Local dependencies outside the project: which manifest entries name them, which of them the
// sandbox shows (read-only, at the same path), which are refused, and the links to them that
// are not symlink escapes.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "change_test_support.h"
#include "runner/plan/local_dependencies.h"
#include "runner/plan/run_plan.h"
#include "runner/staging/local_dependency_links.h"

using namespace safeinstall::runner;
using safeinstall::change_test::test_path;
namespace fs = std::filesystem;

namespace {

struct Tree {
  fs::path root;
  Tree() {
    root = fs::temp_directory_path() / ("si-localdeps-" + std::to_string(::getpid()));
    fs::create_directories(root / "home/work/project");
    fs::create_directories(root / "home/work/sib");
    fs::create_directories(root / "home/work/crate");
    fs::create_directories(root / "home/work/php/a");
    fs::create_directories(root / "home/work/py");
    fs::create_directories(root / "home/.ssh");
    root = fs::canonical(root);
  }
  ~Tree() { fs::remove_all(root); }
  std::string project() const { return (root / "home/work/project").string(); }
  std::string home() const { return (root / "home").string(); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(root / "home/work/project" / name) << text;
  }
};

Change symlink_change(const std::string& path, const std::string& target) {
  Change c;
  c.path = test_path(path);
  c.type = EntryType::symlink;
  c.edit_details().symlink_target = target;
  c.flags.symlink_escape = true;
  return c;
}

}  // namespace

TEST_CASE("local dependencies: file and link specs, Cargo paths, composer path repos, pip -e") {
  Tree t;
  t.write("package.json", R"({"dependencies":{"sib":"file:../sib","lodash":"^4"},)"
                          R"("devDependencies":{"l":"link:../sib/sub","t":"file:./inside"}})");
  t.write("Cargo.toml",
          "[package]\nname = \"p\"\n[dependencies]\ncrate = { path = \"../crate\" }\n"
          "serde = \"1\"\n");
  t.write("composer.json",
          R"({"repositories":[{"type":"path","url":"../php/*"},{"type":"vcs","url":"x"}]})");
  t.write("requirements.txt", "requests==2\n-e ../py\n-e git+https://x/y.git#egg=y\n");
  auto declared = declared_local_dependencies(t.project());
  std::string work = (t.root / "home/work").string();
  CHECK(declared == std::vector<std::string>{work + "/sib", work + "/sib/sub",
                                             t.project() + "/inside", work + "/crate",
                                             work + "/php", work + "/py"});
}

TEST_CASE("local dependencies: a broken manifest names nothing") {
  Tree t;
  t.write("package.json", "{\"dependencies\": {\"sib\": \"file:../sib\"");
  t.write("Cargo.toml", "[dependencies\n");
  CHECK(declared_local_dependencies(t.project()).empty());
}

TEST_CASE("local dependencies: shown are existing directories outside the project, once") {
  Tree t;
  std::string sib = (t.root / "home/work/sib").string();
  auto dirs = local_dependency_dirs(
      {sib, sib + "/../sib", t.project() + "/inside", (t.root / "home/work/missing").string()},
      t.project(), t.home(), {});
  REQUIRE(dirs);
  CHECK(*dirs == std::vector<std::string>{sib});
}

TEST_CASE("local dependencies: the home, a parent of the project and secrets are refused") {
  Tree t;
  auto home = local_dependency_dirs({t.home()}, t.project(), t.home(), {});
  REQUIRE_FALSE(home);
  CHECK_THAT(home.error().message(), Catch::Contains("home directory"));
  auto parent = local_dependency_dirs({(t.root / "home/work").string()}, t.project(), "", {});
  REQUIRE_FALSE(parent);
  CHECK_THAT(parent.error().message(), Catch::Contains("holds the project"));
  std::string ssh = (t.root / "home/.ssh").string();
  auto secret = local_dependency_dirs({ssh}, t.project(), "", {ssh});
  REQUIRE_FALSE(secret);
  CHECK_THAT(secret.error().message(), Catch::Contains("hidden path"));
}

TEST_CASE("local dependencies: the run plan binds them read-only and records them") {
  Tree t;
  t.write("package.json", R"({"dependencies":{"sib":"file:../sib"}})");
  Options options;
  options.command = {"npm", "install"};
  options.project = t.project();
  Invoker invoker;
  invoker.uid = 1000;
  invoker.cwd = t.project();
  invoker.env = {"HOME=" + (t.root / "elsewhere").string(), "PATH=/usr/bin"};
  BaseProfile base;
  base.visible = {"/usr"};
  base.home_size = base.tmp_size = 1 << 20;
  auto plan = make_run_plan(options, base, invoker);
  REQUIRE(plan);
  std::string sib = (t.root / "home/work/sib").string();
  CHECK(plan->local_dependencies == std::vector<std::string>{sib});
  bool bound_read_only = false;
  for (const auto& m : plan->spec.mounts) {
    if (m.target != sib) continue;
    CHECK(m.kind == safeinstall::sandbox::MountKind::BindReadOnly);
    bound_read_only = m.kind == safeinstall::sandbox::MountKind::BindReadOnly && m.source == sib;
  }
  CHECK(bound_read_only);
}

TEST_CASE("local dependencies: links into them are accepted, other escapes are not") {
  ChangeList changes;
  changes.changes.push_back(symlink_change("node_modules/sib", "../../sib"));
  changes.changes.push_back(symlink_change("node_modules/abs", "/work/sib/lib"));
  changes.changes.push_back(symlink_change("node_modules/other", "../../sibling"));
  changes.changes.push_back(symlink_change("node_modules/up", "../../sib/../etc"));
  CHECK(accept_local_dependency_links(changes, "/work/project", {"/work/sib"}) == 2);
  CHECK_FALSE(changes.changes[0].flags.symlink_escape);
  CHECK_FALSE(changes.changes[1].flags.symlink_escape);
  CHECK(changes.changes[2].flags.symlink_escape);
  CHECK(changes.changes[3].flags.symlink_escape);
  CHECK(accept_local_dependency_links(changes, "/work/project", {}) == 0);
}
