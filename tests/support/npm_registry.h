#pragma once
// An npm registry as static files, for tests that run the real npm against the fake internet.
//
//   FakeInternet net(SI_SINK_PATH);
//   write_npm_registry(net.registry_root(), "http://registry.test/",
//                      {{.name = "left", .version = "1.0.0", .files = {{"index.js", "..."}}},
//                       {.name = "app-dep", .version = "2.1.0",
//                        .dependencies = {{"left", "^1.0.0"}},
//                        .scripts = {{"postinstall", "node hook.js"}},
//                        .files = {{"hook.js", "..."}}}});
//   run(net.in_world({"npm", "install", "--registry", "http://registry.test/", "--no-audit",
//                     "--no-fund", "--no-update-notifier", "app-dep@2.1.0"}),
//       {.env_overrides = {"npm_config_cache=" + scratch + "/npm-cache"}, .cwd = project});
//
// Inside safeinstall: `--allow-host registry.test:80`, and npm configured with
// `registry=http://registry.test/` (flag, .npmrc, or npm_config_registry). A private cache
// (npm_config_cache) keeps a test from being served by another's. Each tarball download shows
// in the registry's log as "http <peer> 80 GET /<name>/-/<basename>-<version>.tgz in=... out=...".
//
// Layout written (all versions of one name merged into one packument; calling again with
// more versions of a name adds them):
//   ROOT/<name>/index.json                     the packument (npm asks for /<name>, and for
//                                              /@scope%2fname, which the registry decodes)
//   ROOT/<name>/-/<basename>-<version>.tgz     the tarball; basename is the name without @scope/
// Each version's dist carries tarball = base_url + "<name>/-/<basename>-<version>.tgz",
// integrity (sha512, SRI) and shasum (sha1). Tarballs are built with tar and gzip, with fixed
// times, owners and order, so the same package always gives the same bytes and hashes.

#include <map>
#include <string>
#include <vector>

namespace safeinstall::test {

struct NpmPackage {
  std::string name;  // "left" or "@scope/left"
  std::string version;
  std::map<std::string, std::string> dependencies;  // name -> range
  std::map<std::string, std::string> scripts;       // e.g. {"postinstall", "node x.js"}
  std::map<std::string, std::string> files;         // path inside package/ -> content (package.json
                                                    // is generated from the fields here)
  std::map<std::string, std::string> bin;           // command -> path inside package/
};

// Writes the packuments and tarballs of `packages` under `root`; `base_url` ends with '/'
// (one is added otherwise). Throws std::runtime_error naming the package and the step.
void write_npm_registry(const std::string& root, const std::string& base_url,
                        const std::vector<NpmPackage>& packages);

}  // namespace safeinstall::test
