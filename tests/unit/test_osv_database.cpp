// The offline OSV database: entries parsed, imported from a directory and from a zip into
// the compact index, looked up, and the known-bad findings over package versions.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "runner/packages/known_bad.h"
#include "runner/packages/osv_database.h"
#include "tests/unit/staging_test_support.h"

using namespace safeinstall::runner;
namespace fs = std::filesystem;

namespace {

const std::string kFixtures = SAFEINSTALL_TEST_FIXTURES "/osv";

PackageVersion pkg(Ecosystem e, std::string name, std::string version) {
  return {e, std::move(name), std::move(version), true, "lockfile"};
}

std::vector<std::string> ids(const safeinstall::Result<std::vector<OsvRecord>>& records) {
  REQUIRE(records.has_value());
  std::vector<std::string> out;
  for (const auto& r : *records) out.push_back(r.id);
  std::ranges::sort(out);
  return out;
}

void check_fixture_lookups(const OsvDatabase& db) {
  CHECK(ids(db.affecting(pkg(Ecosystem::npm, "evil-helper", "1.0.1"))) ==
        std::vector<std::string>{"MAL-2025-0001"});
  CHECK(ids(db.affecting(pkg(Ecosystem::npm, "evil-helper", "1.0.0"))).empty());
  CHECK(ids(db.affecting(pkg(Ecosystem::npm, "typo-lodahs", "9.9.9"))) ==
        std::vector<std::string>{"MAL-2025-0002"});
  // PyPI names match normalized.
  CHECK(ids(db.affecting(pkg(Ecosystem::pypi, "evil-pkg", "0.4.0"))) ==
        std::vector<std::string>{"MAL-2025-0003"});
  CHECK(ids(db.affecting(pkg(Ecosystem::pypi, "EVIL.PKG", "0.5"))).empty());
  CHECK(ids(db.affecting(pkg(Ecosystem::npm, "axios", "1.7.2"))) ==
        std::vector<std::string>{"GHSA-8hc4-vh64-cxmj"});
  CHECK(ids(db.affecting(pkg(Ecosystem::npm, "axios", "1.7.9"))).empty());
  CHECK(ids(db.affecting(pkg(Ecosystem::rubygems, "nokogiri", "1.15.4"))) ==
        std::vector<std::string>{"GHSA-xxxx-gem0-crit"});
  // Withdrawn entries and other ecosystems are not kept.
  CHECK(ids(db.lookup(Ecosystem::npm, "left-pad")).empty());
  CHECK(ids(db.lookup(Ecosystem::npm, "ruby-nokogiri")).empty());
  CHECK(ids(db.lookup(Ecosystem::npm, "aaa")).empty());
  CHECK(ids(db.lookup(Ecosystem::npm, "zzz")).empty());
  auto mal = db.malicious_records();
  REQUIRE(mal.has_value());
  CHECK(mal->size() == 3);
}

}  // namespace

TEST_CASE("osv: entries and their severities", "[osv]") {
  auto records = parse_osv_document(
      R"({"id": "GHSA-1", "affected": [{"package": {"ecosystem": "npm", "name": "a"},
          "versions": ["1.0.0"], "ranges": [{"type": "GIT", "events": [{"introduced": "abc"}]}]}],
          "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]})",
      "x.json");
  REQUIRE(records.has_value());
  REQUIRE(records->size() == 1);
  CHECK((*records)[0].severity == Severity::critical);  // 9.8
  CHECK((*records)[0].ranges.empty());                  // GIT ranges are not kept
  CHECK_FALSE((*records)[0].malicious);
  auto line = index_line((*records)[0]);
  CHECK(line == "npm\ta\tGHSA-1\tvuln\tcritical\t1.0.0\t-");
  auto back = record_from_line(line);
  REQUIRE(back);
  CHECK(back->versions == std::vector<std::string>{"1.0.0"});

  CHECK(cvss3_severity("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N") == Severity::high);    // 7.5
  CHECK(cvss3_severity("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N") == Severity::medium);  // 6.1
  CHECK(cvss3_severity("CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N") == Severity::low);     // 1.8
  CHECK(cvss3_severity("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H") ==
        Severity::critical);  // 10
  CHECK_FALSE(cvss3_severity("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"));
  CHECK_FALSE(cvss3_severity("CVSS:3.1/AV:N"));

  // A number nothing can hold (found by fuzzing) is an error, not an exception.
  CHECK_FALSE(parse_osv_document("\n1110e555775277 vre", "x.json").has_value());
  CHECK_FALSE(parse_osv_document("{\"id\": 1e999999}", "x.json").has_value());
  auto bad = parse_osv_document("{\n\"id\": ", "broken.json");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message().starts_with("broken.json:2:"));
}

