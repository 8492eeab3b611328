#include "tests/integration/project_checks.h"

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/support/fake_internet.h"

namespace safeinstall::test {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string> kCleanCiEnv = {
    "http_proxy=", "HTTP_PROXY=", "https_proxy=", "HTTPS_PROXY=", "all_proxy=",
    "ALL_PROXY=",  "no_proxy=",   "NO_PROXY=",    "CI=true"};

void host_write(const Scenario& s, const std::string& relative, const std::string& content) {
  fs::path path = fs::path(s.project()) / relative;
  fs::create_directories(path.parent_path());
  std::ofstream(path) << content;
  for (fs::path p = path; p != fs::path(s.project()); p = p.parent_path())
    REQUIRE(::lchown(p.c_str(), s.uid(), s.uid()) == 0);
}

std::string project_file(const Scenario& s, const std::string& relative) {
  return read_file(s.project() + "/" + relative);
}

bool in_project(const Scenario& s, const std::string& relative) {
  return path_exists(s.project() + "/" + relative);
}

RunResult subcommand(const Scenario& s, const std::vector<std::string>& args) {
  std::vector<std::string> argv{Installation::get().safeinstall};
  argv.insert(argv.end(), args.begin(), args.end());
  RunOptions options;
  options.env_overrides = s.base_env();
  options.env_overrides.push_back("CI=true");
  if (s.who() == Who::Unprivileged) options.as_user = kUnprivilegedUid;
  options.cwd = s.project();
  auto result = run(argv, options);
  UNSCOPED_INFO("safeinstall " << Catch::Detail::stringify(args) << "\nexit " << result.exit_code
                               << "\nstdout: " << result.out << "\nstderr: " << result.err);
  return result;
}

const json* added_package(const json& report, const std::string& ecosystem,
                          const std::string& name) {
  for (const auto& p : report.at("packages").at("added"))
    if (p.value("ecosystem", "") == ecosystem && p.value("name", "") == name) return &p;
  return nullptr;
}

const json* change_at(const json& list, const std::string& path) {
  for (const auto& entry : list) {
    if (entry.at("path") == path) return &entry;
  }
  return nullptr;
}

bool has_flag(const json* entry, const std::string& flag) {
  if (entry == nullptr) return false;
  const auto& flags = entry->at("flags");
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

std::string category_of(const json* entry) {
  return entry == nullptr ? "(missing)" : entry->value("category", std::string("(none)"));
}

std::vector<json> violations_of_kind(const json& report, const std::string& kind) {
  std::vector<json> found;
  for (const auto& v : report.value("violations", json::array())) {
    if (v.value("kind", "") == kind) found.push_back(v);
  }
  return found;
}

std::vector<json> findings_of_kind(const json& report, const std::string& kind) {
  std::vector<json> found;
  for (const auto& f : report.value("findings", json::array())) {
    if (f.value("kind", "") == kind) found.push_back(f);
  }
  return found;
}

namespace {

std::vector<json> network_entries(const json& report, const char* list, const std::string& host) {
  std::vector<json> found;
  if (!report.contains("network")) return found;
  for (const auto& entry : report.at("network").value(list, json::array())) {
    if (contains(entry.value("host", ""), host)) found.push_back(entry);
  }
  return found;
}

}  // namespace

std::vector<json> refused_hosts(const json& report, const std::string& host) {
  return network_entries(report, "refused", host);
}

std::vector<json> contacted_hosts(const json& report, const std::string& host) {
  return network_entries(report, "contacted", host);
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

SandboxRun run_npm(const Scenario& s, const std::vector<std::string>& args,
                   const std::vector<std::string>& flags) {
  std::vector<std::string> command{"npm"};
  command.insert(command.end(), args.begin(), args.end());
  for (const char* flag :
       {"--no-audit", "--no-fund", "--no-update-notifier", "--registry", "http://registry.test/"})
    command.emplace_back(flag);
  std::vector<std::string> all_flags{"--allow-host", "registry.test:80"};
  all_flags.insert(all_flags.end(), flags.begin(), flags.end());
  auto run = s.run(command, all_flags, kCleanCiEnv, std::chrono::seconds(120));
  UNSCOPED_INFO(Catch::Detail::stringify(command)
                << "\nexit " << run.exit_code() << "\nstdout: " << run.result.out
                << "\nstderr: " << run.result.err);
  return run;
}

void write_package_json(const Scenario& s, const std::string& dependencies) {
  host_write(s, "package.json",
             "{\"name\":\"demo\",\"version\":\"1.0.0\",\"dependencies\":{" + dependencies + "}}\n");
}

void check_exfiltration_contained(const SandboxRun& run, const FakeInternet& net,
                                  std::size_t refusals) {
  auto refused = refused_hosts(run.report, "evil.test");
  CHECK(refused.size() == refusals);
  for (const auto& r : refused) CHECK(r.at("reason") == "not-allowed");
  const auto* rc = change_at(run.report.at("files").at("home"), ".bashrc");
  REQUIRE(rc != nullptr);
  CHECK(has_flag(rc, "persistence"));
  // Contained is not enough: each attempt is a finding that holds the run as suspicious.
  CHECK(run.exit_code() == kExitSuspicious);
  CHECK(findings_of_kind(run.report, "persistence").size() == 1);
  std::size_t refused_findings = 0;
  for (const auto& f : findings_of_kind(run.report, "refused-egress"))
    refused_findings += contains(f.at("detail").get<std::string>(), "evil.test") ? 1 : 0;
  CHECK(refused_findings == refusals);
  CHECK(contains(run.result.err, "suspicious (persistence, high)"));
  CHECK_FALSE(contains(net.dns_log(), "evil.test"));
  CHECK(net.sink_log().empty());
}

std::optional<std::string> install_test_unavailable(const std::vector<std::string>& tools) {
  if (auto reason = FakeInternet::unavailable_reason()) return "no fake internet here: " + *reason;
  for (const auto& tool : tools) {
    if (which(tool).empty()) return tool + " is not installed (scripts/setup.sh installs it)";
  }
  return std::nullopt;
}

}  // namespace safeinstall::test
