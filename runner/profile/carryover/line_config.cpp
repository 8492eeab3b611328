#include "runner/profile/carryover/line_config.h"

#include <algorithm>
#include <optional>
#include <span>
#include <vector>

#include "runner/profile/carryover/allowed_settings.h"
#include "runner/profile/carryover/config_text.h"
#include "runner/profile/carryover/value_check.h"

namespace safeinstall::runner {
namespace {

struct Setting {
  std::string_view key_text;  // as written, quotes included
  std::string key;            // unquoted, normalized for the dialect
  std::string_view value;     // trimmed
  bool has_separator = false;
};

// yarn 1 writes `key value` and `"@scope:registry" "url"`; the others `key=value`, pip also
// `key: value`.
Setting split_setting(std::string_view body, ConfigDialect dialect) {
  std::size_t at = std::string_view::npos;
  if (dialect == ConfigDialect::YarnClassic) {
    std::size_t key_end = 0;
    if (body.front() == '"') key_end = body.find('"', 1);
    at = body.find_first_of(" \t", key_end == std::string_view::npos ? body.size() : key_end);
  } else {
    at = body.find_first_of(dialect == ConfigDialect::Pip ? "=:" : "=");
  }
  Setting s;
  s.has_separator = at != std::string_view::npos;
  s.key_text = trim_blanks(body.substr(0, at));
  s.key = normalized_key(dialect, unquoted(s.key_text));
  if (s.has_separator) s.value = trim_blanks(body.substr(at + 1));
  return s;
}

std::string separator_of(ConfigDialect dialect) {
  switch (dialect) {
    case ConfigDialect::YarnClassic:
      return " ";
    case ConfigDialect::Pip:
      return " = ";
    default:
      return "=";
  }
}

// Appended piecewise: GCC 12 at -O3 warns (-Wrestrict) on "[" + std::string(...).
std::string bracketed(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out += '[';
  out += name;
  out += ']';
  return out;
}

bool is_comment(std::string_view body) {
  return body.starts_with('#') || body.starts_with(';');
}

bool is_list(ValueKind kind) {
  return kind == ValueKind::UrlList || kind == ValueKind::HostList;
}

class LineSanitizer {
 public:
  explicit LineSanitizer(ConfigDialect dialect) : dialect_(dialect) {}

  SanitizedConfig run(std::string_view text) {
    auto lines = config_lines(text);
    for (std::size_t i = 0; i < lines.size();) i = take(lines, i);
    return std::move(out_);
  }

 private:
  // Handles the entry starting at line i; returns the index of the next entry.
  std::size_t take(std::span<const std::string_view> lines, std::size_t i) {
    auto body = trim_blanks(lines[i]);
    if (body.empty() || is_comment(body)) return i + 1;
    if (body.starts_with('[')) return enter_section(body, i);
    auto end = entry_end(lines, i);
    auto setting = split_setting(body, dialect_);
    std::optional<std::string> kept;
    if (in_carried_section_ && lines[i].size() <= kMaxConfigLineBytes)
      kept = kept_entry(setting, lines.subspan(i + 1, end - i - 1));
    if (kept)
      out_.text += *kept;
    else
      note_dropped(out_, setting.has_separator ? std::string_view(setting.key) : "");
    return end;
  }

  // .npmrc and .yarnrc have no sections their tools read; pip.conf only pip's own.
  std::size_t enter_section(std::string_view body, std::size_t i) {
    auto name =
        body.substr(1, body.find(']') == std::string_view::npos ? body.size() : body.find(']') - 1);
    in_carried_section_ = dialect_ == ConfigDialect::Pip && is_pip_section(name);
    if (in_carried_section_)
      out_.text += bracketed(lowercase(trim_blanks(name))) + "\n";
    else
      note_dropped(out_, bracketed(name));
    return i + 1;
  }

  // The lines that belong to the entry at i: pip's indented continuations (blank lines and
  // comments between them included), yarn's indented blocks, and everything up to the line
  // that closes a quote the entry opened.
  std::size_t entry_end(std::span<const std::string_view> lines, std::size_t i) const {
    auto value = split_setting(trim_blanks(lines[i]), dialect_).value;
    if (opens_unclosed_quote(value)) {
      for (std::size_t j = i + 1; j < lines.size(); ++j) {
        if (lines[j].find(value.front()) != std::string_view::npos) return j + 1;
      }
      return lines.size();
    }
    if (dialect_ != ConfigDialect::Pip && dialect_ != ConfigDialect::YarnClassic) return i + 1;
    std::size_t end = i + 1;
    for (std::size_t j = i + 1; j < lines.size(); ++j) {
      auto body = trim_blanks(lines[j]);
      if (body.empty() || is_comment(body)) continue;
      if (indentation_of(lines[j]) == 0) break;
      end = j + 1;
    }
    return end;
  }

  std::optional<std::string> kept_entry(const Setting& setting,
                                        std::span<const std::string_view> continuation) {
    if (!setting.has_separator || setting.key.empty()) return std::nullopt;
    auto kind = allowed_setting(dialect_, std::span(&setting.key, 1));
    if (!kind || *kind == ValueKind::Block) return std::nullopt;
    bool continued = std::ranges::any_of(continuation, [](std::string_view line) {
      auto body = trim_blanks(line);
      return !body.empty() && !is_comment(body);
    });
    if (continued && !is_list(*kind)) return std::nullopt;
    auto value = setting.value.empty() && continued ? std::optional<std::string>("")
                                                    : checked_value(*kind, setting.value, out_);
    if (!value) return std::nullopt;
    std::string text = std::string(setting.key_text) + separator_of(dialect_) + *value + "\n";
    for (auto line : continuation) {
      auto body = trim_blanks(line);
      if (body.empty() || is_comment(body)) continue;
      if (line.size() > kMaxConfigLineBytes) return std::nullopt;
      auto item = checked_list_item(*kind, body);
      if (!item) return std::nullopt;
      text += "    " + *item + "\n";
    }
    return text;
  }

  ConfigDialect dialect_;
  bool in_carried_section_ = dialect_ != ConfigDialect::Pip;
  SanitizedConfig out_;
};

}  // namespace

SanitizedConfig sanitize_line_config(std::string_view text, ConfigDialect dialect) {
  return LineSanitizer(dialect).run(text);
}

}  // namespace safeinstall::runner