TEST_CASE("osv: a directory of JSON entries read in memory", "[osv]") {
  auto db = OsvDatabase::open(kFixtures);
  REQUIRE(db.has_value());
  check_fixture_lookups(*db);
}

TEST_CASE("osv: import from a directory and from a zip, then look up in the index", "[osv]") {
  safeinstall::staging_test::ScratchDir scratch("si-osv");
  std::string zip = scratch.path() + "/all.zip";
  std::string command = "cd '" + kFixtures + "' && zip -q '" + zip + "' *.json";
  REQUIRE(std::system(command.c_str()) == 0);
  for (const auto& source : {kFixtures, zip}) {
    std::string into = scratch.path() + "/db-" + std::to_string(source.size());
    auto summary = import_osv({source}, into);
    REQUIRE(summary.has_value());
    CHECK(summary->documents == 8);
    CHECK(summary->records == 7);
    CHECK(summary->malicious == 3);
    auto db = OsvDatabase::open(into);
    REQUIRE(db.has_value());
    check_fixture_lookups(*db);
  }
  auto missing = import_osv({scratch.path() + "/nothing.zip"}, scratch.path() + "/x");
  CHECK_FALSE(missing.has_value());
}

TEST_CASE("osv: lookups across many sparse blocks", "[osv]") {
  safeinstall::staging_test::ScratchDir scratch("si-osv-many");
  std::string dir = scratch.path() + "/entries";
  fs::create_directories(dir);
  // 700 names, some with several entries, so keys straddle the 64-line blocks.
  for (int i = 0; i < 700; ++i) {
    for (int j = 0; j <= i % 3; ++j) {
      std::ofstream(dir + "/e" + std::to_string(i) + "-" + std::to_string(j) + ".json")
          << R"({"id": "GHSA-)" << i << "-" << j
          << R"(", "affected": [{"package": {"ecosystem": "npm", "name": "pkg)" << i
          << R"("}, "versions": ["1.0.)" << j << R"("]}]})";
    }
  }
  auto summary = import_osv({dir}, scratch.path() + "/db");
  REQUIRE(summary.has_value());
  auto db = OsvDatabase::open(scratch.path() + "/db");
  REQUIRE(db.has_value());
  for (int i = 0; i < 700; ++i) {
    auto records = db->lookup(Ecosystem::npm, "pkg" + std::to_string(i));
    REQUIRE(records.has_value());
    CHECK(records->size() == static_cast<std::size_t>(i % 3 + 1));
  }
  CHECK(db->lookup(Ecosystem::npm, "pkg")->empty());
  CHECK(db->lookup(Ecosystem::pypi, "pkg1")->empty());
}

TEST_CASE("osv: known-bad findings by kind and threshold", "[osv]") {
  auto db = OsvDatabase::open(kFixtures);
  REQUIRE(db.has_value());
  std::vector<PackageVersion> versions = {
      pkg(Ecosystem::npm, "evil-helper", "1.0.2"), pkg(Ecosystem::npm, "axios", "1.7.2"),
      pkg(Ecosystem::npm, "follow-redirects", "1.15.5"),
      pkg(Ecosystem::rubygems, "nokogiri", "1.15.4"), pkg(Ecosystem::npm, "left", "1.0.0")};
  auto findings = known_bad_findings(versions, *db, Severity::high);
  REQUIRE(findings.has_value());
  REQUIRE(findings->size() == 3);
  CHECK((*findings)[0].kind == FindingKind::malicious_package);
  CHECK((*findings)[0].severity == Severity::critical);
  CHECK((*findings)[0].package == "evil-helper@1.0.2");
  CHECK((*findings)[0].detail.find("MAL-2025-0001") != std::string::npos);
  CHECK((*findings)[1].kind == FindingKind::vulnerable_package);
  CHECK((*findings)[1].severity == Severity::medium);  // a high vulnerability
  CHECK((*findings)[2].severity == Severity::high);    // a critical one
  // A lower threshold adds the moderate follow-redirects one.
  auto more = known_bad_findings(versions, *db, Severity::medium);
  REQUIRE(more.has_value());
  CHECK(more->size() == 4);
  auto fewer = known_bad_findings(versions, *db, Severity::critical);
  REQUIRE(fewer.has_value());
  CHECK(fewer->size() == 2);
}
