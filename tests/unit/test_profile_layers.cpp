// Layering (built-in < /etc < ~/.config < project < flags), extends chains, command
// matching, and `profiles show` origins.
#include <catch2/catch.hpp>

#include "runner/cli/profiles_command.h"
#include "runner/plan/profile_loader.h"
#include "runner/profile/command_matcher.h"
#include "runner/profile/profile_layers.h"
#include "tests/unit/profile_test_support.h"

using namespace safeinstall::runner;
using safeinstall::test::ScratchDir;

namespace {

struct Tree {
  ScratchDir root;
  LayerDirs dirs;
  Tree() {
    dirs.builtin = root.path() / "builtin";
    dirs.system = root.path() / "etc";
    dirs.user = root.path() / "user";
    dirs.project = root.path() / "project";
    root.write("builtin/base.toml", "[env]\nallow = [\"PATH\"]\n[limits]\nprocesses = 100\n");
    root.write("project/.keep", "");
  }
};

std::vector<std::string> values(const SourcedStrings& list) {
  std::vector<std::string> out;
  for (const auto& v : list) out.push_back(v.value);
  return out;
}

std::vector<std::string> argv(std::initializer_list<const char*> words) {
  return {words.begin(), words.end()};
}

}  // namespace

TEST_CASE("profile layers: built-in < /etc < user < project < flags") {
  Tree t;
  t.root.write(
      "builtin/npm.toml",
      "scripts = \"all\"\n[match]\ncommands = [\"npm\"]\n[network]\nallow = [\"a.org\"]\n");
  t.root.write("etc/npm.toml", "scripts = \"none\"\n[network]\nallow = [\"b.org\"]\n");
  t.root.write("user/npm.toml", "scripts = \"allow:esbuild\"\n[network]\nallow = [\"c.org\"]\n");
  t.root.write("project/.safeinstall.toml",
               "scripts = \"allow:sharp\"\n[network]\nallow = [\"d.org\"]\n");
  FlagLayer flags;
  auto cmd = argv({"npm", "ci"});

  auto resolved = resolve_profile(cmd, flags, t.dirs);
  REQUIRE(resolved);
  CHECK(resolved->name == "npm");
  CHECK(values(resolved->merged.hosts) ==
        std::vector<std::string>{"a.org", "b.org", "c.org", "d.org"});
  CHECK(resolved->merged.scripts->value == "allow:sharp");
  CHECK(resolved->merged.scripts->origin.text() ==
        (t.dirs.project / ".safeinstall.toml").string() + ":1:11");
  CHECK(resolved->merged.hosts[1].origin.text() == (t.dirs.system / "npm.toml").string() + ":3:10");
  // base's values come first, from base's file.
  CHECK(resolved->merged.processes->value == 100);
  CHECK(resolved->files.front() == t.dirs.builtin / "base.toml");
  CHECK(resolved->files.back() == t.dirs.project / ".safeinstall.toml");

  flags.scripts = "none";
  flags.allow_hosts = {"e.org"};
  flags.expect = {"dist/**"};
  resolved = resolve_profile(cmd, flags, t.dirs);
  REQUIRE(resolved);
  CHECK(resolved->merged.scripts->value == "none");
  CHECK(resolved->merged.scripts->origin.text() == "--scripts");
  CHECK(resolved->merged.hosts.back().origin.text() == "--allow-host");
  CHECK(values(resolved->merged.expected) == std::vector<std::string>{"dist/**"});

  // Without the user layer, /etc's policy is what remains above the built-in one.
  std::filesystem::remove(t.dirs.user / "npm.toml");
  std::filesystem::remove(t.dirs.project / ".safeinstall.toml");
  resolved = resolve_profile(cmd, FlagLayer{}, t.dirs);
  REQUIRE(resolved);
  CHECK(resolved->merged.scripts->value == "none");
}

