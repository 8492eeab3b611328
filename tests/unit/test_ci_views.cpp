#include <catch2/catch.hpp>

#include "runner/report/sarif.h"
#include "runner/report/summary.h"

using namespace safeinstall::runner;

TEST_CASE("sarif: severities map to SARIF levels") {
  CHECK(sarif_level(Severity::critical) == "error");
  CHECK(sarif_level(Severity::high) == "error");
  CHECK(sarif_level(Severity::medium) == "warning");
  CHECK(sarif_level(Severity::low) == "note");
  CHECK(sarif_level(Severity::info) == "note");
}

TEST_CASE("sarif: findings without a project file are located at the manifest, rules once") {
  RunRecord record;
  record.project = "/nonexistent-project";
  record.command = {"npm", "ci", "--token=npm_abcdefghijklmnopqrstuvwxyz0123456789"};
  record.verdict = VerdictKind::held;
  record.findings = {
      {FindingKind::direct_connect, Severity::high, "connect to 1.2.3.4:443", "x@1", {}, 9},
      {FindingKind::direct_connect, Severity::high, "connect to 5.6.7.8:443", "x@1", {}, 9},
      {FindingKind::download_exec, Severity::high, "ran /tmp/x", {}, "/tmp/x", 10},
      {FindingKind::auto_run, Severity::high, "a .pth with code", "evil@1",
       ".venv/lib/python3.11/site-packages/evil.pth", 0}};
  auto sarif = build_sarif(record, "9.9.9");
  const auto& run = sarif.at("runs").at(0);
  CHECK(run.at("tool").at("driver").at("version") == "9.9.9");
  CHECK(run.at("tool").at("driver").at("rules").size() == 3);
  const auto& results = run.at("results");
  REQUIRE(results.size() == 4);
  auto uri = [&](std::size_t i) {
    return results.at(i)
        .at("locations")
        .at(0)
        .at("physicalLocation")
        .at("artifactLocation")
        .at("uri");
  };
  CHECK(uri(0) == "package.json");
  CHECK(uri(2) == "package.json");
  CHECK(uri(3) == ".venv/lib/python3.11/site-packages/evil.pth");
  CHECK(results.at(0).at("ruleIndex") == results.at(1).at("ruleIndex"));
  CHECK(results.at(0).at("partialFingerprints") != results.at(1).at("partialFingerprints"));
  CHECK(results.at(0).at("properties").at("package") == "x@1");
  // Secrets in the command are redacted as in the report.
  std::string command = run.at("invocations").at(0).at("commandLine");
  CHECK(command.find("abcdefghijklmnop") == std::string::npos);
}

TEST_CASE("summary: table cells cannot be broken or marked up by what a package chose") {
  CHECK(markdown_cell("a|b") == "a\\|b");
  CHECK(markdown_cell("x\ny") == "x\\\\010y");  // shown escaped, never a new row
  CHECK(markdown_cell("<img src=x>") == "\\<img src=x\\>");
  CHECK(markdown_cell("`rm` *x* [l](u)") == "\\`rm\\` \\*x\\* \\[l\\](u)");
  CHECK(markdown_cell("\x1b[31mred") == "\\\\027\\[31mred");
}
