// A held run's exact fix: the `.safeinstall.toml` lines and flags that would have let it pass,
// narrowed from what it wrote and was refused, and nothing for what attacks do.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "change_test_support.h"
#include "runner/profile/profile_schema.h"
#include "runner/record/expected_globs.h"
#include "runner/record/pass_suggestion.h"
#include "runner/record/run_record.h"
#include "runner/report/receipt.h"
#include "runner/report/report.h"
#include "staging_test_support.h"

using namespace safeinstall::runner;
using safeinstall::change_test::test_path;
using namespace safeinstall::sandbox;

namespace {

Change change(std::string path, EntryType type, ChangeKind kind, Category category) {
  Change c;
  c.path = test_path(path);
  c.type = type;
  c.change = kind;
  c.category = category;
  return c;
}

ChangeList changes_of(std::vector<Change> list) {
  ChangeList out;
  out.changes = std::move(list);
  return out;
}

// A Public Suffix List holding only what the test names.
std::string suffix_list(safeinstall::staging_test::ScratchDir& dir) {
  std::string file = dir / "psl.dat";
  std::ofstream(file) << "// test list\ncom\nio\ngithub.io\n";
  return file;
}

}  // namespace

TEST_CASE("expected globs: a created directory as dir/**, a rewritten output dir as top/**") {
  auto list = changes_of({
      change("dist", EntryType::dir, ChangeKind::added, Category::unexpected),
      change("dist/main.js", EntryType::file, ChangeKind::added, Category::unexpected),
      change("dist/assets", EntryType::dir, ChangeKind::added, Category::unexpected),
      change("dist/assets/a.css", EntryType::file, ChangeKind::added, Category::unexpected),
      change("build/a.o", EntryType::file, ChangeKind::modified, Category::unexpected),
      change("build/b.o", EntryType::file, ChangeKind::modified, Category::unexpected),
      change("build/sub/c.o", EntryType::file, ChangeKind::added, Category::unexpected),
      change("src/version.ts", EntryType::file, ChangeKind::modified, Category::unexpected),
      change("src/gen/new", EntryType::dir, ChangeKind::added, Category::unexpected),
      change("src/gen/new/x.ts", EntryType::file, ChangeKind::added, Category::unexpected),
      change("notes*.txt", EntryType::file, ChangeKind::added, Category::unexpected),
      change("package.json", EntryType::file, ChangeKind::modified, Category::unexpected),
      change(".github/workflows/x.yml", EntryType::file, ChangeKind::added, Category::protected_),
      change("node_modules/a/index.js", EntryType::file, ChangeKind::added, Category::expected),
  });
  CHECK(expected_globs_for(list, {"package.json"}) ==
        std::vector<std::string>{"build/**", "dist/**", "notes\\*.txt", "src/gen/new/**",
                                 "src/version.ts"});
  // Never a glob for everything.
  for (const auto& glob : expected_globs_for(list)) {
    CHECK(glob != "**");
    CHECK(glob.front() != '*');
  }
  CHECK(expected_globs_for(changes_of({})).empty());
}

TEST_CASE("pass suggestion: a build that wrote dist/ gets [files] expected and --expect") {
  auto list = changes_of({
      change("dist", EntryType::dir, ChangeKind::added, Category::unexpected),
      change("dist/index.js", EntryType::file, ChangeKind::added, Category::unexpected),
  });
  PassInputs inputs;
  inputs.changes = &list;
  auto pass = suggest_to_pass(inputs);
  CHECK(pass.expected == std::vector<std::string>{"dist/**"});
  CHECK(pass.allow_hosts.empty());
  CHECK(pass.withheld.empty());
  CHECK(pass.config_lines() == std::vector<std::string>{"[files]", "expected = [\"dist/**\"]"});
  CHECK(pass.flags() == std::vector<std::string>{"--expect 'dist/**'"});
}