TEST_CASE("profile layers: [limits] defaults layer like the rest, key by key") {
  Tree t;
  t.root.write("builtin/base.toml",
               "[limits]\nmemory = \"8G\"\npids = 4096\ntimeout = 3600\ndisk = \"4G\"\n"
               "files = 400000\ncpu_time = 14400\n");
  t.root.write("builtin/cargo.toml",
               "extends = \"base\"\n[match]\ncommands = [\"cargo\"]\n[limits]\ndisk = \"32G\"\n");
  t.root.write("user/base.toml", "[limits]\nmemory = \"2G\"\n");
  auto resolved = resolve_profile(argv({"cargo", "build"}), FlagLayer{}, t.dirs);
  REQUIRE(resolved);
  BaseProfile base = resolved->base();
  CHECK(base.memory == 2ULL << 30);  // the user's layer over the built-in base
  CHECK(base.disk == 32ULL << 30);   // the profile over its parent
  CHECK(base.files == 400000);
  CHECK(base.pids == 4096);
  CHECK(base.timeout == 3600);
  CHECK(base.cpu_time == 14400);
  CHECK(resolved->merged.memory->origin.text() == (t.dirs.user / "base.toml").string() + ":2:10");
}

TEST_CASE("profile layers: a profile's layers come after its parent's, [match] is not inherited") {
  Tree t;
  t.root.write("builtin/dotnet.toml",
               "[match]\ncommands = [\"dotnet\"]\n[network]\nallow = [\"api.nuget.org\"]\n"
               "[env.set]\nA = \"parent\"\nB = \"parent\"\n");
  t.root.write("builtin/nuget.toml",
               "extends = \"dotnet\"\n[match]\ncommands = [\"nuget\"]\n[env.set]\nA = \"child\"\n");
  t.root.write("user/dotnet.toml", "[env.set]\nB = \"user\"\n");
  auto resolved = resolve_profile(argv({"nuget", "restore"}), FlagLayer{}, t.dirs);
  REQUIRE(resolved);
  CHECK(resolved->name == "nuget");
  CHECK(values(resolved->merged.commands) == std::vector<std::string>{"nuget"});
  CHECK(values(resolved->merged.hosts) == std::vector<std::string>{"api.nuget.org"});
  REQUIRE(resolved->merged.env_set.size() == 2);
  CHECK(resolved->merged.env_set[0].second.value == "child");
  CHECK(resolved->merged.env_set[1].second.value == "user");
  auto dotnet = resolve_profile(argv({"dotnet", "restore"}), FlagLayer{}, t.dirs);
  REQUIRE(dotnet);
  CHECK(dotnet->name == "dotnet");
}

TEST_CASE("profile layers: broken chains and unknown profiles say what exists") {
  Tree t;
  t.root.write("builtin/a.toml", "extends = \"b\"\n");
  t.root.write("builtin/b.toml", "extends = \"a\"\n");
  t.root.write("builtin/c.toml", "extends = \"nothere\"\n");
  FlagLayer flags;
  flags.profile = "a";
  auto cycle = resolve_profile(argv({"x"}), flags, t.dirs);
  REQUIRE_FALSE(cycle);
  CHECK(cycle.error().message().find("extends itself") != std::string::npos);
  flags.profile = "c";
  auto missing = resolve_profile(argv({"x"}), flags, t.dirs);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message().find(
            "c.toml:1:11: profile `c` extends `nothere`, which does not exist") !=
        std::string::npos);
  flags.profile = "npn";
  auto unknown = resolve_profile(argv({"x"}), flags, t.dirs);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message().find("no profile named `npn`") != std::string::npos);
  CHECK(unknown.error().message().find("profiles: a, b, base, c") != std::string::npos);
}

TEST_CASE("profile layers: a bad layer file fails the run with its place") {
  Tree t;
  t.root.write("builtin/npm.toml", "[match]\ncommands = [\"npm\"]\n");
  t.root.write("project/.safeinstall.toml", "[network]\nallow = [\"no such host\"]\n");
  auto resolved = resolve_profile(argv({"npm"}), FlagLayer{}, t.dirs);
  REQUIRE_FALSE(resolved);
  CHECK(resolved.error().message().starts_with((t.dirs.project / ".safeinstall.toml").string() +
                                               ":2:10"));
}

