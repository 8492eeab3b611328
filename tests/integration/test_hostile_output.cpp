// What a hostile command can do to safeinstall's own work after it: draw on the terminal
// through the receipt (file names, argv, package names with escape sequences), keep the
// supervisor busy with enormous argv, and run past --timeout after the command. And a
// report that could not be written fails the run before anything runs.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// A name that would clear the receipt's line and draw a forged verdict on it, ring the bell,
// start a CSI with the one-byte C1 form (U+009B), break the line and set the window title.
// Valid UTF-8, so the report can keep it byte for byte.
const std::string kForged = "evil\x1b[2K\rverdict: promoted\x07\xc2\x9bx\n\x1b]0;t\x07.";
// The same, as sh's printf writes it.
const std::string kForgedPrintf =
    "evil\\033[2K\\rverdict: promoted\\007\\302\\233x\\n\\033]0;t\\007.";
// As the receipt must show it.
const std::string kForgedEscaped =
    "evil\\027[2K\\013verdict: promoted\\007\\194\\155x\\010\\027]0;t\\007.";

bool has_terminal_control(const std::string& text, bool allow_cr) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n' || (allow_cr && c == '\r')) continue;
    if (c < 0x20 || c == 0x7f || c == 0xff) return true;
    if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xa0)
      return true;  // a C1 control in UTF-8
  }
  return false;
}

// Every line of what safeinstall printed is one of its own: a message or an indented detail.
void require_own_lines(const std::string& err) {
  std::size_t start = 0;
  while (start < err.size()) {
    std::size_t end = std::min(err.find('\n', start), err.size());
    std::string line = err.substr(start, end - start);
    INFO("line: " << line);
    CHECK((line.starts_with("safeinstall:") || line.starts_with("  ")));
    start = end + 1;
  }
}

bool argv_holds(const json& process, const std::string& arg) {
  for (const auto& a : process.at("argv"))
    if (a == arg) return true;
  return false;
}

}  // namespace

TEST_CASE("hostile names, argv and package names reach the receipt escaped, the report exact") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  // Files and a directory with the name, an install script of a package with that name and
  // argv, a survivor with it in its argv; a file whose name is not UTF-8.
  const std::string script = "n=$(printf '" + kForgedPrintf +
                             "'); b=$(printf 'bad\\377'); "
                             "mkdir \"$n\" && : > \"$n/f\" && : > \"$b\" && "
                             "env npm_package_name=\"$n\" npm_package_version=1.0.0 "
                             "npm_lifecycle_event=postinstall /bin/sh -c 'exit 0' \"$n\" && "
                             "{ /bin/sh -c ': > /tmp/up; sleep 97531; :' \"$n\" & } ; "
                             // The survivor has exec'd (with the name in its argv) before
                             // the command exits.
                             "while [ ! -e /tmp/up ]; do sleep 0.05; done; exit 0";
  auto run = s.run({"/bin/sh", "-c", script}, {}, kCleanCiEnv);
  CHECK(run.exit_code() == kExitSuspicious);  // the survivor

  // The receipt: nothing a terminal would act on, every line safeinstall's own, the name
  // shown escaped.
  CHECK_FALSE(has_terminal_control(run.result.err, false));
  require_own_lines(run.result.err);
  CHECK(run.result.err.find(kForgedEscaped) != std::string::npos);
  CHECK(run.result.err.find("bad\\255") != std::string::npos);

  // The report keeps the bytes.
  const json& report = run.report;
  CHECK(change_at(report.at("files").at("project"), kForged) != nullptr);
  CHECK(change_at(report.at("files").at("project"), kForged + "/f") != nullptr);
  bool script_seen = false, survivor_seen = false;
  for (const auto& p : report.at("processes")) {
    if (p.value("package", "") == kForged + "@1.0.0" && argv_holds(p, kForged)) script_seen = true;
    if (p.at("survived") == true && argv_holds(p, kForged)) survivor_seen = true;
  }
  CHECK(script_seen);
  CHECK(survivor_seen);
}

TEST_CASE("many execs with huge argv are recorded bounded and the run ends promptly") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  // 300 execs, each with 16 arguments of 100 KB that the URL rule of redaction used to
  // backtrack over at every position.
  const std::string big = "$(head -c 100000 /dev/zero | tr '\\0' a)";
  std::string args;
  for (int i = 0; i < 16; ++i) args += " \"$big\"";
  const std::string script = "big=" + big + "; i=0; while [ $i -lt 300 ]; do /bin/true" + args +
                             " || exit 1; i=$((i+1)); done";
  auto started = std::chrono::steady_clock::now();
  auto run = s.run({"/bin/sh", "-c", script}, {}, kCleanCiEnv, 300s);
  auto took = std::chrono::steady_clock::now() - started;
  CHECK(run.exit_code() == 0);
  CHECK(took < 60s);  // generous: minutes of supervisor CPU before
  std::size_t truncated = 0;
  for (const auto& p : run.report.at("processes")) {
    if (p.at("argv").empty() || p.at("argv")[0] != "/bin/true") continue;
    std::size_t bytes = 0;
    for (const auto& a : p.at("argv")) bytes += a.get<std::string>().size();
    CHECK(bytes <= 16 * 1024);
    CHECK(p.at("argv").size() <= 128);
    if (p.value("argv_truncated", false)) ++truncated;
  }
  CHECK(truncated == 300);
}

TEST_CASE("nothing is promoted once --timeout has expired, even with --promote-on-failure") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  // Expected writes, then past the deadline: the run is stopped and what it staged is not
  // judged or promoted after the deadline.
  auto run = s.run({"/bin/sh", "-c", "mkdir out && echo x > out/x && sleep 30"},
                   {"--timeout", "1", "--promote-on-failure", "--expect", "out/**"}, kCleanCiEnv);
  CHECK(run.exit_code() == 124);
  CHECK_FALSE(in_project(s, "out/x"));
  CHECK(run.report.at("verdict") == "failed");
  CHECK(run.report.at("timed_out") == true);
  CHECK(run.report.at("timed_out_during") == "the command");
}

TEST_CASE("a --report that cannot be written fails the run before anything runs") {
  Who who = GENERATE(Who::Root, Who::Unprivileged);
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  for (const std::string& report : {std::string("/nonexistent/dir/x.json"), s.root()}) {
    INFO("--report " << report);
    auto run = subcommand(s, {"--report", report, "--project", s.project(), "--", "/bin/sh", "-c",
                              "echo RAN; echo x > ran"});
    CHECK(run.exit_code == 125);
    CHECK(run.out.find("RAN") == std::string::npos);
    CHECK(run.err.find("--report") != std::string::npos);
    CHECK_FALSE(in_project(s, "ran"));
    // Nothing was staged: no run was kept.
    CHECK(subcommand(s, {"runs"}).err.find("no runs kept") != std::string::npos);
  }
}
