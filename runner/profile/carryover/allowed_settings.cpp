#include "runner/profile/carryover/allowed_settings.h"

#include <algorithm>
#include <array>

#include "runner/profile/carryover/config_text.h"

namespace safeinstall::runner {
namespace {

struct Rule {
  std::string_view pattern;  // '*' matches any run; in TOML and YAML, '.' separates levels
  ValueKind kind;
};

using enum ValueKind;

// npm, pnpm, yarn classic and bun read .npmrc. Never here: _auth, _authToken, _password,
// username, email, certfile, keyfile, key, cert, otp, anything nerf-darted ("//host/:..."),
// init-* (personal data), cache, prefix, store-dir, userconfig (paths into the hidden home).
constexpr Rule kNpmrc[] = {
    {"registry", Url},
    {"@*:registry", Url},
    {"proxy", Url},
    {"https-proxy", Url},
    {"http-proxy", Url},
    {"noproxy", Plain},
    {"no-proxy", Plain},
    {"strict-ssl", Plain},
    {"cafile", CaFile},
    {"ca", Certificate},
    {"ca[]", Certificate},
    {"always-auth", Plain},
    {"fetch-retries", Plain},
    {"fetch-retry-factor", Plain},
    {"fetch-retry-mintimeout", Plain},
    {"fetch-retry-maxtimeout", Plain},
    {"fetch-timeout", Plain},
    {"maxsockets", Plain},
    {"prefer-offline", Plain},
    {"prefer-online", Plain},
    {"offline", Plain},
    {"audit", Plain},
    {"audit-level", Plain},
    {"fund", Plain},
    {"update-notifier", Plain},
    {"loglevel", Plain},
    {"progress", Plain},
    {"color", Plain},
    {"unicode", Plain},
    {"save", Plain},
    {"save-exact", Plain},
    {"save-prefix", Plain},
    {"engine-strict", Plain},
    {"legacy-peer-deps", Plain},
    {"strict-peer-deps", Plain},
    {"package-lock", Plain},
    {"lockfile-version", Plain},
    {"ignore-scripts", Plain},
    {"foreground-scripts", Plain},
    {"script-shell", Plain},
    {"omit", Plain},
    {"include", Plain},
    {"optional", Plain},
    {"install-links", Plain},
    {"install-strategy", Plain},
    {"legacy-bundling", Plain},
    {"global-style", Plain},
    {"bin-links", Plain},
    {"python", Plain},
    {"unsafe-perm", Plain},
    // pnpm
    {"shamefully-hoist", Plain},
    {"hoist", Plain},
    {"hoist-pattern", Plain},
    {"hoist-pattern[]", Plain},
    {"public-hoist-pattern", Plain},
    {"public-hoist-pattern[]", Plain},
    {"node-linker", Plain},
    {"auto-install-peers", Plain},
    {"strict-peer-dependencies", Plain},
    {"dedupe-peer-dependents", Plain},
    {"resolve-peers-from-workspace-root", Plain},
    {"link-workspace-packages", Plain},
    {"prefer-workspace-packages", Plain},
    {"shared-workspace-lockfile", Plain},
    {"save-workspace-protocol", Plain},
    {"inject-workspace-packages", Plain},
    {"recursive-install", Plain},
    {"resolution-mode", Plain},
    {"side-effects-cache", Plain},
    {"lockfile", Plain},
    {"prefer-frozen-lockfile", Plain},
    {"enable-pre-post-scripts", Plain},
    {"use-node-version", Plain},
    {"package-manager-strict", Plain},
    {"package-manager-strict-version", Plain},
    {"manage-package-manager-versions", Plain},
    {"virtual-store-dir", Plain},
    {"modules-dir", Plain},
    {"symlink", Plain},
    {"package-import-method", Plain},
    {"child-concurrency", Plain},
    {"network-concurrency", Plain},
    {"verify-store-integrity", Plain},
    {"only-built-dependencies[]", Plain},
    {"never-built-dependencies[]", Plain},
    {"git-checks", Plain},
    {"dedupe-direct-deps", Plain},
    {"exclude-links-from-lockfile", Plain},
    {"extend-node-path", Plain},
    {"ignore-workspace-root-check", Plain},
    {"disallow-workspace-cycles", Plain},
    {"include-workspace-root", Plain},
};

// yarn 1's .yarnrc: `key value` lines.
constexpr Rule kYarnClassic[] = {
    {"registry", Url},
    {"@*:registry", Url},
    {"proxy", Url},
    {"https-proxy", Url},
    {"strict-ssl", Plain},
    {"cafile", CaFile},
    {"ca", Certificate},
    {"network-timeout", Plain},
    {"network-concurrency", Plain},
    {"child-concurrency", Plain},
    {"ignore-scripts", Plain},
    {"ignore-engines", Plain},
    {"ignore-optional", Plain},
    {"ignore-platform", Plain},
    {"yarn-offline-mirror", Plain},
    {"yarn-offline-mirror-pruning", Plain},
    {"disable-self-update-check", Plain},
    {"save-prefix", Plain},
    {"save-exact", Plain},
    {"no-progress", Plain},
    {"lastUpdateCheck", Plain},
    {"--ignore-scripts", Plain},
    {"--ignore-engines", Plain},
    {"--ignore-optional", Plain},
    {"--ignore-platform", Plain},
    {"--frozen-lockfile", Plain},
    {"--prefer-offline", Plain},
    {"--network-timeout", Plain},
    {"--install.ignore-scripts", Plain},
    {"--install.ignore-engines", Plain},
    {"--install.frozen-lockfile", Plain},
    {"--install.network-timeout", Plain},
    {"--install.prefer-offline", Plain},
    {"--install.modules-folder", Plain},
};

// yarn 2+'s .yarnrc.yml. Never here: npmAuthToken, npmAuthIdent, npmRegistries (whose only
// settings are credentials), httpsKeyFilePath, httpsCertFilePath.
constexpr Rule kYarnBerry[] = {
    {"npmRegistryServer", Url},
    {"npmPublishRegistry", Url},
    {"npmAlwaysAuth", Plain},
    {"npmScopes.*.npmRegistryServer", Url},
    {"npmScopes.*.npmPublishRegistry", Url},
    {"npmScopes.*.npmAlwaysAuth", Plain},
    {"httpProxy", Url},
    {"httpsProxy", Url},
    {"caFilePath", CaFile},
    {"networkSettings.*.enableNetwork", Plain},
    {"networkSettings.*.httpProxy", Url},
    {"networkSettings.*.httpsProxy", Url},
    {"networkSettings.*.httpsCaFilePath", CaFile},
    {"enableStrictSsl", Plain},
    {"httpTimeout", Plain},
    {"httpRetry", Plain},
    {"networkConcurrency", Plain},
    {"taskPoolConcurrency", Plain},
    {"nodeLinker", Plain},
    {"enable*", Plain},
    {"checksumBehavior", Plain},
    {"compressionLevel", Plain},
    {"cacheFolder", Plain},
    {"cacheMigrationMode", Plain},
    {"defaultSemverRangePrefix", Plain},
    {"defaultProtocol", Plain},
    {"defaultLanguageName", Plain},
    {"pnp*", Plain},
    {"nm*", Plain},
    {"prefer*", Plain},
    {"installStatePath", Plain},
    {"virtualFolder", Plain},
    {"lockfileFilename", Plain},
    {"yarnPath", Plain},
    {"constraintsPath", Plain},
    {"initScope", Plain},
    {"tsEnableAutoTypes", Plain},
    {"npmMinimalAgeGate", Plain},
    {"winLinkType", Plain},
    {"packageExtensions", Block},
    {"plugins", Block},
    {"supportedArchitectures", Block},
    {"logFilters", Block},
    {"immutablePatterns", Block},
    {"unsafeHttpWhitelist", Block},
    {"changesetBaseRefs", Block},
    {"changesetIgnorePatterns", Block},
    {"injectEnvironmentFiles", Block},
    {"npmPreapprovedPackages", Block},
    {"approvedGitRepositories", Block},
    {"initFields", Block},
};

// pip.conf, compared after normalized_key. Never here: client-cert, keyring-provider, cache-dir.
constexpr Rule kPip[] = {
    {"index-url", Url},
    {"extra-index-url", UrlList},
    {"find-links", UrlList},
    {"trusted-host", HostList},
    {"index", Url},
    {"proxy", Url},
    {"cert", CaFile},
    {"timeout", Plain},
    {"default-timeout", Plain},
    {"retries", Plain},
    {"no-index", Plain},
    {"pre", Plain},
    {"prefer-binary", Plain},
    {"only-binary", Plain},
    {"no-binary", Plain},
    {"disable-pip-version-check", Plain},
    {"no-cache-dir", Plain},
    {"progress-bar", Plain},
    {"no-input", Plain},
    {"require-virtualenv", Plain},
    {"break-system-packages", Plain},
    {"use-feature", Plain},
    {"use-deprecated", Plain},
    {"upgrade-strategy", Plain},
    {"root-user-action", Plain},
    {"no-build-isolation", Plain},
    {"exists-action", Plain},
    {"quiet", Plain},
    {"verbose", Plain},
    {"no-color", Plain},
};

// ~/.gemrc. Never here: :rubygems_api_key, :ssl_client_cert, gemhome, gempath.
constexpr Rule kGemrc[] = {
    {":sources", UrlList},
    {":http_proxy", Url},
    {":ssl_ca_cert", CaFile},
    {":ssl_verify_mode", Plain},
    {":backtrace", Plain},
    {":bulk_threshold", Plain},
    {":update_sources", Plain},
    {":verbose", Plain},
    {":benchmark", Plain},
    {":concurrent_downloads", Plain},
    {":ipv4_fallback_enabled", Plain},
    {":install_extension_in_lib", Plain},
    {"gem", Plain},
    {"install", Plain},
    {"update", Plain},
};

// .bundle/config. Never here: BUNDLE_<HOST> (host credentials), BUNDLE_SSL_CLIENT_CERT.
constexpr Rule kBundler[] = {
    {"BUNDLE_MIRROR__*", Url},
    {"BUNDLE_BUILD__*", Plain},
    {"BUNDLE_SSL_CA_CERT", CaFile},
    {"BUNDLE_SSL_VERIFY_MODE", Plain},
    {"BUNDLE_PATH", Plain},
    {"BUNDLE_PATH__SYSTEM", Plain},
    {"BUNDLE_JOBS", Plain},
    {"BUNDLE_RETRY", Plain},
    {"BUNDLE_TIMEOUT", Plain},
    {"BUNDLE_FROZEN", Plain},
    {"BUNDLE_DEPLOYMENT", Plain},
    {"BUNDLE_WITHOUT", Plain},
    {"BUNDLE_WITH", Plain},
    {"BUNDLE_ONLY", Plain},
    {"BUNDLE_BIN", Plain},
    {"BUNDLE_CLEAN", Plain},
    {"BUNDLE_CACHE_ALL", Plain},
    {"BUNDLE_CACHE_ALL_PLATFORMS", Plain},
    {"BUNDLE_CACHE_PATH", Plain},
    {"BUNDLE_DISABLE_SHARED_GEMS", Plain},
    {"BUNDLE_FORCE_RUBY_PLATFORM", Plain},
    {"BUNDLE_SPECIFIC_PLATFORM", Plain},
    {"BUNDLE_GEMFILE", Plain},
    {"BUNDLE_DISABLE_VERSION_CHECK", Plain},
    {"BUNDLE_IGNORE_MESSAGES", Plain},
    {"BUNDLE_SILENCE_ROOT_WARNING", Plain},
    {"BUNDLE_NO_PRUNE", Plain},
    {"BUNDLE_PREFER_PATCH", Plain},
    {"BUNDLE_ALLOW_OFFLINE_INSTALL", Plain},
    {"BUNDLE_SYSTEM", Plain},
    {"BUNDLE_SHEBANG", Plain},
    {"BUNDLE_LOCKFILE_CHECKSUMS", Plain},
};

// .cargo/config.toml. Never here: registry.token, registries.*.token, credential providers,
// [env] (values nobody vouched for), cargo-new (name and email).
constexpr Rule kCargo[] = {
    {"registries.*.index", Url},
    {"registries.*.protocol", Plain},
    {"registry.default", Plain},
    {"registry.index", Url},
    {"source.*.registry", Url},
    {"source.*.git", Url},
    {"source.*.replace-with", Plain},
    {"source.*.local-registry", Plain},
    {"source.*.directory", Plain},
    {"source.*.branch", Plain},
    {"source.*.tag", Plain},
    {"source.*.rev", Plain},
    {"net.retry", Plain},
    {"net.git-fetch-with-cli", Plain},
    {"net.offline", Plain},
    {"net.ssh", Block},
    {"http.cainfo", CaFile},
    {"http.proxy", Url},
    {"http.timeout", Plain},
    {"http.low-speed-limit", Plain},
    {"http.multiplexing", Plain},
    {"http.check-revoke", Plain},
    {"http.ssl-version", Block},
    {"http.user-agent", Plain},
    {"build", Block},
    {"target", Block},
    {"alias", Block},
    {"profile", Block},
    {"term", Block},
    {"unstable", Block},
    {"patch", Block},
    {"future-incompat-report", Block},
    {"resolver", Block},
    {"install", Block},
};

// The file written by `go env -w`. Never here: GOAUTH, GOPATH and other paths into the home.
constexpr Rule kGoEnv[] = {
    {"GOPROXY", UrlList},    {"GOPRIVATE", Plain},   {"GONOPROXY", Plain},    {"GONOSUMDB", Plain},
    {"GONOSUMCHECK", Plain}, {"GOINSECURE", Plain},  {"GOSUMDB", Plain},      {"GOFLAGS", Plain},
    {"GOTOOLCHAIN", Plain},  {"GO111MODULE", Plain}, {"GOAMD64", Plain},      {"GOARM", Plain},
    {"GOARM64", Plain},      {"GO386", Plain},       {"GOEXPERIMENT", Plain}, {"GOVCS", Plain},
    {"GOTELEMETRY", Plain},  {"CGO_ENABLED", Plain},
};

constexpr std::array kPipSections = {"global", "install",   "download", "wheel",   "freeze", "list",
                                     "show",   "uninstall", "hash",     "inspect", "index",  "lock",
                                     "check",  "config",    "search",   "cache",   "debug"};

std::span<const Rule> rules_of(ConfigDialect dialect) {
  switch (dialect) {
    case ConfigDialect::Npmrc:
      return kNpmrc;
    case ConfigDialect::YarnClassic:
      return kYarnClassic;
    case ConfigDialect::YarnBerry:
      return kYarnBerry;
    case ConfigDialect::Pip:
      return kPip;
    case ConfigDialect::Gemrc:
      return kGemrc;
    case ConfigDialect::Bundler:
      return kBundler;
    case ConfigDialect::Cargo:
      return kCargo;
    case ConfigDialect::GoEnv:
      return kGoEnv;
    case ConfigDialect::ComposerAuth:
      return {};
  }
  return {};
}

// TOML and YAML settings have levels; the flat dialects' keys may hold '.' themselves.
bool has_levels(ConfigDialect dialect) {
  return dialect == ConfigDialect::YarnBerry || dialect == ConfigDialect::Cargo;
}

std::vector<std::string_view> levels_of(std::string_view pattern, ConfigDialect dialect) {
  std::vector<std::string_view> levels;
  if (!has_levels(dialect)) return {pattern};
  for (auto dot = pattern.find('.'); dot != std::string_view::npos; dot = pattern.find('.')) {
    levels.push_back(pattern.substr(0, dot));
    pattern.remove_prefix(dot + 1);
  }
  levels.push_back(pattern);
  return levels;
}

// How many leading levels of `key` the rule matches; `whole` when it matches all its own.
std::size_t matched_levels(const Rule& rule, ConfigDialect dialect,
                           std::span<const std::string> key, bool& whole) {
  auto levels = levels_of(rule.pattern, dialect);
  std::size_t n = 0;
  while (n < levels.size() && n < key.size() && glob_matches(levels[n], key[n])) ++n;
  whole = n == levels.size();
  return n;
}

}  // namespace

std::optional<ValueKind> allowed_setting(ConfigDialect dialect, std::span<const std::string> key) {
  for (const auto& rule : rules_of(dialect)) {
    bool whole = false;
    std::size_t n = matched_levels(rule, dialect, key, whole);
    // A Block covers everything below it; any other rule names exactly one setting.
    if (whole && (n == key.size() || rule.kind == Block)) return rule.kind;
  }
  return std::nullopt;
}

bool leads_to_allowed(ConfigDialect dialect, std::span<const std::string> key) {
  return std::ranges::any_of(rules_of(dialect), [&](const Rule& rule) {
    bool whole = false;
    return matched_levels(rule, dialect, key, whole) == key.size() && !whole;
  });
}

bool is_pip_section(std::string_view name) {
  return std::ranges::find(kPipSections, lowercase(trim_blanks(name))) != kPipSections.end();
}

std::string normalized_key(ConfigDialect dialect, std::string_view key) {
  std::string out(key);
  if (dialect == ConfigDialect::Pip) {
    out = lowercase(key);
    std::ranges::replace(out, '_', '-');
  }
  return out;
}

}  // namespace safeinstall::runner
