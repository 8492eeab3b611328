// The package-lock reader, which keeps only what it needs as the JSON is parsed, against the
// reader it replaced (a document tree pruned while parsed, kept below as it was): the same
// packages in the same order, or the same error, for every shape of lock.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "runner/packages/lockfile.h"
#include "runner/packages/lockfile_text.h"

using namespace safeinstall::runner;
using safeinstall::Result;

namespace {

using nlohmann::json;

Result<json> parse_json(std::string_view text, const std::string& source,
                        const json::parser_callback_t& keep = nullptr) {
  try {
    auto parsed = json::parse(text, keep);
    if (!parsed.is_object()) return lockfile_error(source, 1, 1, "expected a JSON object");
    return parsed;
  } catch (const json::parse_error& e) {
    auto [line, column] = line_column_at(text, e.byte > 0 ? e.byte - 1 : 0);
    return lockfile_error(source, line, column, "not valid JSON");
  } catch (const json::exception& e) {
    // A number too large for any type, and the like.
    return lockfile_error(source, 0, 0, std::string("not usable JSON: ") + e.what());
  }
}

std::string string_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "node_modules/a/node_modules/@s/b" → "@s/b"; empty for a workspace folder.
std::string name_from_path(const std::string& path) {
  static constexpr std::string_view kMarker = "node_modules/";
  auto at = path.rfind(kMarker);
  if (at == std::string::npos) return {};
  return path.substr(at + kMarker.size());
}

// "npm:real-name@1.2.3" (an aliased dependency) → {real-name, 1.2.3}.
void resolve_alias(std::string& name, std::string& version) {
  if (!version.starts_with("npm:")) return;
  std::string spec = version.substr(4);
  auto at = spec.rfind('@');
  if (at == std::string::npos || at == 0) return;
  name = spec.substr(0, at);
  version = spec.substr(at + 1);
}

std::set<std::string> root_dependency_names(const json& root) {
  std::set<std::string> names;
  for (const char* section :
       {"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"}) {
    auto it = root.find(section);
    if (it == root.end() || !it->is_object()) continue;
    for (const auto& [name, _] : it->items()) names.insert(name);
  }
  return names;
}

// lockfileVersion 2 and 3: "packages", keyed by install path, "" the project itself.
std::vector<PackageVersion> read_packages_map(const json& packages, const std::string& source) {
  std::set<std::string> direct;
  if (auto root = packages.find(""); root != packages.end() && root->is_object())
    direct = root_dependency_names(*root);
  std::vector<PackageVersion> out;
  for (const auto& [path, entry] : packages.items()) {
    if (path.empty() || !entry.is_object()) continue;
    if (auto link = entry.find("link");
        link != entry.end() && link->is_boolean() && link->get<bool>())
      continue;
    std::string name = string_at(entry, "name");
    std::string from_path = name_from_path(path);
    if (from_path.empty()) continue;  // a workspace's own folder
    if (name.empty()) name = from_path;
    std::string version = string_at(entry, "version");
    resolve_alias(name, version);
    if (version.empty()) continue;
    bool top_level = path == "node_modules/" + from_path;
    auto scripts = entry.find("hasInstallScript");
    bool install_script = scripts != entry.end() && scripts->is_boolean() && scripts->get<bool>();
    out.push_back({Ecosystem::npm, name, version, top_level && direct.contains(from_path), source,
                   install_script});
  }
  return out;
}

// lockfileVersion 1: nested "dependencies"; direct ones are named by package.json.
void read_dependencies_tree(const json& dependencies, const std::set<std::string>& direct, bool top,
                            const std::string& source, std::vector<PackageVersion>& out,
                            int depth) {
  if (depth > 200) return;  // a hostile lockfile nests without end; real trees are shallow
  for (const auto& [key, entry] : dependencies.items()) {
    if (!entry.is_object()) continue;
    std::string name = key;
    std::string version = string_at(entry, "version");
    resolve_alias(name, version);
    if (!version.empty() && !version.starts_with("file:") && !version.starts_with("link:"))
      out.push_back({Ecosystem::npm, name, version, top && direct.contains(key), source});
    if (auto nested = entry.find("dependencies"); nested != entry.end() && nested->is_object())
      read_dependencies_tree(*nested, direct, false, source, out, depth + 1);
  }
}

// What the readers below never look at is dropped as it is parsed: a 2,000-package lock's
// integrity hashes, URLs, engines and per-package dependency ranges would be most of its
// tree in memory (≈ 10 MiB for a 1.7 MB file), held while a run judges and promotes.
class NpmLockKeys {
 public:
  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    if (event != json::parse_event_t::key) return true;
    const auto& key = parsed.get_ref<const std::string&>();
    if (depth == 1) {
      top_ = key;
      // lockfileVersion 2 keeps the old tree after "packages" for npm 6; only one is read.
      if (key == "packages") seen_packages_ = true;
      return !(key == "dependencies" && seen_packages_);
    }
    if (depth == 2) entry_ = key;
    // A package's own keys: in "packages" one level down; in lockfileVersion 1's nested
    // "dependencies" every other level (the levels between are package names, which may
    // be "os" or "bin" too).
    bool entry_key = top_ == "packages"       ? depth == 3
                     : top_ == "dependencies" ? depth >= 3 && depth % 2 == 1
                                              : false;
    if (!entry_key) return true;
    if (kUnread.contains(key)) return false;
    // In "packages" only the project's own entry ("") names dependencies that are read.
    bool ranges = key == "dependencies" || key == "devDependencies" ||
                  key == "optionalDependencies" || key == "peerDependencies";
    return !(ranges && top_ == "packages" && !entry_.empty());
  }