TEST_CASE("profile layers: which profile a command gets") {
  Tree t;
  t.root.write("builtin/pip.toml",
               "[match]\ncommands = [\"pip\", \"python -m pip\"]\ninstall = [\"install\"]\n");
  t.root.write("builtin/python.toml", "[match]\ncommands = [\"python\"]\ninstall = [\"x\"]\n");
  t.root.write("builtin/yarn.toml",
               "[match]\ncommands = [\"yarn\", \"corepack yarn\"]\ninstall = [\"add\"]\n");
  t.root.write("builtin/yarn-berry.toml",
               "[match]\ncommands = [\"yarn\", \"corepack yarn\"]\ninstall = [\"add\"]\n"
               "project_files = [\".yarnrc.yml\"]\n");
  auto name_of = [&](std::vector<std::string> cmd) {
    auto r = resolve_profile(cmd, FlagLayer{}, t.dirs);
    REQUIRE(r);
    return r->name;
  };
  CHECK(name_of({"pip3.11", "install", "x"}) == "pip");
  CHECK(name_of({"/usr/local/bin/pip3", "install", "x"}) == "pip");
  CHECK(name_of({"python3", "-m", "pip", "install", "x"}) == "pip");
  CHECK(name_of({"python3.11", "-m", "pip"}) == "pip");
  CHECK(name_of({"python3", "setup.py"}) == "python");
  CHECK(name_of({"pipx", "install", "x"}) == "base");
  CHECK(name_of({"corepack", "yarn", "add", "x"}) == "yarn");
  CHECK(name_of({"yarn"}) == "yarn");
  t.root.write("project/.yarnrc.yml", "nodeLinker: pnp\n");
  CHECK(name_of({"yarn", "add", "x"}) == "yarn-berry");

  auto fallback = resolve_profile(argv({"/bin/sh", "-c", "true"}), FlagLayer{}, t.dirs);
  REQUIRE(fallback);
  CHECK(fallback->fallback);
  CHECK(fallback->reason.find("no profile matches `sh`") != std::string::npos);
  CHECK(fallback->merged.hosts.empty());

  t.root.write("project/.safeinstall.toml", "profile = \"pip\"\n");
  auto chosen = resolve_profile(argv({"./install.sh"}), FlagLayer{}, t.dirs);
  REQUIRE(chosen);
  CHECK(chosen->name == "pip");
  FlagLayer flags;
  flags.profile = "yarn";
  CHECK(resolve_profile(argv({"./install.sh"}), flags, t.dirs)->name == "yarn");
}

TEST_CASE("command matcher: forms, versions and install subcommands") {
  CHECK(is_name_or_versioned("pip3.11", "pip"));
  CHECK(is_name_or_versioned("go1.22.3", "go"));
  CHECK_FALSE(is_name_or_versioned("pipx", "pip"));
  CHECK_FALSE(is_name_or_versioned("pip.", "pip"));
  CHECK_FALSE(is_name_or_versioned("gox", "go"));
  std::vector<std::string> cmd{"python3.12", "-m", "pip", "--quiet", "install", "requests"};
  CHECK(match_command_form("python -m pip", cmd) == 3u);
  CHECK_FALSE(match_command_form("python -m uv", cmd));
  CHECK(match_command_form("python", cmd) == 1u);
  std::vector<std::string> install{"install", "add package"};
  CHECK(is_install_command(install, cmd, 3));
  std::vector<std::string> freeze{"pip", "freeze"};
  CHECK_FALSE(is_install_command(install, freeze, 1));
  std::vector<std::string> dotnet{"dotnet", "add", "package", "Newtonsoft.Json"};
  CHECK(is_install_command(install, dotnet, 1));
  std::vector<std::string> reference{"dotnet", "add", "reference", "../x"};
  CHECK_FALSE(is_install_command(install, reference, 1));
}

TEST_CASE("profiles show: every value with the place it was set") {
  Tree t;
  t.root.write("builtin/npm.toml",
               "description = \"npm\"\n[match]\ncommands = [\"npm\"]\n[network]\nallow = "
               "[\"registry.npmjs.org\"]\n");
  t.root.write("project/.safeinstall.toml", "[network]\nallow = [\"npm.corp.example\"]\n");
  FlagLayer flags;
  flags.allow_hosts = {"extra.example"};
  auto resolved = resolve_named_profile("npm", flags, t.dirs);
  REQUIRE(resolved);
  auto shown = render_profile(*resolved);
  INFO(shown);
  CHECK(shown.find("\"registry.npmjs.org\",  # " + (t.dirs.builtin / "npm.toml").string() +
                   ":5:10") != std::string::npos);
  CHECK(shown.find("\"npm.corp.example\",  # " + (t.dirs.project / ".safeinstall.toml").string() +
                   ":2:10") != std::string::npos);
  CHECK(shown.find("\"extra.example\",  # --allow-host") != std::string::npos);
  CHECK(shown.find("processes = 100  # " + (t.dirs.builtin / "base.toml").string() + ":4:13") !=
        std::string::npos);

  auto listing = render_profile_list(t.dirs);
  CHECK(listing.find("npm — npm") != std::string::npos);
  CHECK(listing.find("matches: npm") != std::string::npos);
  CHECK(listing.find("project layer: " + (t.dirs.project / ".safeinstall.toml").string()) !=
        std::string::npos);
}

