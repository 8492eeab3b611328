#include "runner/profile/carryover/yaml_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runner/profile/carryover/setting_walk.h"
#include "runner/profile/carryover/url_userinfo.h"
#include "runner/profile/carryover/value_check.h"

namespace safeinstall::runner {
namespace {

using Lines = std::span<const std::string_view>;

bool is_blank_or_comment(std::string_view line) {
  auto body = trim_blanks(line);
  return body.empty() || body.starts_with('#');
}

bool is_sequence_item(std::string_view body) {
  return body == "-" || body.starts_with("- ");
}

struct Entry {
  std::string_view key_text;  // as written, quotes included
  std::string key;
  std::string_view value;  // without a trailing comment
};

// The value up to a trailing comment; nullopt when text follows a closing quote.
std::optional<std::string_view> value_without_comment(std::string_view value) {
  if (value.starts_with('"') || value.starts_with('\'')) {
    auto close = value.find(value.front(), 1);
    if (close == std::string_view::npos) return value;  // refused later as unclosed
    auto rest = trim_blanks(value.substr(close + 1));
    if (!rest.empty() && !rest.starts_with('#')) return std::nullopt;
    return value.substr(0, close + 1);
  }
  return trim_blanks(value.substr(0, value.find(" #")));
}

// "key: value", "key:", "\"quoted key\": value", ":symbol_key: value" (.gemrc), and keys
// holding ':' themselves ("BUNDLE_MIRROR__HTTPS://RUBYGEMS__ORG/: url").
std::optional<Entry> parse_entry(std::string_view body) {
  std::size_t colon = std::string_view::npos;
  if (body.starts_with('"') || body.starts_with('\'')) {
    auto close = body.find(body.front(), 1);
    if (close == std::string_view::npos || body.substr(close + 1, 1) != ":") return std::nullopt;
    colon = close + 1;
  } else {
    for (auto at = body.find(':', 1); at != std::string_view::npos; at = body.find(':', at + 1)) {
      if (at + 1 == body.size() || body[at + 1] == ' ' || body[at + 1] == '\t') {
        colon = at;
        break;
      }
    }
  }
  if (colon == std::string_view::npos) return std::nullopt;
  auto value = value_without_comment(trim_blanks(body.substr(colon + 1)));
  if (!value) return std::nullopt;
  Entry e{trim_blanks(body.substr(0, colon)), {}, *value};
  e.key = std::string(unquoted(e.key_text));
  return e;
}

// Scalars that are not one plain line: block scalars, flow collections, anchors, aliases, tags.
bool is_one_line_scalar(std::string_view value) {
  return !value.empty() &&
         std::string_view("|>{[&*!").find(value.front()) == std::string_view::npos;
}

class YamlSanitizer : SettingWalk {
 public:
  explicit YamlSanitizer(ConfigDialect dialect) : SettingWalk(dialect) {}

  SanitizedConfig run(std::string_view text) {
    auto lines = config_lines(text);
    std::size_t first = 0;
    while (first < lines.size() && is_blank_or_comment(lines[first])) ++first;
    if (first < lines.size() && trim_blanks(lines[first]) == "---") {
      out_.text += "---\n";
      ++first;
    }
    out_.text += mapping(Lines(lines).subspan(first), 0);
    return std::move(out_);
  }

 private:
  // The kept text of the mapping whose keys sit at `indent`.
  std::string mapping(Lines lines, std::size_t indent) {
    std::string text;
    for (std::size_t i = 0; i < lines.size();) {
      if (is_blank_or_comment(lines[i])) {
        ++i;
        continue;
      }
      auto body = trim_blanks(lines[i]);
      auto entry = parse_entry(body);
      auto end = block_end(lines, i, indent, entry ? entry->value : body);
      if (indentation_of(lines[i]) != indent || is_sequence_item(body) || !entry ||
          lines[i].size() > kMaxConfigLineBytes) {
        note_dropped(out_, "");
        i = end;
        continue;
      }
      path_.push_back(entry->key);
      text += kept_entry(*entry, lines.subspan(i + 1, end - i - 1), indent);
      path_.pop_back();
      i = end;
    }
    return text;
  }

