// Decoy credentials: unique per run, recognizable, placed beside (never over) the invoker's
// files, and named by profiles.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <filesystem>
#include <regex>
#include <set>

#include "runner/judge/decoy_findings.h"
#include "runner/plan/decoys.h"
#include "runner/plan/run_plan.h"
#include "runner/profile/decoy_names.h"
#include "runner/profile/profile_schema.h"

using namespace safeinstall::runner;
using safeinstall::sandbox::MountKind;

namespace {

const Decoy& named(const std::vector<Decoy>& decoys, const std::string& file) {
  auto it = std::ranges::find_if(decoys, [&](const Decoy& d) { return d.file == file; });
  REQUIRE(it != decoys.end());
  return *it;
}

bool matches(const std::string& text, const char* pattern) {
  return std::regex_search(text, std::regex(pattern));
}

RunPlan plan_with_home() {
  RunPlan plan;
  plan.home = "/home/u";
  // Mounts around the home (as the plan makes them) are no reason to leave a decoy out.
  plan.spec.mounts.push_back({MountKind::Tmpfs, "/home/u"});
  plan.spec.mounts.push_back({MountKind::HideDir, "/home"});
  return plan;
}

}  // namespace

TEST_CASE("decoys: one of each file, with values new on every run") {
  auto first = make_decoys({});
  auto second = make_decoys({});
  REQUIRE(first.size() == kDecoyFiles.size());
  std::set<std::string> cores;
  for (const auto& runs : {first, second}) {
    for (const auto& d : runs) {
      REQUIRE_FALSE(d.cores.empty());
      for (const auto& core : d.cores) {
        CHECK(core.size() >= 20);
        CHECK((d.content.find(core) != std::string::npos || d.file == "~/.docker/config.json"));
        CHECK(cores.insert(core).second);  // never the same value twice
      }
    }
  }
}

TEST_CASE("decoys: a person sees what they are, a scanner takes them for real tokens") {
  auto decoys = make_decoys({});
  for (const auto& d : decoys) {
    INFO(d.file);
    CHECK(d.content.find("safeinstall") != std::string::npos);
  }
  CHECK(matches(named(decoys, "~/.npmrc").content, "^# safeinstall decoy"));
  CHECK(matches(named(decoys, "~/.npmrc").content, ":_authToken=npm_[A-Za-z0-9]{36}\n"));
  CHECK(matches(named(decoys, "~/.aws/credentials").content,
                "aws_access_key_id = AKIA[A-Z0-9]{16}\naws_secret_access_key = [A-Za-z0-9]{40}"));
  CHECK(
      matches(named(decoys, "~/.config/gh/hosts.yml").content, "oauth_token: gho_[A-Za-z0-9]{36}"));
  CHECK(matches(named(decoys, "~/.git-credentials").content,
                "^https://safeinstall-decoy:ghp_[A-Za-z0-9]{36}@github.com\n$"));
  CHECK(matches(named(decoys, "~/.ssh/id_rsa").content, "-----BEGIN OPENSSH PRIVATE KEY-----\n"));
  CHECK(
      matches(named(decoys, "~/.docker/config.json").content, "\"auth\": \"[A-Za-z0-9+/=]{40,}\""));
  CHECK(matches(named(decoys, "~/.kube/config").content, "token: [A-Za-z0-9]{48}"));
  // The npm token is scoped to a registry no tool uses: npm never sends it anywhere.
  CHECK(named(decoys, "~/.npmrc").content.find("//npm.safeinstall-decoy.invalid/") !=
        std::string::npos);
}

TEST_CASE("decoys: skipped files are not made") {
  auto decoys = make_decoys({"~/.npmrc", "~/.kube/config"});
  CHECK(decoys.size() == kDecoyFiles.size() - 2);
  for (const auto& d : decoys) CHECK((d.file != "~/.npmrc" && d.file != "~/.kube/config"));
}

