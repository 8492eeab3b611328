#pragma once
// How much a run has staged (the project's upper dir, the direct dirs in it, the package
// caches' upper dirs), measured against --disk and --files.
//
// Bytes are what a file costs the host or whoever reads it later, whichever is more: its
// allocated blocks (fallocate --keep-size allocates without growing the size) or its
// apparent size (a sparse file costs no disk, but copying or hashing it reads every byte).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace safeinstall::runner {

struct ChangeList;

struct StagingBudget {
  std::optional<std::uint64_t> bytes;    // --disk
  std::optional<std::uint64_t> entries;  // --files: files, directories, symlinks...
  bool any() const { return bytes || entries; }
};

struct StagingUsage {
  std::uint64_t bytes = 0;
  std::uint64_t entries = 0;
  // False when part of the trees could not be measured (a directory the owner cannot read,
  // or nested deeper than the walk goes): the figures are then a lower bound.
  bool complete = true;
};

// Walks `roots` (missing ones count nothing) without recursion and without following
// symlinks, and stops as soon as the usage passes `budget`: the cost is bounded by the budget,
// not by what a hostile command staged.
StagingUsage measure_staged(const std::vector<std::string>& roots, const StagingBudget& budget);

// What a listed change list stages: every entry but deletions, and the files' apparent
// sizes (the list keeps no block counts; the walk above sees those while the command runs).
StagingUsage staged_usage_of(const ChangeList& changes);

// "disk: at least 4100 MiB staged, over --disk 4096 MiB" or the files equivalent; empty when
// within.
std::string staging_over_budget(const StagingUsage& usage, const StagingBudget& budget);

}  // namespace safeinstall::runner
