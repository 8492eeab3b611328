#include "sandbox/egress/decoy_matcher.h"

#include <cctype>
#include <cstdint>

namespace safeinstall::sandbox {
namespace {

// Shorter forms (a value cut down to a few characters) would match by chance.
constexpr std::size_t kMinNeedle = 16;

std::string hex_of(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

// Standard base64 without padding; '+' and '/' vanish in the search form anyway, so base64url
// is the same needle.
std::string base64_of(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(v >> shift) & 0x3f];
  }
  return out;  // only whole groups: a partial one depends on what follows the value
}

std::string base32_of(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  for (std::size_t i = 0; i + 5 <= bytes.size(); i += 5) {
    std::uint64_t v = 0;
    for (std::size_t j = 0; j < 5; ++j) v = (v << 8) | static_cast<unsigned char>(bytes[i + j]);
    for (int shift = 35; shift >= 0; shift -= 5) out += kAlphabet[(v >> shift) & 0x1f];
  }
  return out;
}

// The encoding of `core` when it starts `offset` bytes into an encoded group: the groups
// that mix in the bytes before it are left out, and so is the partial group at its end.
std::string encoded_at(std::string_view core, std::size_t offset, std::size_t group_chars,
                       std::string (*encode)(std::string_view)) {
  std::string padded(offset, '\0');
  padded += core;
  std::string text = encode(padded);
  return offset == 0 ? text : text.substr(std::min(group_chars, text.size()));
}

void add_needle(std::vector<std::string>& out, std::string needle) {
  needle = normalized_for_search(needle);
  if (needle.size() < kMinNeedle) return;
  if (std::ranges::find(out, needle) == out.end()) out.push_back(std::move(needle));
}

}  // namespace

std::string normalized_for_search(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0) out += static_cast<char>(std::tolower(c));
  }
  return out;
}

std::string masked_decoy_host(std::string_view host, std::string_view decoy) {
  std::size_t keep = host.size();
  for (int labels = 0; labels < 2 && keep != std::string_view::npos && keep > 0; ++labels)
    keep = host.rfind('.', keep - 1);
  std::string mark = "[decoy:" + std::string(decoy) + "]";
  if (keep == std::string_view::npos || keep == 0) return mark;
  return mark + std::string(host.substr(keep));
}

std::vector<std::string> decoy_needles(std::string_view core) {
  std::vector<std::string> out;
  add_needle(out, std::string(core));
  add_needle(out, hex_of(core));
  for (std::size_t offset = 0; offset < 3; ++offset)
    add_needle(out, encoded_at(core, offset, 4, base64_of));
  for (std::size_t offset = 0; offset < 5; ++offset)
    add_needle(out, encoded_at(core, offset, 8, base32_of));
  return out;
}

DecoyMatcher::DecoyMatcher(const std::vector<DecoyValue>& decoys) {
  for (const auto& decoy : decoys) {
    for (auto& needle : decoy_needles(decoy.core)) {
      auto text = std::make_unique<const std::string>(std::move(needle));
      std::boyer_moore_horspool_searcher searcher(text->begin(), text->end());
      needles_.push_back({decoy.file, std::move(text), std::move(searcher)});
    }
  }
}

std::optional<std::string> DecoyMatcher::find(std::string_view text) const {
  if (needles_.empty() || text.empty()) return std::nullopt;
  const std::string haystack = normalized_for_search(text);
  for (const auto& needle : needles_) {
    if (std::search(haystack.begin(), haystack.end(), needle.searcher) != haystack.end())
      return needle.file;
  }
  return std::nullopt;
}

}  // namespace safeinstall::sandbox
