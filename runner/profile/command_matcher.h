#pragma once
// Which profile a command belongs to, from its argv: `npm ci`, `/usr/bin/pip3.11 install`,
// `python3 -m pip install`, `corepack yarn add`. A form is words separated by one space; its
// first word is compared with argv[0]'s base name, where a version suffix of digits and dots
// is allowed (pip3, pip3.11, python3.11), and the rest with the next arguments exactly.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runner/option_words.h"

namespace safeinstall::runner {

// "pip3.11" is "pip" with a version; "pipx" is not.
bool is_name_or_versioned(std::string_view name, std::string_view wanted);

// How many argv words `form` consumed when it matches argv, otherwise nullopt.
std::optional<std::size_t> match_command_form(std::string_view form,
                                              std::span<const std::string> argv);

// True when the words after the matched form start, options and their values skipped
// (`syntax`: `npm --prefix web install`, `cargo +nightly build`), with one of the install
// forms ("install", "ci", "add package"): the command is an install (or a build, for the
// build forms).
bool is_install_command(std::span<const std::string> install_forms,
                        std::span<const std::string> argv, std::size_t consumed,
                        const OptionSyntax& syntax = {});

}  // namespace safeinstall::runner
