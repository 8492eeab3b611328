#include "runner/fs/path_globs.h"

#include "runner/fs/fs_tree.h"

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <optional>

namespace safeinstall::runner {
namespace {

constexpr std::string_view kRecursiveSuffix = "/**";

bool has_dotdot_component(std::string_view pattern) {
  std::size_t start = 0;
  for (;;) {
    auto slash = pattern.find('/', start);
    if (pattern.substr(start, slash == std::string_view::npos ? slash : slash - start) == "..")
      return true;
    if (slash == std::string_view::npos) return false;
    start = slash + 1;
  }
}

// Splits "a/b/c" into components.
std::vector<std::string_view> components_of(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    auto slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

bool component_matches(std::string_view glob, std::string_view name) {
  return ::fnmatch(std::string(glob).c_str(), std::string(name).c_str(), FNM_PATHNAME) == 0;
}

GlobSet must_build(std::initializer_list<std::string_view> patterns) {
  GlobSet set;
  for (auto pattern : patterns) {
    // The built-in lists are fixed at compile time and covered by tests; a bad entry is a
    // programming error, so it is dropped rather than taking every run down with it.
    (void)set.add(pattern);
  }
  return set;
}

// "python3.11" → true for prefix "python"; "pip3" → true for "pip".
bool is_versioned(std::string_view name, std::string_view prefix) {
  if (!name.starts_with(prefix)) return false;
  auto rest = name.substr(prefix.size());
  return std::all_of(rest.begin(), rest.end(),
                     [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

const GlobSet& javascript_writes() {
  static const GlobSet set = must_build({
      "node_modules/**",
      "package-lock.json",
      "npm-shrinkwrap.json",
      "yarn.lock",
      "pnpm-lock.yaml",
      ".pnp.cjs",
      ".pnp.js",
      ".pnp.loader.mjs",
      ".pnp.data.json",
      ".yarn/**",
      "bun.lockb",
      "bun.lock",
  });
  return set;
}

const GlobSet& python_writes() {
  static const GlobSet set = must_build({
      ".venv/**",
      "venv/**",
      "*.egg-info/**",
      "src/*.egg-info/**",
      ".eggs/**",
      "build/**",
      "__pycache__/**",
      "__pypackages__/**",
      "poetry.lock",
      "uv.lock",
      "Pipfile.lock",
      "pdm.lock",
  });
  return set;
}

const GlobSet& ruby_writes() {
  static const GlobSet set = must_build({"vendor/**", ".bundle/**", "Gemfile.lock"});
  return set;
}

const GlobSet& rust_writes() {
  static const GlobSet set = must_build({"target/**", "Cargo.lock"});
  return set;
}

const GlobSet& go_writes() {
  static const GlobSet set = must_build({"go.sum", "go.mod", "vendor/**"});
  return set;
}

const GlobSet& php_writes() {
  static const GlobSet set = must_build({"vendor/**", "composer.lock"});
  return set;
}

const GlobSet& dotnet_writes() {
  static const GlobSet set = must_build({"obj/**", "bin/**", "packages.lock.json"});
  return set;
}

}  // namespace

Result<GlobSet> GlobSet::from(std::span<const std::string> patterns) {
  GlobSet set;
  for (const auto& pattern : patterns) {
    if (auto added = set.add(pattern); !added) return propagate(added);
  }
  return set;
}

Result<void> GlobSet::add(std::string_view pattern) {
  std::string shown(pattern);
  const std::string hint = "globs are relative to the project, e.g. 'dist/**' or '*.lock'";
  if (pattern.empty()) return plain_error("empty glob", hint);
  if (pattern.front() == '/') return plain_error("glob '" + shown + "' is absolute", hint);
  std::string normalised(pattern);
  while (normalised.starts_with("./")) normalised.erase(0, 2);
  if (normalised.ends_with('/') && !normalised.ends_with("/**/")) {
    while (normalised.ends_with('/')) normalised.pop_back();
    normalised += kRecursiveSuffix;
  }
  if (normalised.empty() || normalised == "**")
    return plain_error("glob '" + shown + "' matches nothing useful", hint);
  if (has_dotdot_component(normalised))
    return plain_error("glob '" + shown + "' contains '..'", hint);
  bool recursive = normalised.ends_with(kRecursiveSuffix);
  std::string glob =
      recursive ? normalised.substr(0, normalised.size() - kRecursiveSuffix.size()) : normalised;
  if (glob.empty() || glob.find("**") != std::string::npos) {
    return plain_error("glob '" + shown + "': '**' is only supported as a trailing '/**'",
                       "write 'dir/**' for a directory and everything below it, or list each "
                       "level with '*' (which never matches '/')");
  }
  patterns_.push_back(normalised);
  bool literal = glob.find_first_of("*?[\\") == std::string::npos;
  compiled_.push_back({glob, recursive, literal});
  return {};
}

void GlobSet::add_all(const GlobSet& other) {
  patterns_.insert(patterns_.end(), other.patterns_.begin(), other.patterns_.end());
  compiled_.insert(compiled_.end(), other.compiled_.begin(), other.compiled_.end());
}

bool GlobSet::Pattern::matches(const std::string& path) const {
  if (literal) {
    if (!path.starts_with(glob)) return false;
    return path.size() == glob.size() || (recursive && path[glob.size()] == '/');
  }
  int flags = FNM_PATHNAME | (recursive ? FNM_LEADING_DIR : 0);
  return ::fnmatch(glob.c_str(), path.c_str(), flags) == 0;
}

std::optional<std::size_t> GlobSet::first_match(std::string_view path) const {
  std::string subject(path);
  for (std::size_t i = 0; i < compiled_.size(); ++i) {
    if (compiled_[i].matches(subject)) return i;
  }
  return std::nullopt;
}

std::string GlobSet::matching_pattern(std::string_view path) const {
  auto i = first_match(path);
  return i ? patterns_[*i] : std::string();
}

bool GlobSet::matches(std::string_view path) const {
  return first_match(path).has_value();
}

bool GlobSet::matches_subtree(std::string_view path) const {
  std::string subject(path);
  return std::any_of(compiled_.begin(), compiled_.end(),
                     [&](const Pattern& p) { return p.recursive && p.matches(subject); });
}

bool GlobSet::may_match_below(std::string_view path) const {
  auto dir = components_of(path);
  return std::any_of(compiled_.begin(), compiled_.end(), [&](const Pattern& p) {
    auto glob = components_of(p.glob);
    // A recursive pattern covers its prefix directory itself, so it reaches below `path` when
    // its prefix is `path` or deeper; a plain one only when it is deeper.
    bool deeper = glob.size() > dir.size() || (p.recursive && glob.size() == dir.size());
    if (!deeper) {
      // Or `path` lies inside the recursive pattern's subtree.
      return p.recursive && glob.size() < dir.size() &&
             std::equal(glob.begin(), glob.end(), dir.begin(), component_matches);
    }
    return std::equal(
        dir.begin(), dir.end(), glob.begin(),
        [](std::string_view d, std::string_view g) { return component_matches(g, d); });
  });
}

namespace {

std::optional<GlobSet>& profile_protected() {
  static std::optional<GlobSet> set;
  return set;
}

const GlobSet& builtin_protected_paths() {
  static const GlobSet set = must_build({
      // Version control: history, hooks, submodule and attribute files that run filters.
      ".git/**",
      ".hg/**",
      ".svn/**",
      ".jj/**",
      ".gitmodules",
      ".gitattributes",
      ".gitignore",
      ".gitconfig",
      ".githooks/**",
      ".husky/**",
      ".pre-commit-config.yaml",
      "lefthook.yml",
      ".lefthook.yml",
      // CI configuration: a planted workflow runs with the repository's secrets.
      ".github/**",
      ".gitlab-ci.yml",
      ".gitlab/**",
      ".circleci/**",
      "Jenkinsfile",
      "azure-pipelines.yml",
      ".azure-pipelines/**",
      ".buildkite/**",
      ".travis.yml",
      "bitbucket-pipelines.yml",
      ".drone.yml",
      "appveyor.yml",
      ".appveyor.yml",
      "cloudbuild.yaml",
      "cloudbuild.yml",
      ".woodpecker.yml",
      ".woodpecker/**",
      // Editors and dev containers: tasks and settings that run commands on open.
      ".vscode/**",
      ".idea/**",
      ".devcontainer/**",
      ".devcontainer.json",
      ".fleet/**",
      ".zed/**",
      // Environment and package manager configuration: registries, tokens, install hooks.
      ".envrc",
      ".env",
      ".npmrc",
      ".yarnrc",
      ".yarnrc.yml",
      ".pnpmfile.cjs",
      "bunfig.toml",
      ".pypirc",
      "pip.conf",
      ".cargo/config",
      ".cargo/config.toml",
      ".tool-versions",
      ".nvmrc",
      ".node-version",
      ".python-version",
      ".ruby-version",
      // Build entry points and wrappers that the next build runs without asking.
      "Makefile",
      "makefile",
      "GNUmakefile",
      "justfile",
      "Justfile",
      "Taskfile.yml",
      "Taskfile.yaml",
      "gradlew",
      "gradlew.bat",
      "gradle/wrapper/**",
      "mvnw",
      "mvnw.cmd",
      ".mvn/**",
      "Dockerfile",
      "Dockerfile.*",
      "docker-compose*.yml",
      "docker-compose*.yaml",
      "compose.yml",
      "compose.yaml",
      // Shell start-up files kept in a project (dotfiles repositories).
      ".bashrc",
      ".bash_profile",
      ".bash_login",
      ".bash_logout",
      ".profile",
      ".zshrc",
      ".zshenv",
      ".zprofile",
      ".zlogin",
      // safeinstall's own configuration: a run must not widen the next run's policy.
      ".safeinstall.toml",
      ".safeinstall/**",
  });
  return set;
}

}  // namespace

const GlobSet& protected_paths() {
  if (profile_protected()) return *profile_protected();
  return builtin_protected_paths();
}

void use_profile_protected(const GlobSet& extra_protected) {
  GlobSet protected_set = builtin_protected_paths();
  protected_set.add_all(extra_protected);
  profile_protected() = std::move(protected_set);
}

GlobSet expected_writes_for(std::string_view argv0) {
  std::string name = leaf_of(argv0);
  static constexpr std::array kJavascript = {"npm",  "npx", "yarn", "yarnpkg", "pnpm",
                                             "pnpx", "bun", "bunx", "corepack"};
  static constexpr std::array kPython = {"uv", "poetry", "pipenv", "pdm"};
  if (std::find(kJavascript.begin(), kJavascript.end(), name) != kJavascript.end())
    return javascript_writes();
  if (std::find(kPython.begin(), kPython.end(), name) != kPython.end() ||
      is_versioned(name, "pip") || is_versioned(name, "python")) {
    return python_writes();
  }
  if (name == "gem" || name == "bundle" || name == "bundler") return ruby_writes();
  if (name == "cargo") return rust_writes();
  if (name == "go") return go_writes();
  if (name == "composer") return php_writes();
  if (name == "dotnet") return dotnet_writes();
  return {};
}

Result<GlobSet> with_expect_flags(GlobSet set, std::span<const std::string> user_expect) {
  for (const auto& pattern : user_expect) {
    if (auto added = set.add(pattern); !added) {
      auto error = added.error();
      error.step = "--expect " + pattern + ": " + error.step;
      return std::unexpected(error);
    }
  }
  return set;
}

const GlobSet& persistence_paths() {
  static const GlobSet set = must_build({
      // Shell start-up.
      ".bashrc",
      ".bash_profile",
      ".bash_login",
      ".bash_logout",
      ".bashrc.d/**",
      ".profile",
      ".zshrc",
      ".zshenv",
      ".zprofile",
      ".zlogin",
      ".zlogout",
      ".config/fish/**",
      ".cshrc",
      ".tcshrc",
      ".kshrc",
      ".pam_environment",
      ".config/environment.d/**",
      // Session autostart and user services.
      ".xinitrc",
      ".xprofile",
      ".xsession",
      ".config/autostart/**",
      ".config/autostart-scripts/**",
      ".config/plasma-workspace/env/**",
      ".config/systemd/user/**",
      ".local/share/systemd/user/**",
      // Remote access.
      ".ssh/**",
      ".gnupg/**",
      ".netrc",
      // Registry credentials and package manager configuration.
      ".npmrc",
      ".yarnrc",
      ".yarnrc.yml",
      ".pypirc",
      ".pip/**",
      ".config/pip/**",
      ".gem/credentials",
      ".gemrc",
      ".cargo/credentials",
      ".cargo/credentials.toml",
      ".cargo/config",
      ".cargo/config.toml",
      ".docker/config.json",
      ".config/gh/**",
      // Git configuration and hooks.
      ".gitconfig",
      ".config/git/**",
      ".git-templates/**",
      ".githooks/**",
      ".git/hooks/**",
      "*/.git/hooks/**",
      "*/.git/config",
      // Directories on PATH and editor start-up.
      ".local/bin/**",
      "bin/**",
      ".vimrc",
      ".config/nvim/**",
      ".emacs",
      ".emacs.d/init.el",
      // Crontabs, for walks of a spool directory or a home that keeps one.
      ".crontab",
      "crontab",
      "crontabs/**",
      "cron/**",
  });
  return set;
}

}  // namespace safeinstall::runner
