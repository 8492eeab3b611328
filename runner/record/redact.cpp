#include "runner/record/redact.h"

#include <array>
#include <optional>
#include <string_view>

// Redaction runs on argv read from inside the sandbox, so it must stay linear in its input
// whatever that input is. Each rule below is a hand-written scanner with the behaviour of the
// regular expression in its comment (std::regex's leftmost match, greedy quantifiers,
// replacement left to right): std::regex backtracks, and a few MB of crafted arguments kept
// the supervisor busy for many minutes. Every scanner looks at each byte a bounded number
// of times: where a failed attempt scanned a run of bytes, the attempts that would scan the
// same run again are known to fail the same way and are skipped.
namespace safeinstall::runner {
namespace {

constexpr std::string_view kMask = "***";
constexpr std::size_t kNone = std::string_view::npos;

// ECMAScript's \s in the "C" locale.
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return is_upper(c) || (c >= 'a' && c <= 'z');
}
bool is_alnum(char c) {
  return is_alpha(c) || is_digit(c);
}
char lower(char c) {
  return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
}

// The end of the run of bytes from `at` that `in_class` accepts.
template <class Class>
std::size_t run_end(std::string_view text, std::size_t at, Class in_class) {
  while (at < text.size() && in_class(text[at])) ++at;
  return at;
}

// Whether at least `count` bytes from `at` are in the class: a bounded look.
template <class Class>
bool run_reaches(std::string_view text, std::size_t at, std::size_t count, Class in_class) {
  if (text.size() < at + count) return false;
  for (std::size_t i = at; i < at + count; ++i) {
    if (!in_class(text[i])) return false;
  }
  return true;
}

bool starts_with_at(std::string_view text, std::size_t at, std::string_view word) {
  return text.substr(at, word.size()) == word;
}

bool starts_with_at_icase(std::string_view text, std::size_t at, std::string_view word) {
  if (text.size() < at + word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (lower(text[at + i]) != word[i]) return false;
  }
  return true;
}

// The length of the first of `words` (lowercase) found at `at`, ignoring case; 0 if none.
template <std::size_t N>
std::size_t word_at(std::string_view text, std::size_t at,
                    const std::array<std::string_view, N>& words) {
  // Every word starts with one of these: most bytes need no further look.
  static constexpr std::string_view kFirstLetters = "tpsac";
  if (kFirstLetters.find(lower(text[at])) == std::string_view::npos) return 0;
  for (std::string_view word : words) {
    if (starts_with_at_icase(text, at, word)) return word.size();
  }
  return 0;
}

// Replaces [begin, end) spans found left to right, copying what lies between them.
class Replacer {
 public:
  explicit Replacer(std::string_view text) : text_(text) { out_.reserve(text.size()); }
  void mask(std::size_t begin, std::size_t end) {
    out_.append(text_.substr(copied_, begin - copied_));
    out_.append(kMask);
    copied_ = end;
  }
  std::string finish() {
    out_.append(text_.substr(copied_));
    return std::move(out_);
  }

 private:
  std::string_view text_;
  std::string out_;
  std::size_t copied_ = 0;
};

// ---- ([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@  →  $1***@

bool in_scheme(char c) {
  return is_alnum(c) || c == '+' || c == '.' || c == '-';
}
bool in_url_user(char c) {
  return c != '/' && !is_space(c) && c != ':' && c != '@';
}
bool in_url_password(char c) {
  return c != '@' && !is_space(c) && c != '/';
}

struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;
};

// The password of "://user:PASSWORD@" right after a scheme ending at `scheme_end`.
std::optional<Span> url_password_after(std::string_view text, std::size_t scheme_end) {
  if (!starts_with_at(text, scheme_end, "://")) return std::nullopt;
  std::size_t user_end = run_end(text, scheme_end + 3, in_url_user);
  if (user_end == text.size() || text[user_end] != ':') return std::nullopt;
  std::size_t password_end = run_end(text, user_end + 1, in_url_password);
  if (password_end == user_end + 1 || password_end == text.size() || text[password_end] != '@')
    return std::nullopt;
  return Span{user_end + 1, password_end};
}

std::string mask_url_passwords(std::string_view text) {
  Replacer out(text);
  std::size_t at = 0;
  while (at < text.size()) {
    if (!in_scheme(text[at])) {
      ++at;
      continue;
    }
    // A scheme starting anywhere in this run ends where the run ends, so one look decides
    // for every start in it (the first letter being the leftmost one the regex would take).
    std::size_t scheme_end = run_end(text, at, in_scheme);
    bool has_letter = false;
    for (std::size_t i = at; i < scheme_end && !has_letter; ++i) has_letter = is_alpha(text[i]);
    std::optional<Span> password = has_letter ? url_password_after(text, scheme_end) : std::nullopt;
    if (!password) {
      at = scheme_end;
      continue;
    }
    out.mask(password->begin, password->end);  // the '@' stays
    at = password->end + 1;
  }
  return out.finish();
}

