#include "runner/profile/carryover/config_text.h"

#include <algorithm>
#include <cctype>

#include "runner/profile/carryover/sanitized_config.h"

namespace safeinstall::runner {

std::vector<std::string_view> config_lines(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    if (line.ends_with('\r')) line.remove_suffix(1);
    lines.push_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

std::string_view trim_blanks(std::string_view s) {
  auto begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  auto end = s.find_last_not_of(" \t");
  return s.substr(begin, end - begin + 1);
}

std::size_t indentation_of(std::string_view line) {
  return std::min(line.find_first_not_of(" \t"), line.size());
}

std::string_view unquoted(std::string_view value, char* quote) {
  if (quote != nullptr) *quote = '\0';
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
      value.back() == value.front()) {
    if (quote != nullptr) *quote = value.front();
    return value.substr(1, value.size() - 2);
  }
  return value;
}

bool opens_unclosed_quote(std::string_view value) {
  if (value.empty() || (value.front() != '"' && value.front() != '\'')) return false;
  return value.find(value.front(), 1) == std::string_view::npos;
}

bool has_control_bytes(std::string_view s) {
  return std::ranges::any_of(s,
                             [](unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; });
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string dotted(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& p : path) out += (out.empty() ? "" : ".") + p;
  return out;
}

bool glob_matches(std::string_view pattern, std::string_view text) {
  // Iterative matching with one backtrack point: linear enough for keys of bounded length.
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  auto same = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  };
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && same(pattern[p], text[t])) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

namespace {

// A setting name as tools write them: words of letters with few digits, joined by
// punctuation. Anything else may be a secret's body (a PEM line, a bare token) and stays out
// of the report. '@' only opens a scope: anywhere else it could close a user:password.
bool reads_as_setting_name(std::string_view key) {
  if (key.empty() || key.size() > 128) return false;
  constexpr std::string_view kJoints = "_-.:/[]";
  std::size_t word = 0, digits = 0;
  for (std::size_t i = 0; i < key.size(); ++i) {
    unsigned char c = key[i];
    if (kJoints.find(static_cast<char>(c)) != std::string_view::npos || (c == '@' && i == 0)) {
      word = digits = 0;
      continue;
    }
    if (!std::isalnum(c)) return false;
    if (++word > 24 || (std::isdigit(c) && ++digits > 4)) return false;
  }
  return true;
}

}  // namespace

void note_dropped(SanitizedConfig& out, std::string_view key) {
  std::string name = reads_as_setting_name(key) ? std::string(key) : "(a line that is no setting)";
  if (std::ranges::find(out.dropped, name) == out.dropped.end()) out.dropped.push_back(name);
}

}  // namespace safeinstall::runner
