#pragma once
// Lockfile readers, one per format: npm package-lock.json / npm-shrinkwrap.json (v1-v3),
// yarn.lock (classic and berry), pnpm-lock.yaml (v5, v6, v9), requirements*.txt (== pins),
// poetry.lock, uv.lock, Cargo.lock, go.sum, Gemfile.lock and composer.lock. Each takes the
// lockfile's text and, where the lockfile alone cannot say which packages are direct, the
// manifest beside it. Hostile or malformed input gives an Error naming the file and, where
// the format's library reports it, line:col; never a crash.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/packages/package_set.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

enum class LockfileFormat {
  npm,           // package-lock.json, npm-shrinkwrap.json
  yarn,          // yarn.lock
  pnpm,          // pnpm-lock.yaml
  requirements,  // requirements*.txt
  poetry,        // poetry.lock
  uv,            // uv.lock
  cargo,         // Cargo.lock
  go_sum,        // go.sum
  gemfile,       // Gemfile.lock
  composer,      // composer.lock
};

// The format a file of this name holds, if any.
std::optional<LockfileFormat> lockfile_format(std::string_view file_name);

// The manifest whose direct dependencies mark packages of this format as direct
// ("package.json", "pyproject.toml", "go.mod", "composer.json"); empty when the lockfile
// itself says.
std::string_view manifest_of(LockfileFormat format);

// `source` names the file in errors and in each PackageVersion; `manifest` is the text of
// manifest_of(format) beside it (empty when there is none).
Result<std::vector<PackageVersion>> parse_lockfile(LockfileFormat format, std::string_view text,
                                                   const std::string& source,
                                                   std::string_view manifest = {});

// The per-family readers parse_lockfile dispatches to.
Result<std::vector<PackageVersion>> parse_npm_lock(std::string_view text, const std::string& source,
                                                   std::string_view manifest);
Result<std::vector<PackageVersion>> parse_yarn_lock(std::string_view text,
                                                    const std::string& source,
                                                    std::string_view manifest);
Result<std::vector<PackageVersion>> parse_pnpm_lock(std::string_view text,
                                                    const std::string& source);
Result<std::vector<PackageVersion>> parse_requirements(std::string_view text,
                                                       const std::string& source);
Result<std::vector<PackageVersion>> parse_poetry_lock(std::string_view text,
                                                      const std::string& source,
                                                      std::string_view pyproject);
Result<std::vector<PackageVersion>> parse_uv_lock(std::string_view text, const std::string& source,
                                                  std::string_view pyproject);
Result<std::vector<PackageVersion>> parse_cargo_lock(std::string_view text,
                                                     const std::string& source);
Result<std::vector<PackageVersion>> parse_go_sum(std::string_view text, const std::string& source,
                                                 std::string_view go_mod);
Result<std::vector<PackageVersion>> parse_gemfile_lock(std::string_view text,
                                                       const std::string& source);
Result<std::vector<PackageVersion>> parse_composer_lock(std::string_view text,
                                                        const std::string& source,
                                                        std::string_view composer_json);

// PyPI names compare normalized (PEP 503): lowercase, runs of "-", "_", "." as one "-".
std::string normalize_pypi_name(std::string_view name);

// Drops repeats of the same ecosystem, name and version, keeping the first place and a
// direct mark any of them had.
void keep_unique(std::vector<PackageVersion>& packages);

}  // namespace safeinstall::runner