TEST_CASE("decoys: added to a sanitized copy of the invoker's file, never over a real one") {
  RunPlan plan = plan_with_home();
  plan.spec.mounts.push_back(
      {MountKind::FileContent, "/home/u/.npmrc", {}, 0, 0644, "registry=https://r.example/\n"});
  plan.spec.mounts.push_back({MountKind::BindReadOnly, "/home/u/.aws/credentials", "/real"});
  plan.spec.mounts.push_back({MountKind::BindReadOnly, "/home/u/.kube", "/real-kube"});
  plan_decoys(plan, {true, {}, {}, true});
  CHECK(
      std::ranges::none_of(plan.decoys, [](const Decoy& d) { return d.file == "~/.kube/config"; }));
  const auto& npmrc = named(plan.decoys, "~/.npmrc");
  CHECK(npmrc.content.starts_with("registry=https://r.example/\n# safeinstall decoy"));
  // The copy's mount is replaced by the decoy's, bound when the run's dir exists.
  CHECK(std::ranges::none_of(plan.spec.mounts,
                             [](const auto& m) { return m.target == "/home/u/.npmrc"; }));
  CHECK(std::ranges::none_of(plan.decoys,
                             [](const Decoy& d) { return d.file == "~/.aws/credentials"; }));
  CHECK(std::ranges::any_of(plan.profile_notes, [](const std::string& n) {
    return n.find("~/.aws/credentials") != std::string::npos;
  }));
}

TEST_CASE("decoys: off by profile, and no decoy in the tool's own files without pids") {
  RunPlan off = plan_with_home();
  plan_decoys(off, {false, {}, {}, true});
  CHECK(off.decoys.empty());

  RunPlan with_pids = plan_with_home();
  plan_decoys(with_pids, {true, {}, {"~/.npmrc"}, true});
  CHECK(with_pids.decoys.size() == kDecoyFiles.size());
  CHECK(with_pids.decoy_tool_reads == std::vector<std::string>{"~/.npmrc"});

  RunPlan without_pids = plan_with_home();
  plan_decoys(without_pids, {true, {}, {"~/.npmrc"}, false});
  CHECK(without_pids.decoys.size() == kDecoyFiles.size() - 1);
  CHECK(std::ranges::none_of(without_pids.decoys,
                             [](const Decoy& d) { return d.file == "~/.npmrc"; }));
}

TEST_CASE(
    "decoys: made in the sandbox, bound read-only into the home, watched, values to the gateway") {
  RunPlan plan = plan_with_home();
  plan_decoys(plan, {true, {}, {}, true});
  place_decoys(plan);
  REQUIRE(plan.decoys.size() == kDecoyFiles.size());
  for (const auto& d : plan.decoys) {
    INFO(d.file);
    std::string target = "/home/u/" + d.file.substr(2);
    CHECK(d.target == target);
    // Nothing of it on the host: init writes the content into its own tmpfs and binds it.
    CHECK(std::ranges::any_of(plan.spec.mounts, [&](const auto& m) {
      return m.kind == MountKind::FileContent && m.target == target && m.watched &&
             m.content == d.content && m.source.empty();
    }));
  }
  CHECK(plan.gateway.decoys.size() == decoy_values(plan.decoys).size());
  CHECK(plan.gateway.decoys.size() == kDecoyFiles.size() + 1);  // AWS: key id and secret
}

