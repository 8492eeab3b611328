#pragma once
// npm's content-addressable cache (cacache, `~/.npm/_cacache`) as far as safeinstall must
// understand it to merge a run's additions safely:
//
//   content-v2/<algo>/<h[0:2]>/<h[2:4]>/<h[4:]>   a blob whose <algo> digest is hex h
//   index-v5/<k[0:2]>/<k[2:4]>/<k[4:]>            a bucket: entries for keys whose sha256 is k
//   tmp/...                                       npm's scratch space
//
// A bucket is an append-only log. cacache writes each entry as "\n<sha1 hex of json>\t<json>"
// and the last entry for a key wins; lines whose hash does not match are skipped by npm.
// The json holds "key", "integrity" (a Subresource Integrity string naming the content blob,
// or null for a deletion), "time", "size" and "metadata" (make-fetch-happen's stored HTTP
// response headers).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace safeinstall::runner::cacache {

// One hash of an integrity string: "sha512-<base64>" as algorithm and lowercase hex.
struct Hash {
  std::string algorithm;
  std::string hex;
  bool operator==(const Hash&) const = default;
};

enum class PathKind {
  content,     // content-v2/<algo>/xx/yy/rest with a known algorithm and hex of its length
  bucket,      // index-v5/xx/yy/rest, 64 hex digits in all
  scratch,     // tmp/ and below
  layout_dir,  // a directory on the way to content or buckets (content-v2/sha512/ab, ...)
  other,       // anything else: not part of the cache's layout
};

struct PathInfo {
  PathKind kind = PathKind::other;
  Hash content;            // for content: what the blob's digest must be
  std::string bucket_hex;  // for bucket: sha256 hex of every key it may hold
};

// What `path` (relative to the _cacache dir, '/'-separated) is in the layout.
PathInfo classify(std::string_view path);

// The hashes of an SRI string ("sha512-AAA== sha1-BBB=", options after '?' ignored). Hashes
// of unknown algorithms or with bad base64 are left out.
std::vector<Hash> parse_integrity(std::string_view sri);

// content-v2/<algo>/xx/yy/rest for a hash.
std::string content_path(const Hash& hash);

// The entries of a bucket file, one per non-empty line, in order.
std::vector<std::string> bucket_lines(std::string_view content);

// A bucket line checked on its own: its hash matches its json, the json is an entry object
// with a string key whose sha256 is `bucket_hex`, and an integrity string naming at least one
// hash. `problem` says what is wrong otherwise.
struct BucketEntry {
  std::string key;
  std::vector<Hash> integrity;  // empty when the line is not valid
  std::string problem;          // empty when valid
  bool valid() const { return problem.empty(); }
};
BucketEntry check_bucket_line(std::string_view line, std::string_view bucket_hex);

// What a run's version of a bucket adds to the cache's current one: its lines that the
// current bucket lacks, each of which must be a valid entry (check_bucket_line). Lines of the
// current bucket missing from the staged one are not deletions to apply: npm compacts a
// bucket when it stores a newer entry for a key (make-fetch-happen's index.compact rewrites
// it without the superseded lines), and the merge only ever appends, so the result is always
// the current bucket plus verified lines — no entry is lost, and an entry "edited" in place
// can add no more than an appended one could (the last entry for a key wins in npm either
// way). `problem` names the first invalid line; then nothing is to be merged.
struct BucketReview {
  std::vector<std::string> new_lines;  // "<sha1>\t<json>", in order, without duplicates
  std::vector<BucketEntry> entries;    // parsed new_lines
  std::string problem;
};
BucketReview review_bucket(std::string_view current, std::string_view staged,
                           std::string_view bucket_hex);

// sha256 hex of a key: the bucket it belongs in.
std::string bucket_hex_of_key(std::string_view key);

// "index-v5/xx/yy/rest" for a key.
std::string bucket_path_of_key(std::string_view key);

// "\n<sha1 of json>\t<json>": a bucket line as cacache writes it (tests build caches with it).
std::string format_bucket_line(std::string_view json);

}  // namespace safeinstall::runner::cacache