 private:
  inline static const std::set<std::string, std::less<>> kUnread = {
      "resolved", "integrity", "engines", "license", "funding",    "bin",
      "requires", "cpu",       "os",      "libc",    "deprecated", "peerDependenciesMeta"};
  std::string top_, entry_;
  bool seen_packages_ = false;
};

Result<std::vector<PackageVersion>> reference_npm_lock(std::string_view text,
                                                       const std::string& source,
                                                       std::string_view manifest) {
  auto lock = parse_json(text, source, NpmLockKeys{});
  if (!lock) return propagate(lock);
  if (auto packages = lock->find("packages"); packages != lock->end()) {
    if (!packages->is_object())
      return lockfile_error(source, 0, 0, "\"packages\" must be an object");
    return read_packages_map(*packages, source);
  }
  std::vector<PackageVersion> out;
  if (auto deps = lock->find("dependencies"); deps != lock->end()) {
    if (!deps->is_object())
      return lockfile_error(source, 0, 0, "\"dependencies\" must be an object");
    auto direct = json_manifest_names(
        manifest, {"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"});
    read_dependencies_tree(*deps, direct, true, source, out, 0);
  }
  return out;
}

std::string describe(const Result<std::vector<PackageVersion>>& read) {
  if (!read) return "error: " + read.error().message();
  std::string out;
  for (const auto& p : *read) {
    out += std::string(to_string(p.ecosystem)) + " " + p.name + "@" + p.version +
           (p.direct ? " direct" : "") + (p.install_script ? " script" : "") + " " + p.source +
           "\n";
  }
  return out;
}

// Both readers on one lock: the same packages in the same order, or the same error.
void check_same(const std::string& lock, const std::string& manifest = {}) {
  INFO(lock.substr(0, 400));
  auto expected = describe(reference_npm_lock(lock, "package-lock.json", manifest));
  auto got = describe(parse_npm_lock(lock, "package-lock.json", manifest));
  CHECK(got == expected);
}

// A lock of `count` packages with every field npm writes, nested copies and scoped names.
std::string generated_lock(int count) {
  json packages = json::object();
  json root = {{"name", "demo"}, {"version", "1.0.0"}};
  for (int i = 0; i < count; ++i) {
    std::string name = i % 7 == 0 ? "@scope" + std::to_string(i % 5) + "/pkg" + std::to_string(i)
                                  : "pkg" + std::to_string(i);
    std::string path = "node_modules/" + name;
    if (i % 11 == 0) path = "node_modules/pkg" + std::to_string(i + 1) + "/" + path;
    if (i % 3 == 0) root["dependencies"][name] = "^1.0.0";
    if (i % 13 == 0) root["devDependencies"][name] = "*";
    json entry = {{"version", std::to_string(i % 4) + ".1." + std::to_string(i)},
                  {"resolved", "https://registry.npmjs.org/" + name + "/-/x.tgz"},
                  {"integrity", "sha512-" + std::string(86, 'A') + "=="},
                  {"license", "MIT"},
                  {"dependencies", {{"pkg1", "^1"}, {"os", "2"}}},
                  {"engines", {{"node", ">=8"}}}};
    if (i % 5 == 0) entry["dev"] = true;
    if (i % 17 == 0) entry["hasInstallScript"] = true;
    if (i % 19 == 0) entry["version"] = "npm:real" + std::to_string(i) + "@2.0.0";
    if (i % 23 == 0) entry["bin"] = {{"x", "cli.js"}};
    packages[path] = entry;
  }
  packages[""] = root;
  return json(
             {{"name", "demo"}, {"lockfileVersion", 3}, {"requires", true}, {"packages", packages}})
      .dump(2);
}

}  // namespace

