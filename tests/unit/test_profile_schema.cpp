// Every way a profile file can be wrong names file:line:col and the expected form; every
// shipped profile loads.
#include <catch2/catch.hpp>
#include <filesystem>

#include "runner/profile/base_profile.h"
#include "runner/profile/profile_schema.h"

using namespace safeinstall::runner;

namespace {

// The full message (where, what, expected form) of a layer that must not load.
std::string error_of(const std::string& text, LayerKind kind = LayerKind::Profile) {
  auto layer = parse_profile_layer(text, "/p/x.toml", kind);
  REQUIRE_FALSE(layer);
  return layer.error().message();
}

void check_error(const std::string& text, const std::string& where, const std::string& what,
                 const std::string& expected, LayerKind kind = LayerKind::Profile) {
  auto message = error_of(text, kind);
  INFO(message);
  CHECK(message.starts_with("/p/x.toml:" + where + ": "));
  CHECK(message.find(what) != std::string::npos);
  CHECK(message.find(expected) != std::string::npos);
}

}  // namespace

TEST_CASE("profile schema: malformed TOML names file:line:col") {
  auto message = error_of("[network]\nallow = [\"a\"\n");
  CHECK_THAT(message, Catch::Matches("/p/x\\.toml:[23]:[0-9]+: [\\s\\S]*"));
}

TEST_CASE("profile schema: unknown keys say which exist") {
  check_error("extends = \"base\"\nallowed = []\n", "2:1", "unknown key `allowed` in a profile",
              "expected one of: extends, description");
  check_error("[network]\nhosts = []\n", "2:1", "unknown key `hosts` in [network]",
              "allow, discover");
  check_error("[files]\n\nexpect = []\n", "3:1", "unknown key `expect` in [files]",
              "expected, protected");
  check_error("[env]\npass = []\n", "2:1", "unknown key `pass` in [env]", "allow, secret, set");
  check_error("[[cache]]\npath = \"~/.npm\"\nvar = \"X\"\n", "3:1",
              "unknown key `var` in [[cache]]", "path, env");
  check_error("[limits]\nmemroy = 1\n", "2:1", "unknown key `memroy` in [limits]",
              "open_files, processes, memory, pids, cpu_time, timeout, disk, files");
  check_error("[match]\ncommand = []\n", "2:1", "unknown key `command` in [match]",
              "commands, install, build, project_files");
  check_error("[credentials]\nfile = []\n", "2:1", "unknown key `file` in [credentials]", "files");
}

TEST_CASE("profile schema: what belongs only in a profile or only in a project file") {
  check_error("profile = \"npm\"\n", "1:1", "unknown key `profile` in a profile", "extends");
  check_error("extends = \"base\"\n", "1:1", "unknown key `extends` in .safeinstall.toml",
              "profile", LayerKind::Project);
  check_error("[match]\ncommands = [\"npm\"]\n", "1:1", "[match] belongs in a profile file",
              "profile = \"NAME\"", LayerKind::Project);
}

TEST_CASE("profile schema: wrong types say what was expected") {
  check_error("extends = 3\n", "1:11", "`extends` must be a string", "extends = \"base\"");
  check_error("scripts = true\n", "1:11", "`scripts` must be a string", "\"none\"");
  check_error("network = 1\n", "1:11", "`network` must be a table", "[network]");
  check_error("[network]\nallow = \"registry.npmjs.org\"\n", "2:9",
              "`network.allow` must be an array of strings", "network.allow = [");
  check_error("[network]\nallow = [\"a.org\", 7]\n", "2:19",
              "every element of `network.allow` must be a string", "network.allow = [");
  check_error("[files]\nexpected = [\"\"]\n", "2:13", "empty string in `files.expected`",
              "files.expected = [");
  check_error("[env.set]\nX = 1\n", "2:5", "`env.set.X` must be a string", "quote numbers");
  check_error("[env]\nset = [\"X=1\"]\n", "2:7", "`env.set` must be a table of strings",
              "[env.set]");
  check_error("[filesystem]\nhide_user_homes = \"yes\"\n", "2:19",
              "`hide_user_homes` must be true or false", "hide_user_homes = true");
  check_error("[filesystem]\nhome_size = \"lots\"\n", "2:13", "`home_size` must be a size",
              "\"512M\"");
  check_error("[limits]\nprocesses = -4\n", "2:13", "`processes` must be a positive integer",
              "processes = 4096");
  check_error("[limits]\ndisk = \"lots\"\n", "2:8", "`disk` must be a size", "\"512M\"");
  check_error("[limits]\ntimeout = 0\n", "2:11", "`timeout` must be a positive integer",
              "timeout = 4096");
  check_error("cache = 1\n", "1:9", "`cache` must be a list of tables", "[[cache]]");
  check_error("[filesystem]\ntoolchain = 1\n", "2:13", "use [[filesystem.toolchain]] entries",
              "name = \"rust\"");
}

