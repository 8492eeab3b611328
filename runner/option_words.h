#pragma once
// The words of a call that are options, and those that are the values of options, so that
// the subcommand is found behind global options: `npm --workspace web run build`,
// `cargo +nightly build`, `go -C dir build`. Which options take a separate value differs per
// tool (npm's `-w` does, pnpm's does not), so it is profile data: `[match] value_options`
// and `[match] option_prefixes` (docs/profiles.md). Header-only and allocation-free: the
// shim (runner/shim) decides every call with it before anything else happens.

#include <algorithm>
#include <cstddef>
#include <span>
#include <string_view>

namespace safeinstall::runner {

struct OptionSyntax {
  // Options whose value is the next word ("--prefix", "-C"); `--prefix=web` holds its own.
  std::span<const std::string_view> value_options;
  // Besides '-', characters that start an option word ("+" for `cargo +nightly`).
  std::span<const std::string_view> prefixes;

  bool is_option(std::string_view word) const {
    if (word.size() > 1 && word.front() == '-') return true;
    return std::ranges::any_of(prefixes, [&](std::string_view p) {
      return !p.empty() && word.size() > p.size() && word.starts_with(p);
    });
  }
  bool takes_value(std::string_view word) const {
    return std::ranges::find(value_options, word) != value_options.end();
  }

  // The index of the first word at or after `i` that is neither an option nor an option's
  // value; words.size() when there is none, or when `--` comes first (what follows it is
  // another program's). Works over any sequence of string-like words (argv, char* spans).
  template <typename Words>
  std::size_t next_word(const Words& words, std::size_t i) const {
    while (i < std::size(words)) {
      std::string_view word = words[i];
      if (word == "--") break;
      if (!is_option(word)) return i;
      i += takes_value(word) ? 2 : 1;
    }
    return std::size(words);
  }
};

}  // namespace safeinstall::runner