// ---- Tokens whose shape gives them away wherever they appear:
// gh[pousr]_[A-Za-z0-9]{20,} | github_pat_[A-Za-z0-9_]{20,} | npm_[A-Za-z0-9]{20,} |
// glpat-[A-Za-z0-9_-]{16,} | xox[abposr]-[A-Za-z0-9-]{10,} | AKIA[0-9A-Z]{16} |
// ASIA[0-9A-Z]{16} | sk-[A-Za-z0-9_-]{20,} | pypi-[A-Za-z0-9_-]{20,} |
// eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}  →  ***

bool in_alnum_underscore(char c) {
  return is_alnum(c) || c == '_';
}
bool in_token_body(char c) {
  return is_alnum(c) || c == '_' || c == '-';
}
bool in_slack_body(char c) {
  return is_alnum(c) || c == '-';
}
bool in_aws_body(char c) {
  return is_upper(c) || is_digit(c);
}

struct TokenShape {
  std::string_view prefix;
  bool (*in_body)(char);
  std::size_t min_body;
  bool exact;  // the body is exactly min_body long
};

constexpr std::array<TokenShape, 18> kTokenShapes{{
    {"ghp_", is_alnum, 20, false},
    {"gho_", is_alnum, 20, false},
    {"ghu_", is_alnum, 20, false},
    {"ghs_", is_alnum, 20, false},
    {"ghr_", is_alnum, 20, false},
    {"github_pat_", in_alnum_underscore, 20, false},
    {"npm_", is_alnum, 20, false},
    {"glpat-", in_token_body, 16, false},
    {"xoxa-", in_slack_body, 10, false},
    {"xoxb-", in_slack_body, 10, false},
    {"xoxp-", in_slack_body, 10, false},
    {"xoxo-", in_slack_body, 10, false},
    {"xoxs-", in_slack_body, 10, false},
    {"xoxr-", in_slack_body, 10, false},
    {"AKIA", in_aws_body, 16, true},
    {"ASIA", in_aws_body, 16, true},
    {"sk-", in_token_body, 20, false},
    {"pypi-", in_token_body, 20, false},
}};

// The end of a token of one of kTokenShapes at `at`, or kNone. The shapes' prefixes exclude
// each other, so at most one applies.
std::size_t shaped_token_end(std::string_view text, std::size_t at) {
  // Most bytes start no token: one look instead of eighteen.
  static constexpr std::string_view kFirstBytes = "gnxAsp";
  if (kFirstBytes.find(text[at]) == std::string_view::npos) return kNone;
  for (const TokenShape& shape : kTokenShapes) {
    if (!starts_with_at(text, at, shape.prefix)) continue;
    std::size_t body = at + shape.prefix.size();
    if (!run_reaches(text, body, shape.min_body, shape.in_body)) return kNone;
    return shape.exact ? body + shape.min_body : run_end(text, body, shape.in_body);
  }
  return kNone;
}

// A JSON web token: "eyJ" and three dot-separated segments of at least 10 bytes.
struct JwtLook {
  std::size_t end = kNone;       // the token's end, when there is one
  std::size_t fails_before = 0;  // every "eyJ" before this fails the same way
};

JwtLook jwt_at(std::string_view text, std::size_t at) {
  constexpr std::size_t kMinSegment = 10;
  JwtLook look;
  std::size_t segment = at + 3;
  for (int i = 0; i < 3; ++i) {
    if (!run_reaches(text, segment, kMinSegment, in_token_body)) return look;
    std::size_t end = run_end(text, segment, in_token_body);
    // A later "eyJ" inside the first segment ends it at the same place and then meets what
    // this one meets.
    if (i == 0) look.fails_before = end;
    if (i == 2) {
      look.end = end;
      return look;
    }
    if (end == text.size() || text[end] != '.') return look;
    segment = end + 1;
  }
  return look;
}

std::string mask_shaped_tokens(std::string_view text) {
  Replacer out(text);
  std::size_t jwt_fails_before = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = shaped_token_end(text, at);
    if (end == kNone && at >= jwt_fails_before && starts_with_at(text, at, "eyJ")) {
      JwtLook jwt = jwt_at(text, at);
      end = jwt.end;
      jwt_fails_before = jwt.fails_before;
    }
    if (end == kNone) {
      ++at;
      continue;
    }
    out.mask(at, end);
    at = end;
  }
  return out.finish();
}

// ---- Assignments, ignoring case:
// ((?:^|[\s;,&?])-{0,2}[A-Za-z0-9_.:/-]*(?:token|password|passwd|secret|apikey|api[_-]key|
// auth|credential|private[_-]key)[A-Za-z0-9_-]*\s*[=:]\s*)[^\s;,&]+  →  $1***
// (--token=x, NPM_TOKEN=x, //registry/:_authToken=x, api-key: x)

