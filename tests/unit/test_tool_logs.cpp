// npm's logs, written from inside the sandbox into a directory of the run: kept as copies in
// the run dir, read as hostile data (no symlink followed, no fifo blocking, sizes bounded).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "runner/plan/tool_logs.h"
#include "staging_test_support.h"

using namespace safeinstall::runner;
using namespace safeinstall::staging_test;

TEST_CASE("tool logs: npm and npx log into a directory of the run bound at ~/.npm/_logs") {
  auto logs = tool_logs_for({"/usr/bin/npm", "ci"}, "/home/u", "/state/runs/r1");
  REQUIRE(logs.size() == 1);
  CHECK(logs[0].tool == "npm");
  CHECK(logs[0].inside == "/home/u/.npm/_logs");
  CHECK(logs[0].staged == "/state/runs/r1/tool-logs/npm");
  CHECK(logs[0].env == std::vector<std::pair<std::string, std::string>>{
                           {"npm_config_logs_dir", "/home/u/.npm/_logs"}});
  CHECK(tool_logs_for({"npx", "x"}, "/home/u", "/r").size() == 1);
  CHECK(tool_logs_for({"pip", "install", "x"}, "/home/u", "/r").empty());
  CHECK(tool_logs_for({}, "/home/u", "/r").empty());
}

TEST_CASE("tool logs: regular log files are kept, links, fifos and odd names are not") {
  ScratchDir dir("si-logs");
  std::string run_dir = dir / "run";
  make_dir(run_dir);
  auto logs = tool_logs_for({"npm", "ci"}, "/home/u", run_dir);
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
  auto logs = tool_logs_for({"npm", "ci"}, "/home/u", run_dir);
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
  auto logs = tool_logs_for({"npm", "ci"}, "/home/u", run_dir);
  make_dir(logs[0].staged);
  CHECK(keep_tool_logs(logs, run_dir).empty());
  CHECK_FALSE(exists(run_dir + "/logs"));
}
