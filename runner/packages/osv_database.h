#pragma once
// The offline OSV database: `safeinstall db import` turns OSV JSON (a directory of entries
// or a zip such as OSV's per-ecosystem all.zip) into a compact index — one sorted line per
// affected package, and a sparse table of every 64th line's key — and a run looks up only
// the names it needs: a binary search in the sparse table, then one read of a few KiB.

#include <memory>
#include <string>
#include <vector>

#include "runner/packages/osv_entry.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

// The index's files in a database directory.
inline constexpr const char* kOsvIndexFile = "osv-index.tsv";
inline constexpr const char* kOsvSparseFile = "osv-index.sparse";

struct ImportSummary {
  std::size_t documents = 0;         // JSON documents read
  std::size_t records = 0;           // index lines written (one per affected package)
  std::size_t malicious = 0;         // of which from MAL- entries
  std::vector<std::string> skipped;  // documents that were not valid JSON, with why
};

// Reads every *.json under each source (a directory, walked recursively, or a .zip) and
// writes the index into `into` (created if needed; the previous index replaced atomically).
Result<ImportSummary> import_osv(const std::vector<std::string>& sources, const std::string& into);

class OsvDatabase {
 public:
  // A directory holding an index made by import_osv, or else OSV JSON files, indexed in
  // memory (fine for a few thousand entries; import larger ones).
  static Result<OsvDatabase> open(const std::string& dir);

  OsvDatabase(OsvDatabase&&) noexcept;
  OsvDatabase& operator=(OsvDatabase&&) noexcept;
  ~OsvDatabase();

  // Every record for this package name (any version).
  Result<std::vector<OsvRecord>> lookup(Ecosystem ecosystem, std::string_view name) const;

  // The records among lookup()'s that affect this version.
  Result<std::vector<OsvRecord>> affecting(const PackageVersion& package) const;

  // Every malicious (MAL-) record, for `scan` without a package named.
  Result<std::vector<OsvRecord>> malicious_records() const;

  const std::string& dir() const;

 private:
  struct State;
  explicit OsvDatabase(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace safeinstall::runner
