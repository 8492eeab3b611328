#include "runner/shim/shim_route.h"

#include <algorithm>
#include <array>

namespace safeinstall::runner {
namespace {

// Asking the tool about itself, never an install, even for `yarn` alone or npx.
constexpr std::array<std::string_view, 5> kInfoOptions = {"--version", "-v", "-V", "--help", "-h"};

bool is_option(std::string_view arg) {
  return arg.size() > 1 && arg.front() == '-';
}

// Whether the words of `form` ("mod download") are the positional words from `first` on.
bool form_matches_at(std::string_view form, std::span<const char* const> args, std::size_t first) {
  std::size_t i = first;
  while (!form.empty()) {
    while (i < args.size() && is_option(args[i])) ++i;
    if (i == args.size()) return false;
    auto space = form.find(' ');
    std::string_view word = form.substr(0, space);
    if (std::string_view(args[i]) != word) return false;
    form = space == std::string_view::npos ? std::string_view() : form.substr(space + 1);
    ++i;
  }
  return true;
}

bool any_form_matches_at(const ShimTable& table, std::span<const char* const> args,
                         std::size_t first) {
  return std::any_of(table.install.begin(), table.install.begin() + table.install_count,
                     [&](std::string_view form) { return form_matches_at(form, args, first); });
}

}  // namespace

Route route_of(const ShimTable& table, std::span<const char* const> args) {
  // Only the tool's own options count: after `--` the words are another program's.
  auto end = std::find_if(args.begin(), args.end(),
                          [](const char* a) { return std::string_view(a) == "--"; });
  std::span<const char* const> own(args.begin(), end);
  std::size_t first_word = own.size();
  bool info = false;
  for (std::size_t i = 0; i < own.size(); ++i) {
    std::string_view arg = own[i];
    if (std::ranges::find(kInfoOptions, arg) != kInfoOptions.end()) info = true;
    if (std::find(table.global.begin(), table.global.begin() + table.global_count, arg) !=
        table.global.begin() + table.global_count)
      return Route::tool;
    if (!is_option(arg) && first_word == own.size()) first_word = i;
  }
  bool no_subcommand = first_word == own.size();
  if (table.always) return no_subcommand && info ? Route::tool : Route::sandbox;
  if (no_subcommand) return table.bare && !info ? Route::sandbox : Route::tool;
  if (any_form_matches_at(table, own, first_word)) return Route::sandbox;
  // `npm --prefix web ci`: the first word may be an option's value; when it follows an
  // option directly, the word after it may be the subcommand. A wrong guess sandboxes a
  // call that did not need it, never the other way round.
  bool may_be_value = first_word > 0 && own[first_word - 1][0] == '-' &&
                      std::string_view(own[first_word - 1]).find('=') == std::string_view::npos;
  if (may_be_value && any_form_matches_at(table, own, first_word + 1)) return Route::sandbox;
  return Route::tool;
}

}  // namespace safeinstall::runner
