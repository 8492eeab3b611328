#pragma once
// Persistent package caches shared by runs, which no run can poison.
//
// A package manager's cache (npm's `~/.npm/_cacache`) lives in safeinstall's own cache dir,
// <root>/<name> (root: $SAFEINSTALL_CACHE_DIR, else $XDG_CACHE_HOME/safeinstall/caches, else
// ~/.cache/safeinstall/caches; 0700 and owned by the invoker). A run sees it as an overlay at
// the tool's usual place in the throwaway home: lower = the persistent cache, upper and work
// = in the run's dir. The run reads a warm cache; whatever it writes stays in its upper dir.
//
// After the run, review_cache() reads the upper dir against the cache (writing nothing):
//   - a deleted (whiteout) or replaced existing entry, a changed directory, a symlink or a
//     special file is tampering;
//   - a rewritten existing file is tampering unless its bytes are unchanged (a copy-up);
//   - cacache (npm): a new content blob is accepted only when its digest matches its path;
//     an index bucket only gains lines: each line of the staged bucket that the cache's
//     bucket lacks must hash correctly, name a key that belongs in that bucket and carry an
//     integrity whose content is in the cache or accepted in the same run. Lines the run
//     dropped (npm compacts a bucket when it stores a newer entry) are not applied: the
//     result is always the current bucket plus verified lines, so no entry is lost, a
//     concurrent run's appends are kept, and an entry edited in place adds no more than an
//     appended one could (npm takes the last entry for a key).
//     New files outside the layout (npm's tmp/) are dropped, not merged.
//   - plain caches: every new regular file is accepted as it is.
// merge_cache() adds what the review accepted, each file written in a scratch dir beside the
// cache and renamed into place (RENAME_NOREPLACE for new files), so a concurrent run never
// sees half a file; buckets are rewritten whole the same way. Merges take a lock per cache.
// Who may merge (a promoted, clean run) is the caller's decision: see cache_flow.h.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sandbox/base/error.h"

namespace safeinstall::runner {

enum class CacheFormat {
  cacache,  // npm's content-addressable cache: blobs verified by digest, index append-only
  plain,    // only new files are merged, unverified (for tools without a checkable layout)
};

// What a profile declares about a tool's cache.
struct CacheDecl {
  std::string name;       // "npm": the directory under the cache root, and in messages
  std::string home_path;  // where the tool keeps it, relative to the home: ".npm/_cacache"
  CacheFormat format = CacheFormat::plain;
  // Set in the sandbox so the tool uses that place whatever a project's config says; a value
  // starting with "~/" is relative to the throwaway home.
  std::vector<std::pair<std::string, std::string>> env;
};

// The caches safeinstall knows without a profile: npm's, for npm and npx.
std::vector<CacheDecl> builtin_caches(const std::vector<std::string>& command);

// $SAFEINSTALL_CACHE_DIR, $XDG_CACHE_HOME/safeinstall/caches or $HOME/.cache/safeinstall/caches.
Result<std::string> default_cache_root();

// One cache set up for one run.
struct CacheStaging {
  CacheDecl decl;
  std::string root;        // the cache root (holds the lock and scratch space)
  std::string persistent;  // <root>/<name>: the cache itself, the overlay's lower dir
  std::string upper;       // <run dir>/caches/<name>/upper: what the run wrote
  std::string work;        // overlayfs' work dir beside it
  std::string target;      // where the sandbox sees it: <home>/<home_path>
  std::vector<std::pair<std::string, std::string>> env;  // decl.env with the home filled in
};

// Creates the cache root and <root>/<name> (0700, refused unless ours) and the run's upper and
// work dirs under `run_dir`/caches/<name>.
Result<CacheStaging> prepare_cache(const CacheDecl& decl, const std::string& root,
                                   const std::string& run_dir, const std::string& home);

struct CacheFinding {
  std::string path;  // relative to the cache
  std::string problem;
};

struct BucketAppend {
  std::string path;                // index-v5/xx/yy/rest
  std::vector<std::string> lines;  // verified entries, "<sha1>\t<json>", in order
};

struct CacheReview {
  std::vector<std::string> new_files;  // verified new files, relative paths
  std::vector<BucketAppend> appends;   // verified index entries to add
  std::vector<std::string> ignored;    // new but outside the layout: dropped
  std::vector<CacheFinding> tampering;
  std::size_t unchanged_copies = 0;  // existing files copied up with the same bytes
  bool tampered() const { return !tampering.empty(); }
  bool empty() const { return new_files.empty() && appends.empty(); }
};

// Reads what the run wrote (cache.upper) against the cache; writes nothing. Nothing may write
// to the upper dir meanwhile (the sandbox is gone). Files whose sizes add up to more than
// `max_read_bytes` (--disk) are not read at all, since hashing a sparse terabyte would take
// hours: the review finds that as tampering instead.
Result<CacheReview> review_cache(const CacheStaging& cache,
                                 std::optional<std::uint64_t> max_read_bytes = {});

struct CacheMergeResult {
  std::size_t files_added = 0;
  std::size_t files_present = 0;  // added meanwhile by another run: same content by name
  std::size_t entries_appended = 0;
};

// Adds what `review` accepted to the persistent cache. Refuses a review with tampering. Each
// blob is hashed again while it is copied, so what was verified is what is published.
Result<CacheMergeResult> merge_cache(const CacheStaging& cache, const CacheReview& review);

// Removes the run's upper and work dirs of the cache.
Result<void> remove_cache_staging(const CacheStaging& cache);

}  // namespace safeinstall::runner
