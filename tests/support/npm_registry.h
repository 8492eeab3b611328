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
// The packument's `time` holds `created`, `modified` and each version's publish time.
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
  // time[version] in the packument, as `npm publish` records it (ISO 8601, UTC); empty gives
  // kLongAgo. npm_published_ago() makes one relative to now.
  std::string published;
  std::vector<std::string> maintainers;  // versions[v].maintainers[].name; the first also
                                         // as _npmUser, the publisher
};

inline constexpr const char* kLongAgo = "2020-01-01T00:00:00.000Z";

// "YYYY-MM-DDTHH:MM:SS.000Z" for the moment `seconds` before now.
std::string npm_published_ago(long seconds);

// Writes the packuments and tarballs of `packages` under `root`; `base_url` ends with '/'
// (one is added otherwise). Throws std::runtime_error naming the package and the step.
void write_npm_registry(const std::string& root, const std::string& base_url,
                        const std::vector<NpmPackage>& packages);

}  // namespace safeinstall::test
