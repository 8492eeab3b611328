#pragma once
// Planning: what happens to each top-level entry of the project the change list touches.
//
// The unit is the project's top-level entry: at any instant, even under kill -9, each one is
// wholly old or wholly new. Per entry:
//   - swap: a directory the run recreated (opaque) or created, a file, a symlink: the staged
//     entry itself becomes the real one with ONE renameat2 — RENAME_EXCHANGE when a real
//     entry exists (the old one lands where the staged one was, then moves to trash), else
//     RENAME_NOREPLACE;
//   - build: a directory merged with the real one (the run changed some of its contents), or
//     one where some changes are not promoted: its complete new version is built first
//     (prepare.h), then swapped in with one RENAME_EXCHANGE;
//   - remove: a deleted entry, moved to trash with one rename;
//   - skip: nothing under the entry is promoted (each change says why).
// Which changes are promoted at all: expected ones always, the others only when the options
// allow them, and never special files or symlinks leaving the project.
//
// One exception to the unit: a real directory of thousands of entries (by the run's
// snapshot) that the run kept and changed in a few dozen places at most — a new package in
// an existing node_modules — is not rebuilt; the entries below it are planned as above, each
// wholly old or new, and the directory itself stays. Kill -9 still leaves every planned entry
// old or new, and recovery rolls the rest forward.

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runner/promotion/places.h"
#include "runner/promotion/promotion.h"
#include "runner/staging/change_list.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

enum class PlanKind { swap, build, remove, skip };

// The changes of one entry, in path order: its own (the head, if any), then everything
// below it. A change list is sorted by path, so what lies below an entry ("name/…") is one
// contiguous range of it: a group costs a pointer and a span, not a pointer per change
// (a million-entry tree would be a million of them).
class EntryChanges {
 public:
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = const Change*;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = const Change*;

    Iterator() = default;
    Iterator(const Change* head, const Change* inside, std::size_t at)
        : head_(head), inside_(inside), at_(at) {}
    const Change* operator*() const {
      if (head_ == nullptr) return inside_ + at_;
      return at_ == 0 ? head_ : inside_ + (at_ - 1);
    }
    Iterator& operator++() {
      ++at_;
      return *this;
    }
    Iterator operator++(int) {
      Iterator was = *this;
      ++at_;
      return was;
    }
    bool operator==(const Iterator& other) const { return at_ == other.at_; }

   private:
    const Change* head_ = nullptr;
    const Change* inside_ = nullptr;
    std::size_t at_ = 0;
  };

  const Change* head() const { return head_; }
  std::span<const Change> inside() const { return inside_; }
  std::size_t size() const { return (head_ != nullptr ? 1 : 0) + inside_.size(); }
  Iterator begin() const { return {head_, inside_.data(), 0}; }
  Iterator end() const { return {head_, inside_.data(), size()}; }

  void set_head(const Change& change) { head_ = &change; }
  // Adds the next change below the entry; false when it does not follow the last one in the
  // list (the list is not in path order).
  bool add_inside(const Change& change) {
    if (inside_.empty()) {
      inside_ = std::span<const Change>(&change, 1);
      return true;
    }
    if (&change != inside_.data() + inside_.size()) return false;
    inside_ = std::span<const Change>(inside_.data(), inside_.size() + 1);
    return true;
  }

 private:
  const Change* head_ = nullptr;
  std::span<const Change> inside_;
};

struct EntryPlan {
  std::string name;
  PlanKind kind = PlanKind::skip;
  EntryChanges changes;              // everything under the entry, sorted by path
  std::optional<struct stat> real;   // project/name now
  std::optional<struct stat> upper;  // upper/name
  std::string source;                // absolute path of the prepared new version
  std::uint64_t new_ino = 0;

  const Change* head() const { return changes.head(); }  // the entry's own change, if any
};

bool promotable(const Change& c, const PromotionOptions& options);
// Why a change is not promotable, in the words of PromotionResult::skipped.
std::string why_not(const Change& c);
void skip(PromotionResult& result, const Change& c, std::string reason);

// A large real directory promotion goes below and keeps (the exception above), with the
// times the command left its staged counterpart at. Every rename into the directory moves
// its mtime; tools compare it with their own files (npm trusts node_modules/.package-lock.json
// only while no directory of node_modules is newer), so it gets the staged times back.
struct KeptDirectory {
  std::string name;
  ino_t ino = 0;  // of the real directory
  struct timespec atime {};
  struct timespec mtime {};
};

struct PromotionPlan {
  std::vector<EntryPlan> entries;
  std::vector<KeptDirectory> kept;
};

// One plan per top-level entry `changes` touches (or per entry below a large directory, as
// above), from what the project and the staged tree
// hold now. Changes left out are recorded in result.skipped. Fails when the staged tree no
// longer matches the change list.
Result<PromotionPlan> plan_entries(const PromotionPlaces& places, const ChangeList& changes,
                                   const PromotionOptions& options, PromotionResult& result);

// After the commit: each kept directory gets the times of its staged counterpart back, when
// it is still the directory that was planned. Best effort: times are no part of the
// promotion's atomicity, and a directory left newer only costs a tool's cache.
void restore_kept_times(const PromotionPlaces& places, const std::vector<KeptDirectory>& kept);

}  // namespace safeinstall::runner