TEST_CASE("pass suggestion: a host refused as not allowed is named, as name or name:port") {
  safeinstall::staging_test::ScratchDir dir("si-pass");
  NetworkEntries net{.contacted = {{"registry.npmjs.org", 443}},
                     .refused = {{"github.com", 443, RefusalReason::NotAllowed, 2},
                                 {"downloads.example.org", 80, RefusalReason::NotAllowed, 1}},
                     .dns = {{"github.com", "A", false, 1},
                             {"objects.githubusercontent.com", "AAAA", false, 1},
                             {"registry.npmjs.org", "A", true, 1},
                             {"txt.example.org", "TXT", false, 1}}};
  std::vector<Finding> findings = {
      {FindingKind::refused_egress, Severity::medium, "connection to github.com:443 refused"},
      {FindingKind::unlisted_dns, Severity::medium, "DNS lookup of github.com"},
      {FindingKind::unlisted_script, Severity::low, "bcrypt@5.1.1 has an install script"}};
  PassInputs inputs;
  inputs.network = &net;
  inputs.findings = &findings;
  inputs.public_suffix_list = suffix_list(dir);
  auto pass = suggest_to_pass(inputs);
  CHECK(pass.withheld.empty());
  CHECK(pass.allow_hosts == std::vector<std::string>{"downloads.example.org:80", "github.com",
                                                     "objects.githubusercontent.com"});
  CHECK(pass.flags() == std::vector<std::string>{"--allow-host downloads.example.org:80",
                                                 "--allow-host github.com",
                                                 "--allow-host objects.githubusercontent.com"});
  // Every suggested host is a pattern the schema takes, without --allow-broad.
  for (const auto& host : pass.allow_hosts) CHECK(parse_host_pattern(host).has_value());
}

TEST_CASE("pass suggestion: names of encoded data and public suffixes are never suggested") {
  safeinstall::staging_test::ScratchDir dir("si-pass");
  NetworkEntries net{.dns = {{"4f2a9c17b3e0d5a8c6f1.evil.test", "A", false, 1},
                             {"mzxw6ytboi2dqmbrgu3dsnzq.evil.test", "A", false, 1},
                             {"github.io", "A", false, 1},
                             {"com", "A", false, 1},
                             {"Bad_Name.test", "A", false, 1},
                             {"cdn.jsdelivr.net", "A", false, 1}}};
  PassInputs inputs;
  inputs.network = &net;
  inputs.public_suffix_list = suffix_list(dir);
  CHECK(suggest_to_pass(inputs).allow_hosts == std::vector<std::string>{"cdn.jsdelivr.net"});
}

TEST_CASE("pass suggestion: more refused hosts than a narrow fix holds are not suggested") {
  NetworkEntries net;
  for (std::size_t i = 0; i <= kMostHostsSuggested; ++i)
    net.refused.push_back({"host" + std::string(1, static_cast<char>('a' + i)) + ".example.org",
                           443, RefusalReason::NotAllowed, 1});
  PassInputs inputs;
  inputs.network = &net;
  auto pass = suggest_to_pass(inputs);
  CHECK(pass.allow_hosts.empty());
  CHECK_THAT(pass.withheld, Catch::Contains("too many for a narrow fix"));
}

TEST_CASE("pass suggestion: nothing for a run suspicious for what attacks do") {
  auto list =
      changes_of({change("x.txt", EntryType::file, ChangeKind::added, Category::unexpected)});
  NetworkEntries net{.refused = {{"github.com", 443, RefusalReason::NotAllowed, 1}}};
  SECTION("a connect straight to an address") {
    std::vector<Finding> findings = {
        {FindingKind::direct_connect, Severity::high, "connect straight to 203.0.113.9:443"},
        {FindingKind::refused_egress, Severity::medium, "connection to github.com refused"}};
    PassInputs inputs{&list, nullptr, &net, &findings, {}};
    auto pass = suggest_to_pass(inputs);
    CHECK(pass.empty());
    CHECK_THAT(pass.withheld, Catch::Contains("suspicious (direct-connect)"));
  }
  SECTION("a host refused as a private address") {
    net.refused.push_back({"metadata.test", 80, RefusalReason::PrivateAddress, 1});
    std::vector<Finding> findings;
    PassInputs inputs{&list, nullptr, &net, &findings, {}};
    auto pass = suggest_to_pass(inputs);
    CHECK(pass.empty());
    CHECK_THAT(pass.withheld, Catch::Contains("private-address"));
  }
  SECTION("exfiltration and persistence") {
    for (auto kind : {FindingKind::exfiltration, FindingKind::persistence,
                      FindingKind::credential_read, FindingKind::typosquat}) {
      std::vector<Finding> findings = {{kind, Severity::high, "what attacks do"}};
      PassInputs inputs{&list, nullptr, &net, &findings, {}};
      CHECK(suggest_to_pass(inputs).empty());
    }
  }
  SECTION("a unix socket of the host") {
    std::vector<Finding> findings = {
        {FindingKind::refused_egress, Severity::high, "connect to /run/docker.sock", {}, {}, 7}};
    PassInputs inputs{&list, nullptr, &net, &findings, {}};
    CHECK(suggest_to_pass(inputs).empty());
  }
}

