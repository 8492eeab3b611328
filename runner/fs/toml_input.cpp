#include "runner/fs/toml_input.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace safeinstall::runner {
namespace {

enum class Where { outside, comment, basic, literal, multiline_basic, multiline_literal };

constexpr char kRejectedInString = '\x7f';

bool starts(std::string_view text, std::size_t at, std::string_view what) {
  return text.substr(at, what.size()) == what;
}

bool is_ascii(char c) {
  return static_cast<unsigned char>(c) < 0x80;
}

// One UTF-8 sequence starting at `at`: its code point and length, or length 0 when the
// bytes are not well-formed UTF-8 (overlong, surrogate, truncated, past U+10FFFF).
struct Decoded {
  std::uint32_t code_point = 0;
  std::size_t length = 0;
};

Decoded decode_utf8(std::string_view text, std::size_t at) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(at);
  std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
  if (length == 0 || lead > 0xF4 || at + length > text.size()) return {};
  std::uint32_t cp = lead & (0x7F >> length);
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xC0) != 0x80) return {};
    cp = (cp << 6) | (byte(at + i) & 0x3F);
  }
  constexpr std::uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kSmallest[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {};
  return {cp, length};
}

std::string escaped(std::uint32_t code_point) {
  char buffer[16];
  if (code_point <= 0xFFFF)
    std::snprintf(buffer, sizeof buffer, "\\u%04X", static_cast<unsigned>(code_point));
  else
    std::snprintf(buffer, sizeof buffer, "\\U%08X", static_cast<unsigned>(code_point));
  return buffer;
}

// Appends the non-ASCII character at `at` as an escape and returns how many bytes it took.
// Bytes that are not UTF-8 become DEL, which TOML refuses in a string: the parser reports
// the file as invalid at that place, as it would have for the raw byte.
std::size_t append_escaped(std::string& out, std::string_view text, std::size_t at) {
  Decoded d = decode_utf8(text, at);
  if (d.length == 0) {
    out += kRejectedInString;
    return 1;
  }
  out += escaped(d.code_point);
  return d.length;
}

// Where a literal string that opens at `at` ends (the index after its closing quotes), or
// npos when it runs into the end of its line (single-line) or of the text.
std::size_t literal_end(std::string_view text, std::size_t at, bool multiline) {
  if (!multiline) {
    for (std::size_t i = at + 1; i < text.size(); ++i) {
      if (text[i] == '\'') return i + 1;
      if (text[i] == '\n') return std::string_view::npos;
    }
    return std::string_view::npos;
  }
  std::size_t close = text.find("'''", at + 3);
  if (close == std::string_view::npos) return close;
  // Up to two more quotes right before the closing three belong to the content.
  std::size_t end = close + 3;
  while (end < text.size() && text[end] == '\'' && end - close < 5) ++end;
  return end;
}

bool has_non_ascii(std::string_view text) {
  for (char c : text)
    if (!is_ascii(c)) return true;
  return false;
}

// A literal string holding non-ASCII text, rewritten as the basic string with the same
// value: backslashes and quotes escaped, every non-ASCII character as \u or \U.
void append_literal_as_basic(std::string& out, std::string_view content, bool multiline) {
  std::string_view quotes = multiline ? "\"\"\"" : "\"";
  out += quotes;
  for (std::size_t i = 0; i < content.size();) {
    char c = content[i];
    if (!is_ascii(c)) {
      i += append_escaped(out, content, i);
      continue;
    }
    if (c == '\\' || c == '"') out += '\\';
    out += c;
    ++i;
  }
  out += quotes;
}

class Rewriter {
 public:
  explicit Rewriter(std::string_view text) : text_(text) { out_.reserve(text.size()); }

  std::string run() {
    while (i_ < text_.size()) {
      switch (where_) {
        case Where::outside:
        case Where::comment:
          step_outside();
          break;
        case Where::basic:
        case Where::multiline_basic:
          step_basic();
          break;
        case Where::literal:
        case Where::multiline_literal:
          step_literal();
          break;
      }
    }
    return std::move(out_);
  }

 private:
  void copy(std::size_t count) {
    out_.append(text_.substr(i_, count));
    i_ += count;
  }

  void step_outside() {
    char c = text_[i_];
    if (!is_ascii(c)) {
      out_ += '?';
      ++i_;
      return;
    }
    if (where_ == Where::comment) {
      if (c == '\n') where_ = Where::outside;
      copy(1);
      return;
    }
    if (c == '#') {
      where_ = Where::comment;
      copy(1);
    } else if (starts(text_, i_, "\"\"\"")) {
      where_ = Where::multiline_basic;
      copy(3);
    } else if (starts(text_, i_, "'''")) {
      where_ = Where::multiline_literal;
    } else if (c == '"') {
      where_ = Where::basic;
      copy(1);
    } else if (c == '\'') {
      where_ = Where::literal;
    } else {
      copy(1);
    }
  }

  void step_basic() {
    char c = text_[i_];
    bool multiline = where_ == Where::multiline_basic;
    if (!is_ascii(c)) {
      i_ += append_escaped(out_, text_, i_);
    } else if (c == '\\') {
      // An escape is a backslash and one ASCII character; a non-ASCII one makes it invalid,
      // which "\?" keeps while the character itself never reaches the parser.
      copy(1);
      if (i_ < text_.size() && !is_ascii(text_[i_])) {
        out_ += '?';
        i_ += std::max<std::size_t>(1, decode_utf8(text_, i_).length);
      } else if (i_ < text_.size()) {
        copy(1);
      }
    } else if (multiline && starts(text_, i_, "\"\"\"")) {
      where_ = Where::outside;
      copy(3);
    } else if (!multiline && (c == '"' || c == '\n')) {
      where_ = Where::outside;
      copy(1);
    } else {
      copy(1);
    }
  }

  // At the opening quote(s) of a literal string: copied as it is when it is ASCII,
  // rewritten as a basic string otherwise (a literal string cannot escape anything).
  void step_literal() {
    bool multiline = where_ == Where::multiline_literal;
    std::size_t open = multiline ? 3 : 1;
    std::size_t end = literal_end(text_, i_, multiline);
    where_ = Where::outside;
    if (end == std::string_view::npos) {
      // Unterminated: the parser reports it; its non-ASCII bytes never reach it.
      copy(open);
      std::size_t stop = multiline ? text_.size() : text_.find('\n', i_);
      if (stop == std::string_view::npos) stop = text_.size();
      for (; i_ < stop; ++i_) out_ += is_ascii(text_[i_]) ? text_[i_] : '?';
      return;
    }
    std::string_view whole = text_.substr(i_, end - i_);
    std::string_view content = whole.substr(open, whole.size() - 2 * open);
    if (has_non_ascii(content))
      append_literal_as_basic(out_, content, multiline);
    else
      out_.append(whole);
    i_ = end;
  }

  std::string_view text_;
  std::string out_;
  std::size_t i_ = 0;
  Where where_ = Where::outside;
};

}  // namespace

std::string toml_input(std::string_view text) {
  return Rewriter(text).run();
}

}  // namespace safeinstall::runner
