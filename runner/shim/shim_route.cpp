#include "runner/shim/shim_route.h"

#include <algorithm>
#include <array>

#include "runner/option_words.h"

namespace safeinstall::runner {
namespace {

// Asking the tool about itself, never an install, even for `yarn` alone or npx.
constexpr std::array<std::string_view, 5> kInfoOptions = {"--version", "-v", "-V", "--help", "-h"};

// Whether the words of `form` ("mod download") are the words from `first` on, options and
// the values of the profile's value options skipped.
bool form_matches_at(std::string_view form, std::span<const char* const> args, std::size_t first,
                     const OptionSyntax& syntax) {
  std::size_t i = syntax.next_word(args, first);
  while (!form.empty()) {
    if (i >= args.size()) return false;
    auto space = form.find(' ');
    std::string_view word = form.substr(0, space);
    if (std::string_view(args[i]) != word) return false;
    form = space == std::string_view::npos ? std::string_view() : form.substr(space + 1);
    i = syntax.next_word(args, i + 1);
  }
  return true;
}

bool any_form_matches_at(const ShimTable& table, std::span<const char* const> args,
                         std::size_t first, const OptionSyntax& syntax) {
  return std::any_of(
      table.install.begin(), table.install.begin() + table.install_count,
      [&](std::string_view form) { return form_matches_at(form, args, first, syntax); });
}

// An option the profile does not list may take a value too (`npm --userconfig x ci`): a
// word right after an option may be its value, and the next word the subcommand. Tried for
// each such word up to the first that cannot be a value. A wrong guess sandboxes a call that
// did not need it, never the other way round.
bool matches_after_unlisted_value(const ShimTable& table, std::span<const char* const> args,
                                  const OptionSyntax& syntax) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view word = args[i];
    if (syntax.is_option(word)) continue;
    if (any_form_matches_at(table, args, i, syntax)) return true;
    bool may_be_value = i > 0 && syntax.is_option(args[i - 1]) &&
                        std::string_view(args[i - 1]).find('=') == std::string_view::npos;
    if (!may_be_value) return false;
  }
  return false;
}

}  // namespace

Route route_of(const ShimTable& table, std::span<const char* const> args) {
  // Only the tool's own options count: after `--` the words are another program's.
  auto end = std::find_if(args.begin(), args.end(),
                          [](const char* a) { return std::string_view(a) == "--"; });
  std::span<const char* const> own(args.begin(), end);
  const OptionSyntax syntax{std::span(table.value_options.data(), table.value_option_count),
                            std::span(table.option_prefixes.data(), table.option_prefix_count)};
  bool info = false;
  for (const char* a : own) {
    std::string_view arg = a;
    if (std::ranges::find(kInfoOptions, arg) != kInfoOptions.end()) info = true;
    if (std::find(table.global.begin(), table.global.begin() + table.global_count, arg) !=
        table.global.begin() + table.global_count)
      return Route::tool;
  }
  std::size_t first_word = syntax.next_word(own, 0);
  bool no_subcommand = first_word == own.size();
  if (table.always) return no_subcommand && info ? Route::tool : Route::sandbox;
  if (no_subcommand) return table.bare && !info ? Route::sandbox : Route::tool;
  if (any_form_matches_at(table, own, first_word, syntax)) return Route::sandbox;
  if (matches_after_unlisted_value(table, own, syntax)) return Route::sandbox;
  return Route::tool;
}

}  // namespace safeinstall::runner
