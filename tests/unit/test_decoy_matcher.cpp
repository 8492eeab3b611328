#include <catch2/catch.hpp>
#include <string>

#include "egress_test_support.h"
#include "sandbox/egress/decoy_matcher.h"
#include "sandbox/egress/dns/dns_responder.h"

using namespace safeinstall::sandbox;

namespace {

const std::string kCore = "Q7pZk2LmN9xV4bR8tY1cW6jH3sD5fG0aE2uI";  // 36 letters and digits
const std::string kToken = "npm_" + kCore;

std::string hex(const std::string& s) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) out += {digits[c >> 4], digits[c & 15]};
  return out;
}

std::string base64(const std::string& s, bool url) {
  const char* alphabet = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                             : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (unsigned char c : s) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) out += alphabet[(bits >> (count -= 6)) & 63];
  }
  if (count > 0) out += alphabet[(bits << (6 - count)) & 63];
  while (out.size() % 4 != 0) out += '=';
  return out;
}

std::string base32(const std::string& s) {
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  unsigned long bits = 0;
  int count = 0;
  for (unsigned char c : s) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 5) out += alphabet[(bits >> (count -= 5)) & 31];
  }
  if (count > 0) out += alphabet[(bits << (5 - count)) & 31];
  return out;
}

DecoyMatcher matcher() {
  return DecoyMatcher({{"~/.npmrc", kCore}, {"~/.aws/credentials", "AKIA3XQ9ZL2M7PB4WK8C"}});
}

}  // namespace

TEST_CASE("decoy matcher finds a value as it is and in any case or split by separators") {
  auto m = matcher();
  CHECK(m.find("GET /?t=" + kToken + " HTTP/1.1") == "~/.npmrc");
  CHECK(m.find("Authorization: Bearer " + kToken) == "~/.npmrc");
  std::string lower = kCore;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CHECK(m.find(lower.substr(0, 20) + "." + lower.substr(20) + ".evil.test") == "~/.npmrc");
  CHECK(m.find("x=npm%5F" + kCore) == "~/.npmrc");
  CHECK(m.find("akia3xq9zl2m7pb4wk8c.evil.test") == "~/.aws/credentials");
}

TEST_CASE("decoy matcher finds hex, base64, base64url and base32 at every offset") {
  auto m = matcher();
  for (std::string prefix : {"", "a", "ab", "abc", "abcd", "//registry/:_authToken="}) {
    const std::string sent = prefix + kToken + "\n";
    INFO("prefix: " << prefix);
    CHECK(m.find(hex(sent)) == "~/.npmrc");
    CHECK(m.find("data=" + base64(sent, false)) == "~/.npmrc");
    CHECK(m.find(base64(sent, true) + ".evil.test") == "~/.npmrc");
    std::string b32 = base32(sent);
    for (auto& c : b32) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string labels;
    for (std::size_t i = 0; i < b32.size(); i += 50) labels += b32.substr(i, 50) + ".";
    CHECK(m.find(labels + "evil.test") == "~/.npmrc");
  }
}

TEST_CASE("decoy matcher ignores text without the whole value") {
  auto m = matcher();
  CHECK_FALSE(m.find("GET /lodash HTTP/1.1"));
  CHECK_FALSE(m.find("registry.npmjs.org"));
  CHECK_FALSE(m.find(kCore.substr(0, 12)));
  CHECK_FALSE(m.find(""));
  CHECK_FALSE(DecoyMatcher().find(kToken));
}

TEST_CASE("decoy needles are long lowercase letters and digits") {
  auto needles = decoy_needles(kCore);
  CHECK(needles.size() >= 8);
  for (const auto& n : needles) {
    CHECK(n.size() >= 16);
    CHECK(n == normalized_for_search(n));
  }
}

TEST_CASE("a DNS question carrying a decoy is recorded as exfiltration under a masked name") {
  EgressPolicy policy;
  FakeAddressPool pool;
  NetworkRecord record;
  auto m = matcher();
  DnsResponder responder(policy, pool, record, 60, &m);
  auto query = egress_test::dns_query("akia3xq9zl2m7pb4wk8c.evil.test", 1);
  REQUIRE(responder.respond(query));
  REQUIRE(record.exfiltration().size() == 1);
  CHECK(record.exfiltration()[0].decoy == "~/.aws/credentials");
  CHECK(record.exfiltration()[0].where == "dns question");
  CHECK(record.exfiltration()[0].host == "[decoy:~/.aws/credentials].evil.test");
  REQUIRE(record.dns().size() == 1);
  CHECK(record.dns()[0].name == "[decoy:~/.aws/credentials].evil.test");
}