TEST_CASE("decoys: profile keys are checked") {
  auto layer = parse_profile_layer(
      "[decoys]\nenabled = false\nskip = [\"~/.kube/config\"]\ntool_reads = [\"~/.npmrc\"]\n",
      "/p/x.toml", LayerKind::Profile);
  REQUIRE(layer);
  REQUIRE(layer->decoys_enabled);
  CHECK_FALSE(layer->decoys_enabled->value);
  CHECK(layer->decoy_skip.size() == 1);
  CHECK(layer->decoy_tool_reads.size() == 1);
  auto settings = decoy_settings(*layer, false);
  CHECK_FALSE(settings.enabled);
  CHECK(settings.skip == std::vector<std::string>{"~/.kube/config"});

  auto unknown =
      parse_profile_layer("[decoys]\nskip = [\"~/.netrc\"]\n", "/p/x.toml", LayerKind::Profile);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message().find("`~/.netrc` is not a decoy file") != std::string::npos);
  auto not_bool =
      parse_profile_layer("[decoys]\nenabled = \"no\"\n", "/p/x.toml", LayerKind::Profile);
  REQUIRE_FALSE(not_bool);
  // A project may come from anyone: it cannot turn the decoys off.
  auto project = parse_profile_layer("[decoys]\nenabled = false\n", "/p/.safeinstall.toml",
                                     LayerKind::Project);
  REQUIRE_FALSE(project);
  CHECK(project.error().message().find("[decoys] cannot be set by a project") != std::string::npos);
}

TEST_CASE("decoys: findings tell the tool's own read from a script's, and sends are critical") {
  RunRecord record;
  record.plan.emplace();
  record.plan->decoy_tool_reads = {"~/.npmrc"};
  record.outcome.emplace();
  auto& outcome = *record.outcome;
  ProcessRecord npm;
  npm.pid = 2;
  npm.argv = {"npm", "install"};
  ProcessRecord script;
  script.pid = 9;
  script.argv = {"node", "-e", "steal()"};
  script.package = "thief@1.0.0";
  script.script = "postinstall";
  outcome.processes = {npm, script};
  outcome.decoy_reads = {
      {"~/.npmrc", true, 102, npm, {}},            // npm reading its own: no finding
      {"~/.npmrc", true, 109, script, {}},         // a script reading it
      {"~/.aws/credentials", true, 102, npm, {}},  // the tool, but not its own file
      {"~/.kube/config", false, 0, {}, {}},        // inotify: who is not known
  };
  outcome.network.exfiltration.push_back({"~/.npmrc", "header Authorization", "evil.test", 2});

  auto findings = decoy_findings(record);
  REQUIRE(findings.size() == 4);
  CHECK(findings[0].kind == FindingKind::credential_read);
  CHECK(findings[0].path == ".npmrc");
  CHECK(findings[0].package == "thief@1.0.0");
  CHECK(findings[0].pid == 9);
  CHECK(findings[0].detail.find("by node -e steal() (pid 9), thief@1.0.0 postinstall script") !=
        std::string::npos);
  CHECK(findings[1].path == ".aws/credentials");
  CHECK(findings[1].package.empty());
  CHECK(findings[2].path == ".kube/config");
  CHECK(findings[2].detail.find("not known") != std::string::npos);
  CHECK(findings[2].detail.find("thief@1.0.0 postinstall") != std::string::npos);
  for (std::size_t i = 0; i < 3; ++i) CHECK(findings[i].severity == Severity::high);
  CHECK(findings[3].kind == FindingKind::exfiltration);
  CHECK(findings[3].severity == Severity::critical);
  CHECK(findings[3].detail ==
        "the value of the decoy credential ~/.npmrc left through the gateway in the header "
        "Authorization to evil.test (2×)");
}

TEST_CASE("decoys: a value in text is shown as its decoy's name") {
  auto decoys = make_decoys({});
  const auto& aws = named(decoys, "~/.aws/credentials");
  std::string text = "curl -d " + aws.cores[0] + ":" + aws.cores[1] + " " + aws.cores[0];
  mask_decoy_values(text, decoys);
  CHECK(text ==
        "curl -d [decoy:~/.aws/credentials]:[decoy:~/.aws/credentials] "
        "[decoy:~/.aws/credentials]");
  std::string host = aws.cores[1] + ".evil.test";
  std::ranges::transform(host, host.begin(), [](unsigned char c) { return std::tolower(c); });
  mask_decoy_values(host, decoys);
  CHECK(host == "[decoy:~/.aws/credentials].evil.test");
  std::string plain = "npm install left-pad";
  mask_decoy_values(plain, decoys);
  CHECK(plain == "npm install left-pad");
}
