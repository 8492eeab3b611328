#include "sandbox/egress/decoy_matcher.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

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
  // Byte -> its search form (0: dropped), without the locale lookups of isalnum/tolower.
  static const std::array<char, 256> kForm = [] {
    std::array<char, 256> form{};
    for (char c = '0'; c <= '9'; ++c) form[static_cast<unsigned char>(c)] = c;
    for (char c = 'a'; c <= 'z'; ++c) {
      form[static_cast<unsigned char>(c)] = c;
      form[static_cast<unsigned char>(c - 'a' + 'A')] = c;
    }
    return form;
  }();
  std::string out(text.size(), '\0');
  std::size_t n = 0;
  for (unsigned char c : text) {
    const char form = kForm[c];
    out[n] = form;
    n += form != '\0';
  }
  out.resize(n);
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

namespace {

constexpr unsigned kHashBits = 16;

std::uint64_t load_prefix(const char* at) {
  std::uint64_t key = 0;
  std::memcpy(&key, at, sizeof key);
  return key;
}

std::size_t hash_of(std::uint64_t key) {
  return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ULL) >> (64 - kHashBits));
}

}  // namespace

DecoyMatcher::DecoyMatcher(const std::vector<DecoyValue>& decoys)
    : seen_hashes_(std::size_t{1} << kHashBits) {
  static_assert(kPrefix == sizeof(std::uint64_t) && kPrefix <= kMinNeedle);
  for (const auto& decoy : decoys) {
    for (auto& needle : decoy_needles(decoy.core)) {
      const std::uint64_t prefix = load_prefix(needle.data());
      seen_hashes_[hash_of(prefix)] = true;
      needles_.push_back({prefix, std::move(needle), decoy.file});
    }
  }
  std::ranges::sort(needles_, {}, &Needle::prefix);
}

std::optional<std::string> DecoyMatcher::find(std::string_view text) const {
  if (needles_.empty() || text.size() < kMinNeedle) return std::nullopt;
  const std::string haystack = normalized_for_search(text);
  if (haystack.size() < kMinNeedle) return std::nullopt;
  const char* data = haystack.data();
  for (std::size_t at = 0; at + kMinNeedle <= haystack.size(); ++at) {
    const std::uint64_t key = load_prefix(data + at);
    if (!seen_hashes_[hash_of(key)]) continue;
    auto [first, last] = std::ranges::equal_range(needles_, key, {}, &Needle::prefix);
    for (auto it = first; it != last; ++it) {
      if (std::string_view(haystack).substr(at).starts_with(it->text)) return it->file;
    }
  }
  return std::nullopt;
}

}  // namespace safeinstall::sandbox