TEST_CASE("profiles: the shipped profiles resolve and match their commands") {
  LayerDirs dirs;
  dirs.builtin = SAFEINSTALL_SOURCE_PROFILES;
  auto name_of = [&](std::vector<std::string> cmd) {
    auto r = resolve_profile(cmd, FlagLayer{}, dirs);
    REQUIRE(r);
    return r->name;
  };
  CHECK(name_of({"npm", "ci"}) == "npm");
  CHECK(name_of({"npx", "x"}) == "npm");
  CHECK(name_of({"yarn", "install"}) == "yarn");
  CHECK(name_of({"corepack", "pnpm", "install"}) == "pnpm");
  CHECK(name_of({"bun", "install"}) == "bun");
  CHECK(name_of({"pip3.11", "install", "x"}) == "pip");
  CHECK(name_of({"python3", "-m", "pip", "install", "x"}) == "pip");
  CHECK(name_of({"uv", "sync"}) == "uv");
  CHECK(name_of({"poetry", "install"}) == "poetry");
  CHECK(name_of({"pipenv", "install"}) == "pipenv");
  CHECK(name_of({"gem", "install", "rake"}) == "gem");
  CHECK(name_of({"bundle", "install"}) == "bundler");
  CHECK(name_of({"cargo", "fetch"}) == "cargo");
  CHECK(name_of({"go", "mod", "download"}) == "go");
  CHECK(name_of({"dotnet", "restore"}) == "dotnet");
  CHECK(name_of({"nuget", "restore"}) == "nuget");
  CHECK(name_of({"composer", "install"}) == "composer");
  CHECK(name_of({"mvn", "dependency:go-offline"}) == "maven");
  CHECK(name_of({"./gradlew", "build"}) == "gradle");
  CHECK(name_of({"make"}) == "base");

  auto pip = resolve_profile(argv({"python3", "-m", "pip", "install", "x"}), FlagLayer{}, dirs);
  REQUIRE(pip);
  CHECK(pip->is_install(argv({"python3", "-m", "pip", "install", "x"})));
  CHECK_FALSE(pip->is_install(argv({"python3", "-m", "pip", "list"})));
  CHECK(values(pip->merged.hosts) ==
        std::vector<std::string>{"pypi.org", "files.pythonhosted.org"});
  auto base = pip->base();
  CHECK(std::ranges::find(base.env_allow, "PATH") != base.env_allow.end());
  CHECK(std::ranges::find(base.env_allow, "PIP_*") != base.env_allow.end());
  CHECK(base.home_size > 0);
}