TEST_CASE("profile schema: bad globs fail with the glob's own complaint") {
  check_error("[files]\nexpected = [\"ok/**\", \"/etc/passwd\"]\n", "2:22", "is absolute",
              "globs are relative to the project");
  check_error("[files]\nprotected = [\"a/**/b\"]\n", "2:14", "'**' is only supported as a trailing",
              "dir/**");
  check_error("[files]\nexpected = [\"../x\"]\n", "2:13", "contains '..'",
              "relative to the project");
  check_error("[files]\ndirect = [\"node_modules\", \"a/b\"]\n", "2:27",
              "'a/b' is not the name of a top-level directory", "a single directory name");
  check_error("[files]\ndirect = [\"..\"]\n", "2:11", "is not the name of a top-level directory",
              "\"node_modules\"");
}

TEST_CASE("profile schema: bad host patterns, script policies, placeholders and names") {
  check_error("[network]\nallow = [\"https://registry.npmjs.org/\"]\n", "2:10", "bad host pattern",
              "*.pythonhosted.org");
  check_error("[network]\nallow = [\"ok.org\", \"*\"]\n", "2:20", "bad host pattern", "host:8080");
  check_error("scripts = \"some\"\n", "1:11", "is not a script policy", "allow:PKG[,PKG...]");
  check_error("[env.set]\nX = \"${HOME}/a:${HOMEDIR}\"\n", "2:5", "unknown placeholder ${HOMEDIR}",
              "${PROXY_PORT}");
  check_error("[env.set]\n\"1X\" = \"a\"\n", "2:1", "not an environment variable name",
              "letters, digits and _");
  check_error("[network]\ndiscover = [\"npmrc\", \"pipconf\"]\n", "2:22",
              "unknown registry discovery `pipconf`", "one of: npmrc, yarnrc, pip");
  check_error("extends = \"Base Profile\"\n", "1:11", "is not a profile name", "lowercase letters");
  check_error("[match]\ncommands = [\"/usr/bin/npm\"]\n", "2:13",
              "must start with a program's base name", "python -m pip");
}

TEST_CASE("profile schema: paths of caches, credentials, read-only and hidden paths") {
  check_error("[[cache]]\npath = \"/var/cache/npm\"\n", "2:8",
              "needs `path`, a directory in the home", "~/.cache/pip");
  check_error("[[cache]]\nenv = \"X\"\n", "1:1", "needs `path`", "path = ");
  check_error("[[cache]]\npath = \"~/.npm\"\nenv = \"npm-cache\"\n", "3:7",
              "not an environment variable name", "PIP_CACHE_DIR");
  check_error("[credentials]\nfiles = [\".npmrc\"]\n", "2:10", "must be ~/relative or absolute",
              "~/.npmrc");
  check_error("[filesystem]\nreadonly = [\"opt/jdk\"]\n", "2:13", "must be ~/relative or absolute",
              "/opt/jdk");
  check_error("[filesystem]\nhide = [\"run/secrets\"]\n", "2:9", "must be absolute",
              "/run/secrets");
  check_error("[[filesystem.toolchain]]\nname = \"x\"\ndirs = [\"/opt\"]\n", "3:9",
              "must be a path relative to the home directory", "dirs = [");
  check_error("[[filesystem.toolchain]]\ndirs = [\".x\"]\n", "1:1", "toolchain needs `name",
              "name = \"rust\"");
}