  // The lines under the entry at i: more indented ones, and a sequence at the key's own
  // indentation (`:sources:` followed by `- url`).
  static std::size_t block_end(Lines lines, std::size_t i, std::size_t indent,
                               std::string_view value) {
    std::size_t end = i + 1;
    for (std::size_t j = i + 1; j < lines.size(); ++j) {
      if (is_blank_or_comment(lines[j])) continue;
      auto depth = indentation_of(lines[j]);
      bool own_sequence =
          depth == indent && value.empty() && is_sequence_item(trim_blanks(lines[j]));
      if (depth <= indent && !own_sequence) break;
      end = j + 1;
    }
    return end;
  }

  std::string kept_entry(const Entry& entry, Lines block, std::size_t indent) {
    std::string head = std::string(indent, ' ') + std::string(entry.key_text) + ":";
    auto kind = allowed_here();
    std::optional<std::string> kept;
    if (kind == ValueKind::Block)
      kept = kept_block(head, entry.value, block);
    else if (kind == ValueKind::UrlList)
      kept = kept_sequence(head, entry.value, block);
    else if (kind)
      kept = kept_scalar(head, *kind, entry.value, block);
    else if (leads_to_allowed_here() && entry.value.empty() && !block.empty())
      return nested(head, block);
    if (!kept) drop_here();
    return kept.value_or("");
  }

  std::optional<std::string> kept_scalar(const std::string& head, ValueKind kind,
                                         std::string_view value, Lines block) {
    bool multi_line = std::ranges::any_of(block, [](auto l) { return !is_blank_or_comment(l); });
    if (multi_line || !is_one_line_scalar(value)) return std::nullopt;
    auto checked = checked_value(kind, value, out_);
    if (!checked) return std::nullopt;
    return head + " " + *checked + "\n";
  }

  // A list of URLs as a block sequence, every item passing.
  std::optional<std::string> kept_sequence(const std::string& head, std::string_view value,
                                           Lines block) {
    if (!value.empty()) return std::nullopt;
    std::string text = head + "\n";
    for (auto line : block) {
      if (is_blank_or_comment(line)) continue;
      auto body = trim_blanks(line);
      if (!is_sequence_item(body) || line.size() > kMaxConfigLineBytes) return std::nullopt;
      auto item = trim_blanks(body.substr(1));
      if (!is_one_line_scalar(item)) return std::nullopt;
      auto checked = checked_list_item(ValueKind::UrlList, item);
      if (!checked) return std::nullopt;
      text += std::string(line.substr(0, indentation_of(line))) + "- " + *checked + "\n";
    }
    return text;
  }

  // A structure kept whole (yarn's packageExtensions): comments go, and any URL in it
  // loses its userinfo.
  static std::optional<std::string> kept_block(const std::string& head, std::string_view value,
                                               Lines block) {
    std::string text = head;  // appended piecewise: GCC 12 -O3 -Wrestrict misfires on " " + ...
    if (!value.empty()) text.append(" ").append(value);
    text += '\n';
    for (auto line : block) {
      if (is_blank_or_comment(line)) continue;
      if (has_control_bytes(line) || line.size() > kMaxConfigLineBytes) return std::nullopt;
      text += text_without_url_userinfo(line) + "\n";
    }
    return has_control_bytes(value) ? std::nullopt : std::optional(text);
  }

  // A mapping on the way to allowed settings (npmScopes, then a scope): kept when anything
  // below it is.
  std::string nested(const std::string& head, Lines block) {
    std::size_t first = 0;
    while (first < block.size() && is_blank_or_comment(block[first])) ++first;
    if (first == block.size()) return {};
    auto inner = mapping(block.subspan(first), indentation_of(block[first]));
    return inner.empty() ? std::string() : head + "\n" + inner;
  }
};

}  // namespace

namespace {

bool parses_as_yaml(std::string_view text) {
  try {
    YAML::Load(std::string(text));
    return true;
  } catch (const YAML::Exception&) {
    return false;
  }
}

}  // namespace

SanitizedConfig sanitize_yaml_config(std::string_view text, ConfigDialect dialect) {
  // yaml-cpp has the last word on the shape: a file the real parser refuses is not read line
  // by line for settings (the tool would refuse it too), and a rebuilt text it would read
  // differently is not handed over.
  SanitizedConfig refused;
  note_dropped(refused, "");
  if (!parses_as_yaml(text)) return refused;
  SanitizedConfig kept = YamlSanitizer(dialect).run(text);
  if (!parses_as_yaml(kept.text)) return refused;
  return kept;
}

}  // namespace safeinstall::runner
