#include "runner/report/sarif.h"

#include <openssl/sha.h>
#include <sys/stat.h>

#include <array>
#include <cctype>
#include <map>

#include "runner/record/redact.h"

namespace safeinstall::runner {
namespace {

using nlohmann::json;

constexpr const char* kSarifSchema = "https://json.schemastore.org/sarif-2.1.0.json";
constexpr const char* kRoot = "PROJECTROOT";
constexpr const char* kUnexpectedRule = "unexpected-write";
// A node_modules written outside the expected paths is one change per file: past this many,
// one more result says how many were left out (the report has them all).
constexpr std::size_t kUnexpectedResults = 200;

std::string describe_rule(FindingKind kind) {
  switch (kind) {
    case FindingKind::direct_connect:
      return "A process connected straight to an address, bypassing the egress gateway";
    case FindingKind::unlisted_dns:
      return "A DNS name outside the profile's hosts was looked up";
    case FindingKind::refused_egress:
      return "A connection the egress policy does not allow was refused";
    case FindingKind::persistence:
      return "A file code is run from later was planted in the home";
    case FindingKind::credential_read:
      return "A decoy credential was read by a package's process";
    case FindingKind::exfiltration:
      return "A decoy credential's value left through the gateway";
    case FindingKind::protected_write:
      return "A protected project path was written";
    case FindingKind::refused_write:
      return "A write into a read-only local dependency outside the project was refused";
    case FindingKind::survivor:
      return "A process outlived the install command";
    case FindingKind::refused_syscall:
      return "A dangerous system call was refused";
    case FindingKind::unlisted_script:
      return "An install script outside the script allow-list";
    case FindingKind::download_exec:
      return "A downloaded file or script was executed";
    case FindingKind::auto_run:
      return "A file that runs by itself later (interpreter or shell start-up)";
    case FindingKind::malicious_package:
      return "A package version a malicious-package advisory names";
    case FindingKind::vulnerable_package:
      return "A package version with a known vulnerability";
    case FindingKind::too_new:
      return "A package version younger than the minimum release age";
    case FindingKind::unapproved_dependency:
      return "A new direct dependency outside the allow-lists";
    case FindingKind::typosquat:
      return "A new dependency named like a popular package";
  }
  return "finding";
}

// Percent-encodes what RFC 3986 does not allow in a path.
std::string uri_path(const std::string& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    bool plain = std::isalnum(c) != 0 || c == '/' || c == '-' || c == '.' || c == '_' || c == '~';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

// The file a finding without one of its own is shown at: the project's manifest.
std::string manifest_of(const std::string& project) {
  static const std::array<const char*, 9> kManifests = {
      "package.json", "pyproject.toml", "requirements.txt", "Gemfile", "Cargo.toml",
      "go.mod",       "composer.json",  "setup.py",         "pom.xml"};
  struct stat st {};
  for (const char* name : kManifests) {
    if (::stat((project + "/" + name).c_str(), &st) == 0 && S_ISREG(st.st_mode)) return name;
  }
  return "package.json";
}

bool is_project_path(const Finding& f) {
  if (f.path.empty() || f.path.front() == '/') return false;
  return f.kind != FindingKind::persistence && f.kind != FindingKind::credential_read;
}

json location(const std::string& path) {
  return json::array({{{"physicalLocation",
                        {{"artifactLocation", {{"uri", uri_path(path)}, {"uriBaseId", kRoot}}}}}}});
}

std::string fingerprint(const std::string& rule, const std::string& text) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  std::string input = rule + '\0' + text;
  ::SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < 16; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

class Rules {
 public:
  std::size_t index_of(const std::string& id, const std::string& text, std::string_view level) {
    auto [it, added] = index_.emplace(id, rules_.size());
    if (added) {
      rules_.push_back({{"id", id},
                        {"shortDescription", {{"text", text}}},
                        {"defaultConfiguration", {{"level", level}}},
                        {"helpUri", "https://safeinstall.dev/docs/findings#" + id}});
    }
    return it->second;
  }
  const json& list() const { return rules_; }

 private:
  std::map<std::string, std::size_t> index_;
  json rules_ = json::array();
};

json finding_result(const Finding& f, Rules& rules, const std::string& manifest) {
  std::string id(to_string(f.kind));
  std::string_view level = sarif_level(f.severity);
  json properties = {{"severity", to_string(f.severity)}};
  if (!f.package.empty()) properties["package"] = f.package;
  if (!f.path.empty()) properties["path"] = f.path;
  if (f.pid > 0) properties["pid"] = f.pid;
  std::string where = is_project_path(f) ? f.path : manifest;
  return {{"ruleId", id},
          {"ruleIndex", rules.index_of(id, describe_rule(f.kind), level)},
          {"level", level},
          {"message", {{"text", f.detail}}},
          {"locations", location(where)},
          {"partialFingerprints", {{"safeinstallFinding/v1", fingerprint(id, f.detail)}}},
          {"properties", properties}};
}

void unexpected_change_results(const RunRecord& record, Rules& rules, json& results,
                               const std::string& manifest) {
  if (!record.staging) return;
  std::size_t listed = 0, left_out = 0;
  for (const auto& c : record.staging->changes.changes) {
    if (c.category != Category::unexpected) continue;
    if (listed == kUnexpectedResults) {
      ++left_out;
      continue;
    }
    ++listed;
    std::string text =
        std::string(to_string(c.change)) + " " + c.path + ", outside the paths the profile expects";
    results.push_back(
        {{"ruleId", kUnexpectedRule},
         {"ruleIndex", rules.index_of(kUnexpectedRule,
                                      "A project change outside the expected paths", "warning")},
         {"level", "warning"},
         {"message", {{"text", text}}},
         {"locations", location(c.path.str())},
         {"partialFingerprints",
          {{"safeinstallFinding/v1", fingerprint(kUnexpectedRule, c.path.str())}}}});
  }
  if (left_out > 0) {
    results.push_back(
        {{"ruleId", kUnexpectedRule},
         {"ruleIndex", rules.index_of(kUnexpectedRule,
                                      "A project change outside the expected paths", "warning")},
         {"level", "warning"},
         {"message",
          {{"text", std::to_string(left_out) +
                        " more unexpected changes (the run's report lists them all)"}}},
         {"locations", location(manifest)}});
  }
}

}  // namespace

std::string_view sarif_level(Severity severity) {
  if (severity >= Severity::high) return "error";
  if (severity == Severity::medium) return "warning";
  return "note";
}

nlohmann::json build_sarif(const RunRecord& record, const std::string& version) {
  Rules rules;
  json results = json::array();
  std::string manifest = manifest_of(record.project);
  for (const auto& f : record.findings) results.push_back(finding_result(f, rules, manifest));
  unexpected_change_results(record, rules, results, manifest);

  RiskSummary risk = risk_of(record.findings);
  bool passed = record.verdict == VerdictKind::promoted || record.verdict == VerdictKind::staged;
  json invocation = {{"executionSuccessful", passed},
                     {"exitCode", record.exit_code},
                     {"commandLine", shown_command(record.command)},
                     {"properties",
                      {{"verdict", to_string(record.verdict)},
                       {"verdictReasons", record.verdict_reasons},
                       {"runId", record.run_id}}}};
  std::string root = record.project;
  if (root.empty() || root.back() != '/') root += '/';
  json run = {
      {"tool",
       {{"driver",
         {{"name", "safeinstall"},
          {"version", version},
          {"informationUri", "https://safeinstall.dev"},
          {"rules", rules.list()}}}}},
      {"invocations", json::array({invocation})},
      {"originalUriBaseIds", {{kRoot, {{"uri", "file://" + uri_path(root)}}}}},
      {"results", results},
      {"properties",
       {{"risk",
         {{"score", risk.score}, {"level", risk.highest ? to_string(*risk.highest) : "none"}}}}}};
  return {{"$schema", kSarifSchema}, {"version", "2.1.0"}, {"runs", json::array({run})}};
}

}  // namespace safeinstall::runner