TEST_CASE("npm lock reader: lockfileVersion 1, 2 and 3 read as the document reader did",
          "[lockfile]") {
  check_same(R"({"name": "demo", "lockfileVersion": 3, "packages": {
      "": {"name": "demo", "dependencies": {"left": "^1.0.0", "@s/right": "2"},
           "devDependencies": {"tester": "1"}, "peerDependencies": {"peer": "1"},
           "optionalDependencies": {"opt": "1"}},
      "node_modules/left": {"version": "1.0.1", "hasInstallScript": true},
      "node_modules/@s/right": {"version": "2.0.0"},
      "node_modules/@s/right/node_modules/left": {"version": "0.9.0"},
      "node_modules/tester": {"version": "1.2.3", "dev": true},
      "node_modules/peer": {"version": "1.0.0", "peer": true},
      "node_modules/opt": {"version": "1.0.0", "optional": true},
      "node_modules/aliased": {"name": "real-name", "version": "3.0.0"},
      "node_modules/alias2": {"version": "npm:other@4.1.0"},
      "node_modules/alias3": {"version": "npm:@s/other@4.1.0"},
      "packages/ws": {"name": "ws-pkg", "version": "0.0.1"},
      "node_modules/ws-pkg": {"resolved": "packages/ws", "link": true}}})");
  // lockfileVersion 2: the old tree beside "packages", after it or before it.
  check_same(R"({"lockfileVersion": 2,
      "packages": {"": {"dependencies": {"a": "1"}}, "node_modules/a": {"version": "1.0.0"}},
      "dependencies": {"a": {"version": "9.9.9"}, "stale": {"version": "1.0.0"}}})");
  check_same(R"({"lockfileVersion": 2,
      "dependencies": {"a": {"version": "9.9.9"}, "stale": {"version": "1.0.0"}},
      "packages": {"": {"dependencies": {"a": "1"}}, "node_modules/a": {"version": "1.0.0"}}})");
  const std::string v1 = R"({"name": "demo", "lockfileVersion": 1, "requires": true,
      "dependencies": {
        "left": {"version": "1.0.1", "requires": {"inner": "0.1"},
                 "dependencies": {"inner": {"version": "0.1.0",
                                            "dependencies": {"deep": {"version": "5.0.0"}}}}},
        "inner": {"version": "0.2.0"},
        "alias": {"version": "npm:real@1.0.0"},
        "local": {"version": "file:../local"},
        "linked": {"version": "link:../linked"},
        "os": {"version": "1.0.0", "os": ["linux"], "bin": {"x": "y"}}}})";
  check_same(v1, R"({"dependencies": {"left": "^1.0.0", "os": "1"},
                     "devDependencies": {"alias": "npm:real@1"}})");
  check_same(v1, "not json");
  check_same(R"({"lockfileVersion": 1})");
  check_same("{}");
}

