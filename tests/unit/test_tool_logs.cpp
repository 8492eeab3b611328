// The tools' logs (the profiles' [[logs]]), written from inside the sandbox into a directory of the
// run: kept as copies in the run dir, read as hostile data (no symlink followed, no fifo blocking,
// sizes bounded).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "runner/plan/tool_logs.h"
#include "runner/profile/profile_schema.h"
#include "staging_test_support.h"

using namespace safeinstall::runner;
using namespace safeinstall::staging_test;

namespace {

// npm's place, as its profile's [[logs]] names it.
const std::vector<LogPlace> kNpmLogs = {{"/home/u/.npm/_logs", "npm_config_logs_dir", ""}};

}  // namespace

TEST_CASE("tool logs: each [[logs]] place gets a directory of the run, and its variable") {
  auto logs = tool_logs_for("npm", kNpmLogs, "/state/runs/r1");
  REQUIRE(logs.size() == 1);
  CHECK(logs[0].tool == "npm");
  CHECK(logs[0].inside == "/home/u/.npm/_logs");
  CHECK(logs[0].staged == "/state/runs/r1/tool-logs/npm");
  CHECK(logs[0].env == std::vector<std::pair<std::string, std::string>>{
                           {"npm_config_logs_dir", "/home/u/.npm/_logs"}});
  // pip's variable names a file in the directory; a second place gets a directory of its own.
  auto pip = tool_logs_for(
      "pip", {{"/home/u/.pip/logs", "PIP_LOG", "pip.log"}, {"/home/u/.other", "", ""}}, "/r");
  REQUIRE(pip.size() == 2);
  CHECK(pip[0].env ==
        std::vector<std::pair<std::string, std::string>>{{"PIP_LOG", "/home/u/.pip/logs/pip.log"}});
  CHECK(pip[0].staged == "/r/tool-logs/pip");
  CHECK(pip[1].staged == "/r/tool-logs/pip-1");
  CHECK(pip[1].env.empty());
  CHECK(tool_logs_for("base", {}, "/r").empty());
}

TEST_CASE("tool logs: the shipped npm and pip profiles name their logs, a project cannot") {
  for (auto [profile, path, env, file] :
       {std::tuple{"npm", "~/.npm/_logs", "npm_config_logs_dir", ""},
        std::tuple{"pip", "~/.pip/logs", "PIP_LOG", "pip.log"}}) {
    INFO(profile);
    auto layer = load_profile_layer(
        std::string(SAFEINSTALL_SOURCE_PROFILES) + "/" + profile + ".toml", LayerKind::Profile);
    REQUIRE(layer);
    REQUIRE(layer->logs.size() == 1);
    CHECK(layer->logs[0].path == path);
    CHECK(layer->logs[0].env == env);
    CHECK(layer->logs[0].file == file);
  }
  auto project =
      parse_profile_layer("[[logs]]\npath = \"~/x\"\n", "/p/.safeinstall.toml", LayerKind::Project);
  REQUIRE_FALSE(project);
  CHECK_THAT(project.error().message(), Catch::Contains("[logs] cannot be set by a project"));
  for (const char* bad : {"path = \"/var/log\"", "path = \"~/x\"\nfile = \"pip.log\"",
                          "path = \"~/x\"\nenv = \"PIP_LOG\"\nfile = \"../x.log\"",
                          "path = \"~/x\"\nenv = \"PIP LOG\""}) {
    INFO(bad);
    CHECK_FALSE(parse_profile_layer(std::string("[[logs]]\n") + bad + "\n", "/p/x.toml",
                                    LayerKind::Profile));
  }
}

TEST_CASE("tool logs: regular log files are kept, links, fifos and odd names are not") {
  ScratchDir dir("si-logs");
  std::string run_dir = dir / "run";
  make_dir(run_dir);
  auto logs = tool_logs_for("npm", kNpmLogs, run_dir);
  make_dir(logs[0].staged);
  write_file(logs[0].staged + "/2026-12-07T04_00_00_000Z-debug-0.log", "npm ERR! 502\n");
  write_file(dir / "secret.txt", "host secret\n");
  REQUIRE(::symlink((dir / "secret.txt").c_str(),
                    (logs[0].staged + "/2026-12-07T04_00_01_000Z-debug-0.log").c_str()) == 0);
  REQUIRE(::mkfifo((logs[0].staged + "/2026-12-07T04_00_02_000Z-debug-0.log").c_str(), 0600) == 0);
  write_file(logs[0].staged + "/notes.txt", "not a log\n");
  write_file(logs[0].staged + "/bad name;x.log", "odd\n");
  make_dir(logs[0].staged + "/sub.log");

  auto kept = keep_tool_logs(logs, run_dir);
  REQUIRE(kept.size() == 1);
  CHECK(kept[0].tool == "npm");
  CHECK(kept[0].inside == "/home/u/.npm/_logs/2026-12-07T04_00_00_000Z-debug-0.log");
  CHECK(kept[0].path == run_dir + "/logs/npm/2026-12-07T04_00_00_000Z-debug-0.log");
  CHECK(read_file(kept[0].path) == "npm ERR! 502\n");
  CHECK_FALSE(kept[0].truncated);
  // The bound directory is gone, whatever it held; the host's file is untouched.
  CHECK_FALSE(exists(logs[0].staged));
  CHECK_FALSE(exists(run_dir + "/tool-logs"));
  CHECK(read_file(dir / "secret.txt") == "host secret\n");
}

TEST_CASE("tool logs: only the last MiB of a log and the newest logs are kept") {
  ScratchDir dir("si-logs");
  std::string run_dir = dir / "run";
  make_dir(run_dir);
  auto logs = tool_logs_for("npm", kNpmLogs, run_dir);
  make_dir(logs[0].staged);
  std::string big(kMaxLogBytes + 100, 'a');
  big += "the end\n";
  write_file(logs[0].staged + "/9-big.log", big);
  for (std::size_t i = 0; i < kMaxKeptLogs + 3; ++i)
    write_file(logs[0].staged + "/0-" + std::to_string(10 + i) + ".log", "x\n");
  auto kept = keep_tool_logs(logs, run_dir);
  REQUIRE(kept.size() == kMaxKeptLogs);
  CHECK(kept.back().inside == "/home/u/.npm/_logs/9-big.log");
  CHECK(kept.back().truncated);
  CHECK(kept.back().size == big.size());
  std::string copy = read_file(kept.back().path);
  CHECK(copy.size() == kMaxLogBytes);
  CHECK(copy.ends_with("the end\n"));
  CHECK_FALSE(exists(run_dir + "/logs/npm/0-10.log"));  // the oldest names left out
}

TEST_CASE("tool logs: nothing written leaves no logs dir") {
  ScratchDir dir("si-logs");
  std::string run_dir = dir / "run";
  make_dir(run_dir);
  auto logs = tool_logs_for("npm", kNpmLogs, run_dir);
  make_dir(logs[0].staged);
  CHECK(keep_tool_logs(logs, run_dir).empty());
  CHECK_FALSE(exists(run_dir + "/logs"));
}
