#pragma once
// What a build command writes into the project: the profile's `[files] outputs`, expected
// only when the command is one of its `[match] build` forms (`npm run build` → dist/**,
// `cargo test` → target/**), never for an install. An entry `${-o}` stands for the path the
// command gives option -o (`go build -o bin/app`), and for nothing when it gives none.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace safeinstall::runner {

// "-o" for "${-o}", nothing for any other entry (a glob).
std::optional<std::string> output_option_of(std::string_view entry);

// The value argv gives `option` (`-o PATH`, `-o=PATH`; the last one given), up to `--`.
std::optional<std::string> option_value(std::span<const std::string> argv, std::string_view option);

// The globs `entries` stand for in this command: globs as they are, `${-o}` as the
// project-relative path its value names (`dir/**` for a value ending in `/`) and the
// directories above it, or nothing when the option is absent or names a place outside the
// project. `cwd` is the command's
// working directory, inside `project`.
std::vector<std::string> build_output_globs(const std::vector<std::string>& entries,
                                            std::span<const std::string> argv,
                                            const std::string& project, const std::string& cwd);

}  // namespace safeinstall::runner