TEST_CASE("npm lock reader: repeated keys and values of the wrong type", "[lockfile]") {
  // A repeated key counts as its last occurrence, as in a document tree.
  check_same(R"({"packages": {"node_modules/a": {"version": "1.0.0"}},
                 "packages": {"node_modules/b": {"version": "2.0.0"}}})");
  check_same(R"({"packages": {"node_modules/a": {"version": "1.0.0", "version": 2}}})");
  check_same(R"({"packages": {"node_modules/a": {"version": 2, "version": "1.0.0"}}})");
  check_same(R"({"packages": {"node_modules/a": {"version": "1.0.0"},
                              "node_modules/a": {"version": "1.1.0", "link": true},
                              "node_modules/b": {"version": "1.0.0", "link": true, "link": 1},
                              "node_modules/c": {"version": "1.0.0", "link": "true"},
                              "node_modules/d": {"version": "1.0.0", "hasInstallScript": 1},
                              "node_modules/e": {"version": ["1.0.0"], "name": {"x": 1}},
                              "node_modules/f": {"version": {"v": "1"}, "name": "f"},
                              "node_modules/g": {"name": ["g"], "version": "1.0.0"},
                              "node_modules/h": {"name": null, "version": "1.0.0"}}})");
  check_same(R"({"packages": {
      "": {"dependencies": {"a": "1"}, "dependencies": {"b": "1"}, "devDependencies": ["c"]},
      "node_modules/a": {"version": "1.0.0"}, "node_modules/b": {"version": "1.0.0"},
      "node_modules/c": {"version": "1.0.0"}}})");
  check_same(R"({"packages": {"": {"dependencies": {"a": "1"}}, "": 7,
                              "node_modules/a": {"version": "1.0.0"}}})");
  check_same(R"({"packages": {"": {"dependencies": {"a": "1"}}, "": {"name": "x"},
                              "node_modules/a": {"version": "1.0.0"}}})");
  check_same(R"({"packages": {"node_modules/a": {"version": 3}, "node_modules/b": 7,
                              "node_modules/c": [1], "node_modules/d": null,
                              "": {"dependencies": []}}})");
  check_same(R"({"packages": {"node_modules/a": {"version": "1.0.0"}}, "packages": 3})");
  check_same(R"({"packages": []})");
  check_same(R"({"dependencies": []})");
  check_same(R"({"dependencies": {"a": {"version": "1.0.0"}}, "dependencies": "x"})");
  check_same(R"({"dependencies": {"a": {"version": "1.0.0", "dependencies": {"b": {"version": "2"}},
                                        "dependencies": 4},
                                  "a": {"version": "1.1.0"}, "c": 5, "d": [],
                                  "e": {"version": "1", "dependencies": []}}})");
  // Keys the reader acts on, where they are package names.
  check_same(R"({"packages": {"node_modules/version": {"version": "1.0.0", "name": "name"},
      "node_modules/link": {"version": "1.0.0"}, "node_modules/packages": {"version": "1.0.0"},
      "": {"dependencies": {"version": "1", "dependencies": "2"}}}})");
  check_same(R"({"dependencies": {"version": {"version": "1.0.0",
      "dependencies": {"dependencies": {"version": "2.0.0"}}}, "packages": {"version": "3.0.0"}}})",
             R"({"dependencies": {"version": "1", "packages": "1"}})");
}

TEST_CASE("npm lock reader: a lockfileVersion 1 tree is read 200 levels deep", "[lockfile]") {
  for (int levels : {199, 200, 201, 202, 400}) {
    std::string lock = R"({"dependencies": )";
    for (int i = 0; i < levels; ++i)
      lock += R"({"p)" + std::to_string(i) + R"(": {"version": ")" + std::to_string(i) +
              R"(.0.0", "dependencies": )";
    lock += "{}";
    for (int i = 0; i < levels; ++i) lock += "}}";
    lock += "}";
    check_same(lock);
  }
}

TEST_CASE("npm lock reader: malformed JSON gives the same file:line:col", "[lockfile]") {
  for (const std::string& lock :
       {std::string(), std::string("{"), std::string("{\n  \"packages\": {,}\n}"),
        std::string("[1, 2]"), std::string("7"), std::string("\"text\""), std::string("null"),
        std::string("{\"packages\": {}} trailing"),
        std::string("{\"packages\": {\"node_modules/a\": {\"version\": 1e999}}}"),
        std::string("{\"packages\": []}\n{"), std::string("[1, 2"),
        std::string("{\"a\": \"\xff\xfe\"}"), std::string(10000, '{'), std::string(5000, '[') + "x",
        std::string("{\"dependencies\": {\"a\": {\"version\": \"1\"}}, }")})
    check_same(lock);
  CHECK(parse_npm_lock("{\n  \"packages\": {,}\n}", "the-lockfile", "").error().message() ==
        "the-lockfile:2:16: not valid JSON");
}

TEST_CASE("npm lock reader: a generated lock of 2,500 packages", "[lockfile]") {
  check_same(generated_lock(2500));
}

TEST_CASE("npm lock reader: the axios fixture's lock, where it is checked out", "[lockfile]") {
  // The benchmarks' fixture (bench/lib.sh), beside the repository when it is there.
  std::filesystem::path lock_path = std::filesystem::path(SAFEINSTALL_TEST_FIXTURES) /
                                    "../../../shared/fixtures/npm-axios-1.7.9/package-lock.json";
  std::ifstream lock_file(lock_path);
  if (!lock_file) {
    WARN("no " << lock_path.string() << ": skipped");
    return;
  }
  std::stringstream lock, manifest;
  lock << lock_file.rdbuf();
  manifest << std::ifstream(lock_path.parent_path() / "package.json").rdbuf();
  auto read = parse_npm_lock(lock.str(), "package-lock.json", manifest.str());
  REQUIRE(read.has_value());
  CHECK(read->size() > 2000);
  check_same(lock.str(), manifest.str());
}
