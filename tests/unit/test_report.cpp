// The report and the receipt as views of a run record: the gateway's entries, the verdict and
// the violations become the report contract's text only here.
#include <algorithm>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runner/record/run_record.h"
#include "runner/report/receipt.h"
#include "runner/report/report.h"

using namespace safeinstall::runner;
using namespace safeinstall::sandbox;
using nlohmann::json;

namespace {

RunRecord record_with_network() {
  RunRecord record;
  record.command = {"npm", "ci"};
  record.project = "/project";
  record.outcome.emplace();
  record.outcome->network = {.contacted = {{"registry.npmjs.org", 443, Via::Proxy, 2, 10, 20},
                                           {"registry.npmjs.org", 443, Via::Transparent, 1, 0, 0}},
                             .refused = {{"webhook.site", 443, RefusalReason::NotAllowed, 2}},
                             .dns = {{"x.example", "A", false, 2}}};
  return record;
}

}  // namespace

TEST_CASE("report: the gateway's entries as network.contacted, refused and dns") {
  auto network = build_report(record_with_network())["network"];
  REQUIRE(network["contacted"].size() == 2);
  CHECK(network["contacted"][0] == json{{"host", "registry.npmjs.org"},
                                        {"port", 443},
                                        {"connections", 2},
                                        {"bytes_sent", 10},
                                        {"bytes_received", 20},
                                        {"via", "proxy"}});
  CHECK(network["contacted"][1]["via"] == "transparent");
  CHECK(network["refused"] ==
        json::array(
            {{{"host", "webhook.site"}, {"port", 443}, {"reason", "not-allowed"}, {"count", 2}}}));
  CHECK(network["dns"] ==
        json::array({{{"name", "x.example"}, {"type", "A"}, {"allowed", false}, {"count", 2}}}));
  CHECK(network["direct_attempts"] == json::array());
}

TEST_CASE("report: without an outcome the network lists are empty") {
  auto network = build_report(RunRecord{})["network"];
  for (const char* key : {"contacted", "refused", "dns", "direct_attempts"})
    CHECK(network[key] == json::array());
}

TEST_CASE("report: direct attempts name their kind as inet or unix") {
  RunRecord record = record_with_network();
  record.outcome->direct_attempts = {
      {"203.0.113.9", 443, "connect", 12, {"node"}, "", AttemptKind::inet},
      {"/run/docker.sock", 0, "connect", 13, {"node"}, "x@1.0.0", AttemptKind::unix_socket}};
  auto attempts = build_report(record)["network"]["direct_attempts"];
  REQUIRE(attempts.size() == 2);
  CHECK(attempts[0]["kind"] == "inet");
  CHECK_FALSE(attempts[0].contains("package"));
  CHECK(attempts[1]["kind"] == "unix");
  CHECK(attempts[1]["package"] == "x@1.0.0");
}

TEST_CASE("report: verdict and violation kinds as the contract spells them") {
  RunRecord record = record_with_network();
  record.verdict = VerdictKind::held;
  record.violations = {{ViolationKind::survivor, "node was still running", 31},
                       {ViolationKind::limit, "timeout expired", 0},
                       {ViolationKind::cache, "npm cache: rewritten", 0}};
  auto report = build_report(record);
  CHECK(report["verdict"] == "held");
  CHECK(
      report["violations"] ==
      json::array({{{"kind", "survivor"},
                    {"detail", "node was still running"},
                    {"pid", 31},
                    {"severity", "medium"}},
                   {{"kind", "limit"}, {"detail", "timeout expired"}, {"severity", "low"}},
                   {{"kind", "cache"}, {"detail", "npm cache: rewritten"}, {"severity", "high"}}}));
  CHECK(report["findings"] == json::array());
  CHECK(report["risk"] == json({{"score", 0},
                                {"level", "none"},
                                {"findings", 0},
                                {"suspicious", 0},
                                {"kinds", json::array()}}));
  for (auto kind :
       {ViolationKind::syscall, ViolationKind::egress, ViolationKind::write, ViolationKind::script})
    CHECK(to_string(kind) != "?");
}

