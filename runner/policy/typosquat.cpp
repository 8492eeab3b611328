#include "runner/policy/typosquat.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "runner/policy/popular_lists.h"

namespace safeinstall::runner {
namespace {

// Edits are counted only on names this long: shorter names are one edit from too many
// legitimate others ("ms", "qs", "rc", "ws"), two edits only from names of kDistanceTwoFrom.
constexpr std::size_t kDistanceOneFrom = 5;
constexpr std::size_t kDistanceTwoFrom = 8;

bool is_separator(char c) {
  return c == '-' || c == '_' || c == '.' || c == '@' || c == '/';
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// PEP 503: lowercase, and every run of - _ . is one '-'.
std::string pypi_normalized(std::string_view name) {
  std::string out;
  for (char c : lowercase(name)) {
    bool sep = c == '-' || c == '_' || c == '.';
    if (sep && !out.empty() && out.back() == '-') continue;
    out += sep ? '-' : c;
  }
  return out;
}

// "@types/lodash" is the type package of "lodash", not a look-alike of it.
bool is_types_package_of(std::string_view name, std::string_view popular) {
  return name.starts_with("@types/") && name.substr(7) == popular;
}

// "@aws-sdk" of "@aws-sdk/client-sqs"; empty when unscoped.
std::string_view scope_of(std::string_view name) {
  if (!name.starts_with('@')) return {};
  return name.substr(0, name.find('/'));
}

// A scope has one owner on npm: a name beside a popular one in the same scope
// (@aws-sdk/client-sqs and @aws-sdk/client-sso) was published by that owner, not a squatter.
bool same_scope(std::string_view name, std::string_view popular) {
  auto scope = scope_of(name);
  return !scope.empty() && scope == scope_of(popular);
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit) {
  const std::size_t over = limit + 1;
  if ((a.size() > b.size() ? a.size() - b.size() : b.size() - a.size()) > limit) return over;
  // Three rows of the optimal-string-alignment table; names are short, allocation is per call.
  std::vector<std::size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    std::size_t row_best = current[0];
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        current[j] = std::min(current[j], before[j - 2] + 1);
      row_best = std::min(row_best, current[j]);
    }
    if (row_best > limit) return over;
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return std::min(previous[b.size()], over);
}

std::string without_separators(std::string_view name) {
  std::string out;
  for (char c : lowercase(name)) {
    if (!is_separator(c)) out += c;
  }
  return out;
}

std::string homoglyph_folded(std::string_view name) {
  std::string plain = without_separators(name);
  std::string out;
  for (std::size_t i = 0; i < plain.size(); ++i) {
    char c = plain[i];
    char next = i + 1 < plain.size() ? plain[i + 1] : '\0';
    if (c == 'r' && next == 'n') {
      out += 'm';
      ++i;
    } else if (c == 'v' && next == 'v') {
      out += 'w';
      ++i;
    } else if (c == '0') {
      out += 'o';
    } else if (c == '1' || c == 'i') {
      out += 'l';
    } else {
      out += c;
    }
  }
  return out;
}

PopularNames::PopularNames(std::string_view text, bool pypi) : pypi_(pypi) {
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
      line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    std::string name = canonical(line);
    if (!exact_.insert(name).second) continue;
    std::size_t index = names_.size();
    names_.push_back(name);
    by_separators_.try_emplace(without_separators(name), index);
    by_homoglyphs_.try_emplace(homoglyph_folded(name), index);
  }
}

const PopularNames& PopularNames::of(std::string_view ecosystem) {
  static const std::array<PopularNames, 4> lists{
      PopularNames(popular_list_text("npm"), false), PopularNames(popular_list_text("pypi"), true),
      PopularNames(popular_list_text("crates"), false),
      PopularNames(popular_list_text("rubygems"), false)};
  static const PopularNames none("", false);
  if (ecosystem == "npm") return lists[0];
  if (ecosystem == "pypi") return lists[1];
  if (ecosystem == "crates") return lists[2];
  if (ecosystem == "rubygems") return lists[3];
  return none;
}

std::string PopularNames::canonical(std::string_view name) const {
  return pypi_ ? pypi_normalized(name) : lowercase(name);
}

bool PopularNames::contains(std::string_view name) const {
  return exact_.contains(canonical(name));
}

std::optional<Resemblance> PopularNames::resembled_by(std::string_view raw) const {
  const std::string name = canonical(raw);
  if (name.empty() || exact_.contains(name)) return std::nullopt;
  auto accept = [&](std::size_t index, std::string how) -> std::optional<Resemblance> {
    if (is_types_package_of(name, names_[index]) || same_scope(name, names_[index]))
      return std::nullopt;
    return Resemblance{names_[index], std::move(how)};
  };
  std::optional<Resemblance> found;
  std::size_t found_index = names_.size();
  if (auto it = by_separators_.find(without_separators(name)); it != by_separators_.end()) {
    found = accept(it->second, "differs only in separators or scope");
    if (found) found_index = it->second;
  }
  if (auto it = by_homoglyphs_.find(homoglyph_folded(name));
      it != by_homoglyphs_.end() && it->second < found_index) {
    if (auto r = accept(it->second, "uses look-alike characters")) {
      found = r;
      found_index = it->second;
    }
  }
  if (name.size() < kDistanceOneFrom) return found;
  // The list is ordered by popularity: the first close name is the most popular one.
  for (std::size_t i = 0; i < found_index; ++i) {
    const std::string& popular = names_[i];
    if (popular.size() < kDistanceOneFrom) continue;
    std::size_t limit =
        name.size() >= kDistanceTwoFrom && popular.size() >= kDistanceTwoFrom ? 2 : 1;
    std::size_t distance = edit_distance(name, popular, limit);
    if (distance > limit) continue;
    if (auto r =
            accept(i, std::to_string(distance) + (distance == 1 ? " edit" : " edits") + " away")) {
      return r;
    }
  }
  return found;
}

}  // namespace safeinstall::runner