TEST_CASE("pass suggestion: a manifest changed beyond its dependencies is not allowed wholesale") {
  auto list = changes_of(
      {change("package.json", EntryType::file, ChangeKind::modified, Category::unexpected),
       change("gen.txt", EntryType::file, ChangeKind::added, Category::unexpected)});
  std::vector<ManifestEdit> manifests = {{"package.json", {}, "scripts changed"}};
  PassInputs inputs;
  inputs.changes = &list;
  inputs.manifests = &manifests;
  CHECK(suggest_to_pass(inputs).expected == std::vector<std::string>{"gen.txt"});
}

TEST_CASE("pass suggestion: the config lines are a project layer with the same values") {
  PassSuggestion pass{{"github.com", "other.test:80"}, {"dist/**", "odd \"name\"\\x.txt"}, ""};
  std::string text;
  for (const auto& line : pass.config_lines()) text += line + "\n";
  INFO(text);
  auto layer = parse_profile_layer(text, "/p/.safeinstall.toml", LayerKind::Project);
  REQUIRE(layer);
  std::vector<std::string> hosts, expected;
  for (const auto& h : layer->hosts) hosts.push_back(h.value);
  for (const auto& e : layer->expected) expected.push_back(e.value);
  CHECK(hosts == pass.allow_hosts);
  CHECK(expected == pass.expected);
  CHECK(shell_quoted("dist/**") == "'dist/**'");
  CHECK(shell_quoted("it's") == "'it'\\''s'");
  CHECK(shell_quoted("github.com:80") == "github.com:80");
}

TEST_CASE("receipt and report: a held run prints the exact fix, a suspicious one says so") {
  RunRecord record;
  record.command = {"npm", "run", "build"};
  record.verdict = VerdictKind::held;
  record.outcome.emplace();
  record.pass = PassSuggestion{{"github.com"}, {"dist/**"}, ""};
  auto receipt = render_receipt(record, "", {}, false);
  CHECK_THAT(receipt, Catch::Contains("expected = [\"dist/**\"]"));
  CHECK_THAT(receipt, Catch::Contains("allow = [\"github.com\"]"));
  CHECK_THAT(receipt, Catch::Contains("or run with --expect 'dist/**' --allow-host github.com"));
  auto report = build_report(record);
  CHECK(report["suggestions"]["config"] ==
        nlohmann::json::array(
            {"[files]", "expected = [\"dist/**\"]", "[network]", "allow = [\"github.com\"]"}));
  CHECK(report["suggestions"]["flags"] ==
        nlohmann::json::array({"--expect 'dist/**'", "--allow-host github.com"}));

  record.pass = PassSuggestion{{}, {}, "suspicious (direct-connect): that is what attacks do"};
  receipt = render_receipt(record, "", {}, false);
  CHECK_THAT(receipt, Catch::Contains("suspicious: suspicious (direct-connect)"));
  CHECK_THAT(receipt, !Catch::Contains("to pass:"));
}

TEST_CASE("audit: a failed command makes an empty audit inconclusive, never 'needed nothing'") {
  RunRecord record;
  record.command = {"npm", "ci"};
  record.exit_code = 1;
  record.verdict = VerdictKind::held;
  AuditSuggestion audit;
  audit.failed_exit = 1;
  record.audit = audit;
  auto receipt = render_receipt(record, "", {}, false);
  CHECK_THAT(receipt, Catch::Contains("inconclusive: the command failed (exit 1)"));
  CHECK_THAT(receipt, !Catch::Contains("needed nothing"));
  CHECK_THAT(render_suggestion(audit, "npm ci"), Catch::Contains("# Inconclusive"));
  CHECK_THAT(render_suggestion(audit, "npm ci"), !Catch::Contains("Nothing to add"));
  CHECK(build_report(record)["audit"]["inconclusive"] == true);

  record.audit->failed_exit = 0;
  CHECK_THAT(render_receipt(record, "", {}, false), Catch::Contains("needed nothing"));
}