TEST_CASE("profiles: install and build forms are found behind the tools' global options") {
  LayerDirs dirs;
  dirs.builtin = SAFEINSTALL_SOURCE_PROFILES;
  struct Form {
    std::vector<std::string> argv;
    bool install;
    bool build;
  };
  const std::vector<Form> forms = {
      {{"npm", "--workspace", "x", "run", "build"}, false, true},
      {{"npm", "-w", "x", "run", "build"}, false, true},
      {{"npm", "--workspace=x", "run", "build"}, false, true},
      {{"npm", "--prefix", ".", "install", "lodash"}, true, false},
      {{"npm", "--prefix", "web", "--workspace", "a", "ci"}, true, false},
      {{"npm", "--silent", "run", "build"}, false, true},
      {{"npm", "--prefix", "install"}, false, false},  // `install` is --prefix's value
      {{"npm", "--prefix", "x", "run", "dev"}, false, false},
      {{"pip", "--disable-pip-version-check", "install", "x"}, true, false},
      {{"pip", "-q", "install", "x"}, true, false},
      {{"pip", "--python", "install", "list"}, false, false},
      {{"pip", "--cache-dir", "/tmp/c", "install", "x"}, true, false},
      {{"python3", "-m", "pip", "--log", "pip.log", "install", "x"}, true, false},
      {{"cargo", "+nightly", "build"}, true, true},
      {{"cargo", "--locked", "build"}, true, true},
      {{"cargo", "+nightly", "--config", "x.toml", "test"}, false, true},
      {{"cargo", "--color", "always", "fetch"}, true, false},
      {{"cargo", "+nightly", "fmt"}, false, false},
      {{"go", "-C", "dir", "build"}, true, true},
      {{"go", "-C", "dir", "mod", "download"}, true, false},
      {{"go", "-C", "build", "vet"}, false, false},
      {{"yarn", "--cwd", "x", "add", "y"}, true, false},
      {{"yarn", "--cwd", "x", "run", "build"}, false, true},
      {{"composer", "--no-interaction", "install"}, true, false},
      {{"composer", "-d", "web", "require", "monolog/monolog"}, true, false},
      {{"composer", "-n", "--working-dir", "web", "update"}, true, false},
      {{"bundle", "--verbose", "install"}, true, false},
      {{"bundle", "--retry", "3", "install"}, true, false},
      {{"pnpm", "-C", "web", "install"}, true, false},
      {{"pnpm", "--filter", "app", "run", "build"}, false, true},
      {{"gem", "--config-file", "x", "install", "rake"}, true, false},
  };
  for (const auto& form : forms) {
    INFO(Catch::Detail::stringify(form.argv));
    auto profile = resolve_profile(form.argv, FlagLayer{}, dirs);
    REQUIRE(profile);
    CHECK(profile->is_install(form.argv) == form.install);
    CHECK(profile->is_build(form.argv) == form.build);
  }
}

TEST_CASE("command matcher: value options and option prefixes") {
  const std::vector<std::string_view> values{"-C"};
  const std::vector<std::string_view> prefixes{"+"};
  const OptionSyntax syntax{values, prefixes};
  const std::vector<std::string> argv{"go", "-C", "dir", "+x", "-v", "mod", "--", "download"};
  CHECK(syntax.next_word(argv, 1) == 5u);
  CHECK(syntax.next_word(argv, 6) == argv.size());  // after `--`: another program's words
  CHECK(syntax.is_option("+nightly"));
  CHECK_FALSE(syntax.is_option("+"));
  CHECK_FALSE(syntax.is_option("-"));
  CHECK_FALSE(OptionSyntax{}.is_option("+nightly"));
  const std::vector<std::string> mod{"mod download"};
  CHECK_FALSE(is_install_command(mod, argv, 1, syntax));
  const std::vector<std::string> go{"go", "-C", "dir", "+x", "mod", "-x", "download"};
  CHECK(is_install_command(mod, go, 1, syntax));
  CHECK_FALSE(is_install_command(mod, go, 1));  // `dir` is then the first word
}

TEST_CASE("profile schema: value options are option words, prefixes one character") {
  Tree t;
  t.root.write("builtin/x.toml", "[match]\ncommands = [\"x\"]\nvalue_options = [\"prefix\"]\n");
  auto bad = resolve_named_profile("x", FlagLayer{}, t.dirs);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("value option `prefix` must be one option word") !=
        std::string::npos);
  t.root.write("builtin/x.toml", "[match]\ncommands = [\"x\"]\noption_prefixes = [\"ab\"]\n");
  auto long_prefix = resolve_named_profile("x", FlagLayer{}, t.dirs);
  REQUIRE_FALSE(long_prefix);
  CHECK(long_prefix.error().message().find("option prefix `ab`") != std::string::npos);
}

TEST_CASE("profile loader: placeholders take the sandbox's values") {
  RunPlan plan;
  plan.home = "/home/me";
  plan.project = "/work/p";
  CHECK(expand_placeholders("-Dhttps.proxyHost=${PROXY_HOST} -Dhttps.proxyPort=${PROXY_PORT}",
                            plan) == "-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=3128");
  CHECK(expand_placeholders("${HOME}/.npm:${PROJECT}/x:${PROXY_URL}", plan) ==
        "/home/me/.npm:/work/p/x:http://127.0.0.1:3128");
  CHECK(expand_placeholders("no placeholders", plan) == "no placeholders");
}
