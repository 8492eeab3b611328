// --audit: the egress policy that lets any public host through but nothing private, and the
// .safeinstall.toml additions built from what a run did.
#include <catch2/catch.hpp>

#include "change_test_support.h"
#include "runner/profile/profile_schema.h"
#include "runner/record/audit_suggestion.h"
#include "sandbox/egress/egress_policy.h"

using namespace safeinstall::runner;
using safeinstall::change_test::test_path;
using namespace safeinstall::sandbox;
namespace ip = boost::asio::ip;

namespace {

EgressPolicy audit_policy(std::vector<std::string> patterns) {
  auto policy = EgressPolicy::parse(patterns);
  REQUIRE(policy);
  policy->allow_any_public_host();
  return *policy;
}

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

}  // namespace

TEST_CASE("audit policy: any name and public address on any port, nothing private") {
  auto policy = audit_policy({"registry.npmjs.org"});
  CHECK(policy.allows("other.example", 80));
  CHECK(policy.allows("cdn.example.org", 8443));
  CHECK(policy.allows_name("anything.example"));
  CHECK(policy.allows("203.0.113.7", 443));
  // Private literals and what names resolve to stay refused.
  CHECK_FALSE(policy.allows("127.0.0.1", 443));
  CHECK_FALSE(policy.allows("169.254.169.254", 80));
  CHECK_FALSE(policy.allows("10.1.2.3", 443));
  CHECK_FALSE(policy.allows("::1", 443));
  CHECK_FALSE(policy.permits_address(ip::make_address("127.0.0.1"), 80));
  CHECK_FALSE(policy.permits_address(ip::make_address("169.254.169.254"), 80));
  CHECK_FALSE(policy.permits_address(ip::make_address("192.168.1.1"), 443));
  CHECK_FALSE(policy.permits_address(ip::make_address("100.64.0.1"), 443));
  CHECK(policy.permits_address(ip::make_address("203.0.113.7"), 443));
  // Malformed names are still malformed.
  CHECK(policy.decide("bad name", 443) == EgressPolicy::Decision::Malformed);
  // Without audit mode the same policy is the profile's.
  auto plain = EgressPolicy::parse({"registry.npmjs.org"});
  REQUIRE(plain);
  CHECK_FALSE(plain->allows("other.example", 80));
  CHECK_FALSE(plain->allows_name("anything.example"));
}

TEST_CASE("audit suggestion: hosts the profile lacks, with ports other than 443") {
  auto profile = EgressPolicy::parse({"registry.npmjs.org", "*.example.org"});
  REQUIRE(profile);
  std::deque<ContactedHost> contacted = {{"registry.npmjs.org", 443},
                                         {"cdn.example.org", 443},
                                         {"other.test", 80},
                                         {"objects.githubusercontent.com", 443},
                                         {"objects.githubusercontent.com", 443, Via::Transparent},
                                         {"2001:db8::5", 8443}};
  auto suggestion = suggest_additions(contacted, *profile, {});
  CHECK(suggestion.allow_hosts == std::vector<std::string>{"[2001:db8::5]:8443",
                                                           "objects.githubusercontent.com",
                                                           "other.test:80"});
  // Each suggestion is a pattern the profile schema takes.
  for (const auto& host : suggestion.allow_hosts) CHECK(parse_host_pattern(host).has_value());
}

TEST_CASE("audit suggestion: a new directory as dir/**, single files as paths, protected never") {
  auto list = changes_of(
      {change(".github", EntryType::dir, ChangeKind::added, Category::protected_),
       change(".github/workflows", EntryType::dir, ChangeKind::added, Category::protected_),
       change(".github/workflows/x.yml", EntryType::file, ChangeKind::added, Category::protected_),
       change("generated", EntryType::dir, ChangeKind::added, Category::unexpected),
       change("generated/a.js", EntryType::file, ChangeKind::added, Category::unexpected),
       change("generated/sub/b.js", EntryType::file, ChangeKind::added, Category::unexpected),
       change("node_modules", EntryType::dir, ChangeKind::added, Category::expected),
       change("node_modules/x/index.js", EntryType::file, ChangeKind::added, Category::expected),
       change("notes[1].txt", EntryType::file, ChangeKind::added, Category::unexpected),
       change("src", EntryType::dir, ChangeKind::modified, Category::unexpected),
       change("src/version.ts", EntryType::file, ChangeKind::modified, Category::unexpected)});
  auto suggestion = suggest_additions({}, EgressPolicy{}, list);
  CHECK(suggestion.expected ==
        std::vector<std::string>{"generated/**", "notes\\[1].txt", "src", "src/version.ts"});
  CHECK(suggestion.protected_paths ==
        std::vector<std::string>{".github", ".github/workflows", ".github/workflows/x.yml"});
  CHECK(suggestion.allow_hosts.empty());
}

TEST_CASE("audit suggestion: the rendered fragment is a valid project layer with the same values") {
  AuditSuggestion suggestion{{"other.test:80", "objects.githubusercontent.com"},
                             {"generated/**", "notes\\[1].txt"},
                             {".github/workflows/x.yml"},
                             {}};
  auto text = render_suggestion(suggestion, "npm install");
  CHECK(text.find("#   .github/workflows/x.yml") != std::string::npos);
  auto layer = parse_profile_layer(text, "/p/.safeinstall.toml", LayerKind::Project);
  INFO(text);
  REQUIRE(layer);
  std::vector<std::string> hosts, expected;
  for (const auto& h : layer->hosts) hosts.push_back(h.value);
  for (const auto& e : layer->expected) expected.push_back(e.value);
  CHECK(hosts == suggestion.allow_hosts);
  CHECK(expected == suggestion.expected);
  // Nothing to add still renders a valid (empty) layer that says so.
  auto empty = render_suggestion({}, "npm ci");
  CHECK(empty.find("Nothing to add") != std::string::npos);
  CHECK(parse_profile_layer(empty, "/p/.safeinstall.toml", LayerKind::Project));
}
