#pragma once
// One profile file as written: profiles/NAME.toml, /etc/safeinstall/NAME.toml,
// ~/.config/safeinstall/NAME.toml or a project's .safeinstall.toml. Every value keeps the
// file:line:col it came from, so `safeinstall profiles show` can say where it was set.
// The schema is documented in docs/profiles.md.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runner/finding.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

struct Origin {
  std::string file;  // a path, or a flag such as "--allow-host"
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string text() const;  // "file:line:col", or the flag alone
};

template <typename T>
struct Sourced {
  T value;
  Origin origin;
};

using SourcedStrings = std::vector<Sourced<std::string>>;

struct CacheEntry {
  std::string path;  // "~/.npm": where the tool keeps its cache, in the home
  std::string env;   // the tool's variable that names it (npm_config_cache); may be empty
  Origin origin;
};

// [[logs]]: a directory in the home where the tool writes its logs, kept with the run
// (runner/plan/tool_logs.h), and the variable that makes the tool write there.
struct LogEntry {
  std::string path;  // "~/.npm/_logs"
  std::string env;   // "npm_config_logs_dir": set to the directory; may be empty
  std::string file;  // set, the variable names this file in the directory ("pip.log")
  Origin origin;
};

struct ToolchainEntry {
  std::string name;
  std::vector<std::string> dirs;  // relative to the invoker's home
  Origin origin;
};

// ---- [autorun]: files that run by themselves later (docs/profiles.md "[autorun]") ----

// What is checked at a point; the checks are code (runner/judge/auto_run_points.h).
enum class AutoRunCheck {
  written,            // any file added or replaced there
  replaced,           // a file the project already had, replaced or changed
  pth,                // a .pth whose lines site.py executes
  console_script,     // a venv bin/ script that is not the standard console-script launcher
  bin_link,           // node_modules/.bin entry not declared by the package it points into
  binstub,            // a RubyGems bin wrapper that is not the standard one
  executable,         // a file with an x bit or a script or native-module extension
  composer_autoload,  // an autoload "files" entry no installed package or composer.json declares
  composer_bin,       // vendor/bin entry not a link or proxy to a bin its package lists
};
inline constexpr std::pair<AutoRunCheck, const char*> kAutoRunCheckNames[] = {
    {AutoRunCheck::written, "written"},
    {AutoRunCheck::replaced, "replaced"},
    {AutoRunCheck::pth, "pth"},
    {AutoRunCheck::console_script, "console-script"},
    {AutoRunCheck::bin_link, "bin-link"},
    {AutoRunCheck::binstub, "binstub"},
    {AutoRunCheck::executable, "executable"},
    {AutoRunCheck::composer_autoload, "composer-autoload"},
    {AutoRunCheck::composer_bin, "composer-bin"},
};
std::string_view to_string(AutoRunCheck check);

// [[autorun.point]]: paths (deep globs, runner/fs/deep_glob.h), the check, its severity and
// one line on why a file there runs by itself.
struct AutoRunPointEntry {
  AutoRunCheck check = AutoRunCheck::written;
  std::vector<std::string> paths;
  Severity severity = Severity::high;
  std::string why;
  Origin origin;
};

// [autorun] accept = ["GLOB sha256:HEX"]: a known file the user accepts at that content.
struct AutoRunAcceptEntry {
  std::string glob;    // runner/fs/path_globs.h syntax
  std::string sha256;  // lowercase hex of the file's bytes (a symlink: of its target text)
  Origin origin;
};

// ---- end [autorun] ----
// ---- Package policy: [policy], [policy.<ecosystem>] and [scripts] (docs/policy.md) ----

// The ecosystems [policy.<name>] may name.
inline constexpr const char* kPolicyEcosystems[] = {"npm", "pypi", "crates", "rubygems"};

// min_release_age and its excludes, in [policy] or in one [policy.<ecosystem>].
struct ReleaseAgeLayer {
  std::optional<Sourced<std::string>> min_release_age;  // "3d": checked by parse_age
  SourcedStrings exclude;                               // package patterns (package_pattern.h)
};

struct PolicyLayer {
  ReleaseAgeLayer release_age;                                      // [policy]
  std::vector<std::pair<std::string, ReleaseAgeLayer>> ecosystems;  // [policy.npm], ...
  std::optional<Sourced<bool>> release_age_required;                // no publish time known: hold
  SourcedStrings allow_packages;                                    // package patterns
  SourcedStrings allow_maintainers;         // npm maintainer / publisher names
  std::optional<Sourced<bool>> typosquats;  // the typosquat check (default on)
  SourcedStrings scripts_allow;             // [scripts] allow: "esbuild", "sharp@0.33"
};

// ---- end of package policy ----

// Which file a layer came from decides which keys it may hold.
enum class LayerKind {
  Profile,  // NAME.toml in a profile directory: everything but `profile`
  Project,  // .safeinstall.toml: everything but `extends` and [match]
};