constexpr std::array<std::string_view, 11> kAssignmentWords{
    "token",   "password", "passwd",     "secret",      "apikey",     "api_key",
    "api-key", "auth",     "credential", "private_key", "private-key"};

bool is_assignment_delimiter(char c) {
  return is_space(c) || c == ';' || c == ',' || c == '&' || c == '?';
}
bool in_setting_name(char c) {
  return in_token_body(c) || c == '.' || c == ':' || c == '/';
}
// Name bytes that end the [A-Za-z0-9_-]* after the word.
bool is_name_break(char c) {
  return c == '.' || c == ':' || c == '/';
}
bool in_value(char c) {
  return !is_space(c) && c != ';' && c != ',' && c != '&';
}

// Where a value starts after optional whitespace from `at`; kNone if none does.
std::size_t value_start(std::string_view text, std::size_t at) {
  at = run_end(text, at, is_space);
  return at < text.size() && in_value(text[at]) ? at : kNone;
}

// Where a value starts after `\s*[=:]` from `at`; kNone if none does.
std::size_t value_after_separator(std::string_view text, std::size_t at) {
  at = run_end(text, at, is_space);
  if (at == text.size() || (text[at] != '=' && text[at] != ':')) return kNone;
  return value_start(text, at + 1);
}

// The value of an assignment whose name starts at `name`, or nullopt. The name runs over
// [A-Za-z0-9_.:/-] to `name_end`; the regex takes the last secret word in it that a
// separator follows (the longest name before the word), so words are tried from the end.
std::optional<Span> assignment_value(std::string_view text, std::size_t name) {
  std::size_t name_end = run_end(text, name, in_setting_name);
  if (name_end == name) return std::nullopt;
  // Looks at what follows the whole name at most once each.
  std::optional<std::size_t> after_name_separator, after_name_value;
  std::size_t next_break = name_end;  // the first '.', ':' or '/' at or after i
  for (std::size_t i = name_end; i-- > name;) {
    if (is_name_break(text[i])) next_break = i;
    if (word_at(text, i, kAssignmentWords) == 0) continue;
    // The word holds no break, so [A-Za-z0-9_-]* after it ends at next_break.
    std::size_t start = kNone;
    if (next_break == name_end) {
      if (!after_name_separator) after_name_separator = value_after_separator(text, name_end);
      start = *after_name_separator;
    } else if (text[next_break] == ':') {
      if (next_break + 1 < name_end) {
        start = next_break + 1;
      } else {
        if (!after_name_value) after_name_value = value_start(text, name_end);
        start = *after_name_value;
      }
    }
    if (start != kNone) return Span{start, run_end(text, start, in_value)};
  }
  return std::nullopt;
}

std::string mask_assignments(std::string_view text) {
  Replacer out(text);
  // `^`: a name at the very start; then one after each delimiter.
  std::optional<Span> value = assignment_value(text, 0);
  std::size_t at = 0;
  while (true) {
    if (value) {
      out.mask(value->begin, value->end);
      at = value->end;
      value.reset();
    }
    while (at < text.size() && !is_assignment_delimiter(text[at])) ++at;
    if (at == text.size()) break;
    value = assignment_value(text, at + 1);
    ++at;
  }
  return out.finish();
}

// ---- A flag that takes its secret in the next argument, ignoring case:
// --?[A-Za-z0-9_-]*(token|password|passwd|secret|api-?key|auth|credential)[A-Za-z0-9_-]*
// (the whole argument).

constexpr std::array<std::string_view, 8> kFlagWords{"token",  "password", "passwd", "secret",
                                                     "apikey", "api-key",  "auth",   "credential"};

bool is_secret_flag(std::string_view arg) {
  if (arg.size() < 2 || arg[0] != '-') return false;
  if (run_end(arg, 1, in_token_body) != arg.size()) return false;
  for (std::size_t i = 1; i < arg.size(); ++i) {
    if (word_at(arg, i, kFlagWords) > 0) return true;
  }
  return false;
}

}  // namespace

std::string redact(const std::string& text) {
  return mask_assignments(mask_shaped_tokens(mask_url_passwords(text)));
}

std::vector<std::string> redact_argv(const std::vector<std::string>& argv) {
  std::vector<std::string> out;
  bool next_is_secret = false;
  for (const auto& arg : argv) {
    if (next_is_secret) {
      out.emplace_back(kMask);
      next_is_secret = false;
      continue;
    }
    next_is_secret = is_secret_flag(arg);
    out.push_back(redact(arg));
  }
  return out;
}

std::string shown_command(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& a : redact_argv(argv)) text += (text.empty() ? "" : " ") + a;
  return text;
}

}  // namespace safeinstall::runner