TEST_CASE("receipt: the verdict and one line per host reached or refused") {
  RunRecord record = record_with_network();
  record.verdict = VerdictKind::rejected;
  auto receipt = render_receipt(record, "", {}, false);
  CHECK_THAT(receipt, Catch::Contains("verdict: rejected"));
  CHECK_THAT(receipt, Catch::Contains("registry.npmjs.org:443 via proxy, 2 connection(s), 10 B "
                                      "out, 20 B in"));
  CHECK_THAT(receipt, Catch::Contains("webhook.site:443 (not-allowed) ×2"));
  CHECK_THAT(receipt, Catch::Contains("x.example (A)"));
}

TEST_CASE("receipt line: a clean run in one escaped line with its manifest edits and hosts") {
  RunRecord record = record_with_network();
  record.command = {"npm", "install", "lodash"};
  record.verdict = VerdictKind::promoted;
  record.duration = std::chrono::milliseconds(2140);
  record.manifests.push_back({"package.json",
                              {{"dependencies", "lodash", "", "^4.17.21"},
                               {"dependencies", "left-pad", "1.0.0", ""},
                               {"devDependencies", "dayjs", "1.0.0", "1.11.13"},
                               {"dependencies", "a", "", "1"},
                               {"dependencies", "b", "", "1"}},
                              ""});
  record.outcome->network.contacted.push_back({"evil\x1b]0;owned\x07.example", 443, Via::Proxy});
  auto text = render_receipt_line(record);
  CHECK(
      text.starts_with("safeinstall: `npm install lodash` changed nothing in the project in "
                       "2.1 s · package.json: +lodash ^4.17.21, -left-pad, ~dayjs 1.11.13, … "
                       "(2 more) · reached registry.npmjs.org, evil"));
  CHECK(text.ends_with("\n"));
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find('\x07') == std::string::npos);
}

TEST_CASE(
    "report: packages lists what the run changed in the lockfiles, and the receipt counts it") {
  RunRecord record = record_with_network();
  CHECK(build_report(record)["packages"] == json{{"added", json::array()},
                                                 {"removed", json::array()},
                                                 {"changed", json::array()},
                                                 {"errors", json::array()}});
  PackageChanges changes;
  changes.added.push_back({Ecosystem::npm, "@s/left", "1.0.0", true, "package-lock.json"});
  changes.removed.push_back({Ecosystem::pypi, "gone", "0.1", false, "requirements.txt"});
  changes.changed.push_back({{Ecosystem::npm, "mid", "1.0.0", false, "package-lock.json"},
                             {Ecosystem::npm, "mid", "1.1.0", false, "package-lock.json"}});
  record.packages = changes;
  record.package_errors.push_back("as staged: yarn.lock:3:1: entry for `x` has no version");
  auto packages = build_report(record)["packages"];
  CHECK(packages["added"] == json::array({{{"ecosystem", "npm"},
                                           {"name", "@s/left"},
                                           {"version", "1.0.0"},
                                           {"direct", true},
                                           {"source", "package-lock.json"}}}));
  CHECK(packages["removed"][0]["ecosystem"] == "PyPI");
  CHECK(packages["changed"] == json::array({{{"ecosystem", "npm"},
                                             {"name", "mid"},
                                             {"from", "1.0.0"},
                                             {"to", "1.1.0"},
                                             {"direct", false},
                                             {"source", "package-lock.json"}}}));
  CHECK(packages["errors"].size() == 1);
  auto receipt = render_receipt(record, "", {}, false);
  CHECK(receipt.find("packages:  1 added, 1 changed, 1 removed (npm, PyPI)") != std::string::npos);
  CHECK(receipt.find("packages:  as staged: yarn.lock:3:1") != std::string::npos);
}
