#include "sandbox/base/escaped_text.h"

namespace safeinstall::sandbox {
namespace {

bool is_continuation(std::uint8_t byte) {
  return (byte & 0xc0) == 0x80;
}

// The length of the valid UTF-8 sequence at the start of `text` (RFC 3629: no overlong
// forms, no surrogates, nothing past U+10FFFF), or 0 when it is not one.
std::size_t utf8_sequence_length(std::string_view text) {
  auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(text[i]); };
  std::uint8_t lead = byte(0);
  std::size_t length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
  if (lead < 0xc2 || lead > 0xf4 || text.size() < length) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    if (!is_continuation(byte(i))) return 0;
  }
  std::uint8_t second = byte(1);
  if (lead == 0xe0 && second < 0xa0) return 0;  // overlong
  if (lead == 0xed && second > 0x9f) return 0;  // surrogate
  if (lead == 0xf0 && second < 0x90) return 0;  // overlong
  if (lead == 0xf4 && second > 0x8f) return 0;  // past U+10FFFF
  return length;
}

char32_t decode(std::string_view sequence) {
  auto byte = [&](std::size_t i) { return static_cast<char32_t>(sequence[i]) & 0xff; };
  if (sequence.size() == 2) return (byte(0) & 0x1f) << 6 | (byte(1) & 0x3f);
  if (sequence.size() == 3)
    return (byte(0) & 0x0f) << 12 | (byte(1) & 0x3f) << 6 | (byte(2) & 0x3f);
  return (byte(0) & 0x07) << 18 | (byte(1) & 0x3f) << 12 | (byte(2) & 0x3f) << 6 | (byte(3) & 0x3f);
}

// C1 controls (a terminal may take U+009B as CSI), bidi controls that reorder what follows
// them (a file name could be shown as another), and the Unicode line breaks.
bool is_hidden_control(char32_t c) {
  return (c >= 0x80 && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f ||
         (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

bool is_ascii_control(std::uint8_t byte) {
  return byte < 0x20 || byte == 0x7f;
}

void append_all_escaped(std::string& out, std::string_view bytes) {
  for (char c : bytes) append_escaped_byte(out, static_cast<std::uint8_t>(c));
}

}  // namespace

void append_escaped_byte(std::string& out, std::uint8_t byte) {
  out += '\\';
  out += static_cast<char>('0' + byte / 100);
  out += static_cast<char>('0' + byte / 10 % 10);
  out += static_cast<char>('0' + byte % 10);
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  while (at < text.size()) {
    auto byte = static_cast<std::uint8_t>(text[at]);
    if (byte < 0x80) {
      if (is_ascii_control(byte)) {
        append_escaped_byte(out, byte);
      } else {
        out += static_cast<char>(byte);
      }
      ++at;
      continue;
    }
    std::size_t length = utf8_sequence_length(text.substr(at));
    if (length == 0) {
      append_escaped_byte(out, byte);  // not UTF-8: this byte alone, then go on
      ++at;
      continue;
    }
    std::string_view sequence = text.substr(at, length);
    if (is_hidden_control(decode(sequence))) {
      append_all_escaped(out, sequence);
    } else {
      out += sequence;
    }
    at += length;
  }
  return out;
}

}  // namespace safeinstall::sandbox