struct ProfileLayer {
  std::filesystem::path file;
  std::optional<Sourced<std::string>> extends;
  std::optional<Sourced<std::string>> description;
  std::optional<Sourced<std::string>> scripts;  // all | none | allow:PKG[,PKG...]
  std::optional<Sourced<std::string>> profile;  // project files: the profile to use
  // [match]
  SourcedStrings commands;  // "npm", "python -m pip", "corepack yarn"
  SourcedStrings install;   // "install", "ci", "add package"
  SourcedStrings build;     // "run build", "test": commands whose outputs [files] outputs names
  // For aliases and PATH shims (`safeinstall setup`), which sandbox installs only: commands
  // whose every call installs ("npx"), commands that install when called without a
  // subcommand ("yarn"), and options that make a call act outside the project, so that it
  // runs unsandboxed ("-g").
  SourcedStrings always;
  SourcedStrings bare;
  SourcedStrings global;
  // Global options before the subcommand that take the next word as their value
  // ("--prefix", "-C"), and characters besides '-' that start an option ("+" for
  // `cargo +nightly build`): the install and build forms are found behind them
  // (runner/option_words.h).
  SourcedStrings value_options;
  SourcedStrings option_prefixes;
  // Only when the project holds one of these (yarn berry: ".yarnrc.yml"); such a profile wins
  // over one matching the same command without this condition.
  SourcedStrings project_files;
  // [network]
  SourcedStrings hosts;
  SourcedStrings discover;  // registry discovery readers: "npmrc", "pip", "cargo", ...
  // [files]
  SourcedStrings expected;
  SourcedStrings protected_paths;
  // Top-level directories ("node_modules") staged by a plain bind of their upper dir when the
  // project has none, bypassing overlayfs for the tool's biggest tree; see docs/profiles.md.
  SourcedStrings direct;
  // Manifests whose dependency sections an install command may edit (`npm install lodash`
  // adds to package.json's dependencies): such an edit is expected, anything else in them
  // is not.
  SourcedStrings manifests;
  // What a [match] build command writes ("dist/**", "target/**", "${-o}": the value of its
  // -o option): expected for those commands only (runner/profile/build_outputs.h).
  SourcedStrings outputs;
  // [env]
  SourcedStrings env_allow;
  SourcedStrings env_secret;
  std::vector<std::pair<std::string, Sourced<std::string>>> env_set;
  // [credentials]
  SourcedStrings credentials;
  // [decoys]: decoy credentials in the throwaway home (runner/plan/decoys.h)
  std::optional<Sourced<bool>> decoys_enabled;
  SourcedStrings decoy_skip;        // no decoy at these: "~/.npmrc"
  SourcedStrings decoy_tool_reads;  // the tool reads these itself
  // [[cache]]
  std::vector<CacheEntry> caches;
  // [[logs]]
  std::vector<LogEntry> logs;
  // [filesystem]
  SourcedStrings visible;
  SourcedStrings hide;
  SourcedStrings readonly;
  std::optional<Sourced<bool>> hide_user_homes;
  std::optional<Sourced<std::uint64_t>> home_size;
  std::optional<Sourced<std::uint64_t>> tmp_size;
  std::vector<ToolchainEntry> toolchains;
  // [limits]
  std::optional<Sourced<std::uint64_t>> open_files;
  std::optional<Sourced<std::uint64_t>> processes;
  // Defaults of the flags of the same names (a flag given wins): the tree's memory (bytes),
  // processes and threads, CPU seconds, wall-clock seconds, staged bytes and staged entries.
  std::optional<Sourced<std::uint64_t>> memory;
  std::optional<Sourced<std::uint64_t>> pids;
  std::optional<Sourced<std::uint64_t>> cpu_time;
  std::optional<Sourced<std::uint64_t>> timeout;
  std::optional<Sourced<std::uint64_t>> disk;
  std::optional<Sourced<std::uint64_t>> files;
  // [runs]: automatic pruning of kept runs (runs_keep: newer runs kept; runs_max_age: seconds).
  std::optional<Sourced<std::uint64_t>> runs_keep;
  std::optional<Sourced<std::uint64_t>> runs_max_age;
  // ---- [autorun] ----
  std::vector<AutoRunPointEntry> autorun_points;
  std::vector<AutoRunAcceptEntry> autorun_accept;
  // ---- end [autorun] ----
  // [policy]: the offline OSV database (a directory; relative to the file that names it)
  // and the lowest vulnerability severity that holds a run.
  std::optional<Sourced<std::string>> osv_db;
  std::optional<Sourced<std::string>> vuln_severity;
  // [policy], [policy.<ecosystem>], [scripts] (package policy)
  PolicyLayer policy;
};

// Parses and validates one file: malformed TOML, unknown keys, wrong types, bad globs, bad
// host patterns, bad script policies and unknown ${...} placeholders fail with
// file:line:col and the expected form.
Result<ProfileLayer> load_profile_layer(const std::filesystem::path& file, LayerKind kind);

// The same, from text (for the command line's own layer and for tests).
Result<ProfileLayer> parse_profile_layer(std::string_view text, const std::filesystem::path& file,
                                         LayerKind kind);

// The configuration kinds registry discovery reads (runner/profile/registry_discovery.h).
inline constexpr const char* kDiscoveryReaders[] = {"npmrc",    "yarnrc", "pip",   "pyproject",
                                                    "bundler",  "cargo",  "go",    "nuget",
                                                    "composer", "maven",  "gradle"};

// Placeholders a value in [env].set may use, replaced when the run is planned.
inline constexpr const char* kEnvPlaceholders[] = {"${HOME}", "${PROJECT}", "${PROXY_HOST}",
                                                   "${PROXY_PORT}", "${PROXY_URL}"};

}  // namespace safeinstall::runner
