#include "runner/cache/cacache.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "runner/fs/digest.h"

namespace safeinstall::runner::cacache {
namespace {

constexpr std::string_view kContentDir = "content-v2";
constexpr std::string_view kIndexDir = "index-v5";
constexpr std::string_view kScratchDir = "tmp";
constexpr std::size_t kBucketHexLength = 64;  // sha256

bool is_lower_hex(std::string_view s) {
  return !s.empty() && std::ranges::all_of(s, [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    auto end = s.find(separator, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::optional<std::size_t> hex_length_of(std::string_view algorithm) {
  auto digest = Digest::named(algorithm);
  if (!digest) return std::nullopt;
  return digest->hex_length();
}

// xx/yy/rest under a top directory: the hex split the way cacache splits it. `parts` starts
// after the top (and algorithm) components. A prefix of it is a layout directory.
PathInfo classify_hashed(const std::vector<std::string_view>& parts, std::size_t hex_length,
                         PathKind kind) {
  PathInfo info;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    bool last = i + 1 == parts.size();
    if (i < 2 && (parts[i].size() != 2 || !is_lower_hex(parts[i]))) return {};
    if (i == 2 && (!last || parts[i].size() != hex_length - 4 || !is_lower_hex(parts[i])))
      return {};
  }
  if (parts.size() < 3) {
    info.kind = PathKind::layout_dir;
    return info;
  }
  info.kind = kind;
  std::string hex = std::string(parts[0]) + std::string(parts[1]) + std::string(parts[2]);
  if (kind == PathKind::bucket)
    info.bucket_hex = hex;
  else
    info.content.hex = hex;
  return info;
}

}  // namespace

PathInfo classify(std::string_view path) {
  auto parts = split(path, '/');
  if (parts.empty() || parts.front().empty()) return {};
  if (parts.front() == kScratchDir) return {PathKind::scratch, {}, {}};
  if (parts.front() == kIndexDir) {
    if (parts.size() == 1) return {PathKind::layout_dir, {}, {}};
    return classify_hashed({parts.begin() + 1, parts.end()}, kBucketHexLength, PathKind::bucket);
  }
  if (parts.front() == kContentDir) {
    if (parts.size() == 1) return {PathKind::layout_dir, {}, {}};
    auto hex_length = hex_length_of(parts[1]);
    if (!hex_length) return {};
    if (parts.size() == 2) return {PathKind::layout_dir, {}, {}};
    auto info = classify_hashed({parts.begin() + 2, parts.end()}, *hex_length, PathKind::content);
    info.content.algorithm = std::string(parts[1]);
    return info;
  }
  return {};
}

std::vector<Hash> parse_integrity(std::string_view sri) {
  std::vector<Hash> hashes;
  std::size_t pos = 0;
  while (pos < sri.size()) {
    auto end = sri.find_first_of(" \t\n", pos);
    std::string_view token = sri.substr(pos, end == std::string_view::npos ? end : end - pos);
    pos = end == std::string_view::npos ? sri.size() : end + 1;
    auto dash = token.find('-');
    if (dash == std::string_view::npos) continue;
    std::string_view algorithm = token.substr(0, dash);
    std::string_view value = token.substr(dash + 1);
    value = value.substr(0, value.find('?'));
    auto hex_length = hex_length_of(algorithm);
    auto hex = base64_to_hex(value);
    if (!hex_length || !hex || hex->size() != *hex_length) continue;
    hashes.push_back({std::string(algorithm), *hex});
  }
  return hashes;
}

std::string content_path(const Hash& hash) {
  return std::string(kContentDir) + "/" + hash.algorithm + "/" + hash.hex.substr(0, 2) + "/" +
         hash.hex.substr(2, 2) + "/" + hash.hex.substr(4);
}

std::vector<std::string> bucket_lines(std::string_view content) {
  std::vector<std::string> lines;
  for (auto line : split(content, '\n')) {
    if (!line.empty()) lines.emplace_back(line);
  }
  return lines;
}

std::string bucket_hex_of_key(std::string_view key) {
  return hex_digest("sha256", key);
}

std::string bucket_path_of_key(std::string_view key) {
  std::string hex = bucket_hex_of_key(key);
  return std::string(kIndexDir) + "/" + hex.substr(0, 2) + "/" + hex.substr(2, 2) + "/" +
         hex.substr(4);
}

std::string format_bucket_line(std::string_view json) {
  return "\n" + hex_digest("sha1", json) + "\t" + std::string(json);
}

BucketEntry check_bucket_line(std::string_view line, std::string_view bucket_hex) {
  BucketEntry entry;
  auto tab = line.find('\t');
  if (tab == std::string_view::npos) {
    entry.problem = "an index line without a hash";
    return entry;
  }
  std::string_view json_text = line.substr(tab + 1);
  if (line.substr(0, tab) != hex_digest("sha1", json_text)) {
    entry.problem = "an index line whose sha1 does not match its entry";
    return entry;
  }
  auto json = nlohmann::json::parse(json_text, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("key") ||
      !json["key"].is_string()) {
    entry.problem = "an index line that is not a cache entry";
    return entry;
  }
  entry.key = json["key"].get<std::string>();
  if (bucket_hex_of_key(entry.key) != bucket_hex) {
    entry.problem = "an index entry for key \"" + entry.key + "\" in another key's bucket";
    return entry;
  }
  if (!json.contains("integrity") || !json["integrity"].is_string()) {
    entry.problem = "an index entry for \"" + entry.key + "\" that deletes it (integrity null)";
    return entry;
  }
  entry.integrity = parse_integrity(json["integrity"].get<std::string>());
  if (entry.integrity.empty())
    entry.problem = "an index entry for \"" + entry.key + "\" without a usable integrity";
  return entry;
}

BucketReview review_bucket(std::string_view current, std::string_view staged,
                           std::string_view bucket_hex) {
  BucketReview review;
  auto old_lines = bucket_lines(current);
  std::set<std::string> known(old_lines.begin(), old_lines.end());
  auto staged_lines = bucket_lines(staged);
  for (std::size_t i = 0; i < staged_lines.size(); ++i) {
    const std::string& line = staged_lines[i];
    if (!known.insert(line).second) continue;  // the cache has it, or it came twice
    auto entry = check_bucket_line(line, bucket_hex);
    if (!entry.valid()) return {{}, {}, entry.problem + " (line " + std::to_string(i + 1) + ")"};
    review.new_lines.push_back(line);
    review.entries.push_back(std::move(entry));
  }
  return review;
}

}  // namespace safeinstall::runner::cacache