TEST_CASE("profile schema: a good layer keeps every value's place") {
  auto layer = parse_profile_layer(
      "extends = \"base\"\n"
      "[network]\n"
      "allow = [\"registry.npmjs.org\", \"*.example.org:8443\"]\n"
      "[env.set]\n"
      "A = \"${PROXY_URL}\"\n",
      "/p/x.toml", LayerKind::Profile);
  REQUIRE(layer);
  REQUIRE(layer->hosts.size() == 2);
  CHECK(layer->hosts[1].value == "*.example.org:8443");
  CHECK(layer->hosts[1].origin.text() == "/p/x.toml:3:32");
  REQUIRE(layer->env_set.size() == 1);
  CHECK(layer->env_set[0].second.origin.text() == "/p/x.toml:5:5");
  CHECK(layer->extends->origin.text() == "/p/x.toml:1:11");
}

TEST_CASE("profile schema: every shipped profile loads and says what it matches") {
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SAFEINSTALL_SOURCE_PROFILES)) {
    if (entry.path().extension() != ".toml") continue;
    INFO(entry.path());
    auto layer = load_profile_layer(entry.path(), LayerKind::Profile);
    REQUIRE(layer);
    ++count;
    if (entry.path().stem() == "base") continue;
    CHECK_FALSE(layer->commands.empty());
    CHECK_FALSE(layer->install.empty());
    CHECK(layer->description);
  }
  CHECK(count >= 19);
}

TEST_CASE("profile schema: a project cannot make more of the host visible") {
  check_error("[filesystem]\nreadonly = [\"~/.ssh\"]\n", "1:1",
              "[filesystem] cannot be set by a project", "~/.config/safeinstall/NAME.toml",
              LayerKind::Project);
  check_error("[limits]\nprocesses = 9\n", "1:1", "[limits] cannot be set by a project",
              "/etc/safeinstall/NAME.toml", LayerKind::Project);
  check_error("[credentials]\nfiles = [\"~/.npmrc\"]\n", "1:1",
              "[credentials] cannot be set by a project", "~/.config/safeinstall",
              LayerKind::Project);
  check_error("[env]\nallow = [\"*\"]\n", "2:9", "env.allow cannot be widened by a project",
              "--pass-env NAME", LayerKind::Project);
  auto fine = parse_profile_layer(
      "profile = \"npm\"\n[network]\nallow = [\"npm.corp.example\"]\n"
      "[env]\nsecret = [\"CORP_*\"]\n[env.set]\nA = \"b\"\n",
      "/p/.safeinstall.toml", LayerKind::Project);
  CHECK(fine);
}

TEST_CASE("profile schema: [policy] osv_db and vuln_severity") {
  auto layer = parse_profile_layer("[policy]\nosv_db = \"osv\"\nvuln_severity = \"medium\"\n",
                                   "/p/x.toml", LayerKind::Project);
  REQUIRE(layer);
  REQUIRE(layer->osv_db);
  CHECK(layer->osv_db->value == "/p/osv");  // relative to the file naming it
  CHECK(layer->osv_db->origin.text() == "/p/x.toml:2:10");
  REQUIRE(layer->vuln_severity);
  CHECK(layer->vuln_severity->value == "medium");
  auto absolute =
      parse_profile_layer("[policy]\nosv_db = \"/var/lib/osv\"\n", "/p/x.toml", LayerKind::Profile);
  REQUIRE(absolute);
  CHECK(absolute->osv_db->value == "/var/lib/osv");
  check_error("[policy]\nvuln_severity = \"severe\"\n", "2:17",
              "`policy.vuln_severity = \"severe\"` is not a severity",
              "\"low\", \"medium\", \"high\" or \"critical\"");
  check_error("[policy]\nosv_db = 3\n", "2:10", "`policy.osv_db` must be a string",
              "policy.osv_db = ");
  check_error("[policy]\nosv = \"x\"\n", "2:1", "unknown key `osv` in [policy]",
              "osv_db, vuln_severity");
  check_error("policy = 1\n", "1:10", "`policy` must be a table", "[policy]");
}
