#include "runner/profile/command_matcher.h"

#include "runner/fs/fs_tree.h"

#include <algorithm>

namespace safeinstall::runner {
namespace {

std::vector<std::string_view> words_of(std::string_view form) {
  std::vector<std::string_view> words;
  std::size_t start = 0;
  while (start < form.size()) {
    auto space = form.find(' ', start);
    if (space == std::string_view::npos) space = form.size();
    if (space > start) words.push_back(form.substr(start, space - start));
    start = space + 1;
  }
  return words;
}

}  // namespace

bool is_name_or_versioned(std::string_view name, std::string_view wanted) {
  if (!name.starts_with(wanted)) return false;
  auto rest = name.substr(wanted.size());
  if (rest.empty()) return true;
  // A version starts with a digit: "pip3", "python3.11", "go1.22", never "pip-" or "pip.".
  return rest.front() >= '0' && rest.front() <= '9' &&
         std::ranges::all_of(rest, [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

std::optional<std::size_t> match_command_form(std::string_view form,
                                              std::span<const std::string> argv) {
  auto words = words_of(form);
  if (words.empty() || argv.size() < words.size()) return std::nullopt;
  if (!is_name_or_versioned(leaf_of(argv[0]), words[0])) return std::nullopt;
  for (std::size_t i = 1; i < words.size(); ++i) {
    if (argv[i] != words[i]) return std::nullopt;
  }
  return words.size();
}

bool is_install_command(std::span<const std::string> install_forms,
                        std::span<const std::string> argv, std::size_t consumed,
                        const OptionSyntax& syntax) {
  std::vector<std::string_view> rest;
  for (std::size_t i = syntax.next_word(argv, consumed); i < argv.size();
       i = syntax.next_word(argv, i + 1))
    rest.push_back(argv[i]);
  return std::ranges::any_of(install_forms, [&](const std::string& form) {
    auto words = words_of(form);
    return !words.empty() && words.size() <= rest.size() &&
           std::equal(words.begin(), words.end(), rest.begin());
  });
}

}  // namespace safeinstall::runner
