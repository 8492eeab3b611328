// The profiles compiled into the binary: a copy of safeinstall with no profile file anywhere
// it looks still has every profile, and files on disk ($SAFEINSTALL_PROFILE_DIR, the
// installed share/safeinstall/profiles beside the binary) replace the compiled-in ones.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/integration/harness.h"
#include "tests/integration/skip.h"

using namespace safeinstall::test;
namespace fs = std::filesystem;

namespace {

// <scenario>/prefix/bin/safeinstall: a copy with nothing beside it.
std::string lone_copy(const Scenario& s) {
  std::string bin = s.root() + "/prefix/bin";
  fs::create_directories(bin);
  fs::copy_file(SAFEINSTALL_BINARY, bin + "/safeinstall");
  for (const auto& dir : {s.root() + "/prefix", bin, bin + "/safeinstall"})
    fs::permissions(dir, fs::perms(0755));
  return bin + "/safeinstall";
}

void write_readable(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
  for (fs::path p = path; p.string().size() > 5; p = p.parent_path()) {
    ::chmod(p.c_str(), fs::is_directory(p) ? 0755 : 0644);
    if (p.filename() == "prefix" || p.filename() == "override") break;
  }
}

// The copy run as the scenario's user with nothing of the test's environment: an empty home
// (no ~/.config/safeinstall), no SAFEINSTALL_PROFILE_DIR, /etc/safeinstall out of the way.
RunResult run_copy(const Scenario& s, const std::string& binary,
                   const std::vector<std::string>& args,
                   const std::vector<std::string>& extra_env = {}) {
  std::vector<std::string> argv{binary};
  argv.insert(argv.end(), args.begin(), args.end());
  RunOptions options;
  options.inherit_env = false;
  options.env_overrides = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + s.home(), "CI=true",
                           "SAFEINSTALL_SYSTEM_DIR=" + s.root() + "/no-etc"};
  options.env_overrides.insert(options.env_overrides.end(), extra_env.begin(), extra_env.end());
  if (s.who() == Who::Unprivileged) options.as_user = kUnprivilegedUid;
  options.cwd = s.project();
  auto result = run(argv, options);
  UNSCOPED_INFO("safeinstall " << Catch::Detail::stringify(args) << "\nexit " << result.exit_code
                               << "\nstdout: " << result.out << "\nstderr: " << result.err);
  return result;
}

void copied_binary_uses_built_in_profiles(Who who) {
  Scenario s(who);
  auto binary = lone_copy(s);
  auto list = run_copy(s, binary, {"profiles"});
  REQUIRE(list.exit_code == 0);
  CHECK(list.out.find("\nnpm — ") != std::string::npos);
  CHECK(list.out.find("    from:    built-in\n") != std::string::npos);
  CHECK(list.out.find("no base profile") == std::string::npos);

  auto show = run_copy(s, binary, {"profiles", "show", "npm"});
  CHECK(show.exit_code == 0);
  CHECK(show.out.find("#   built-in:base.toml\n#   built-in:npm.toml\n") != std::string::npos);
  CHECK(show.out.find("\"registry.npmjs.org\",  # built-in:npm.toml:") != std::string::npos);

  // A project layer with a mistake is still named by its path; the built-in layers by theirs.
  write_readable(s.project() + "/.safeinstall.toml", "[network]\nallow = [\"not a host\"]\n");
  auto broken = run_copy(s, binary, {"profiles", "show", "npm"});
  CHECK(broken.exit_code == 125);
  CHECK(broken.err.find(s.project() + "/.safeinstall.toml:2:10: bad host pattern") !=
        std::string::npos);
  fs::remove(s.project() + "/.safeinstall.toml");

  if (auto reason = sandbox_unavailable(who)) {
    WARN("sandbox runs skipped for " << name_of(who) << ": " << *reason);
    return;
  }
  auto check = run_copy(s, binary, {"check"});
  CHECK(check.exit_code == 0);
  std::string report = s.root() + "/copy-report.json";
  auto sandboxed = run_copy(s, binary, {"--report", report, "--", "npm", "--version"});
  CHECK(sandboxed.exit_code == 0);
  REQUIRE(path_exists(report));
  auto json = nlohmann::json::parse(read_file(report));
  CHECK(json.value("profile", "") == "npm");
}

}  // namespace

TEST_CASE("a copied binary with no profile file anywhere uses its built-in profiles - root",
          "[profiles]") {
  copied_binary_uses_built_in_profiles(Who::Root);
}

TEST_CASE("a copied binary with no profile file anywhere uses its built-in profiles - uid 65534",
          "[profiles]") {
  copied_binary_uses_built_in_profiles(Who::Unprivileged);
}

TEST_CASE("SAFEINSTALL_PROFILE_DIR and the installed profiles replace built-in ones",
          "[profiles]") {
  for (Who who : {Who::Root, Who::Unprivileged}) {
    INFO(name_of(who));
    Scenario s(who);
    auto binary = lone_copy(s);
    std::string installed = s.root() + "/prefix/share/safeinstall/profiles";
    write_readable(installed + "/pip.toml",
                   "description = \"installed pip\"\n[match]\ncommands = [\"pip\"]\n");
    std::string override_dir = s.root() + "/override";
    write_readable(override_dir + "/npm.toml",
                   "description = \"patched npm\"\n[match]\ncommands = [\"npm\"]\n"
                   "[network]\nallow = [\"npm.corp.example\"]\n");
    std::vector<std::string> env{"SAFEINSTALL_PROFILE_DIR=" + override_dir};

    auto list = run_copy(s, binary, {"profiles"}, env);
    REQUIRE(list.exit_code == 0);
    CHECK(list.out.find("\nnpm — patched npm\n") != std::string::npos);
    CHECK(list.out.find("    from:    " + override_dir + "/npm.toml\n") != std::string::npos);
    CHECK(list.out.find("\npip — installed pip\n") != std::string::npos);
    CHECK(list.out.find("    from:    " + installed + "/pip.toml\n") != std::string::npos);
    CHECK(list.out.find("\ncargo — ") != std::string::npos);

    auto show = run_copy(s, binary, {"profiles", "show", "npm"}, env);
    CHECK(show.exit_code == 0);
    CHECK(show.out.find("\"npm.corp.example\",  # " + override_dir + "/npm.toml:5:10") !=
          std::string::npos);
    CHECK(show.out.find("registry.npmjs.org") == std::string::npos);

    // A broken override is reported with its own file:line:col, not silently skipped.
    write_readable(override_dir + "/npm.toml", "[network]\nallow = [\"a.org\"\n");
    auto broken = run_copy(s, binary, {"profiles", "show", "npm"}, env);
    CHECK(broken.exit_code == 125);
    CHECK(broken.err.find(override_dir + "/npm.toml:") != std::string::npos);
  }
}
