#pragma once
// What a run changed in the project: its overlay upper dir, read against the real project
// (the overlay's lower dir), as the list of `files.project` in the report.
//
// The list describes the merged view minus the real tree:
//   - an upper entry where the project had nothing is `added`, over something `modified`;
//   - a whiteout (character device 0/0) over a real entry is `deleted`;
//   - an opaque directory (xattr user.overlay.opaque="y", or trusted.overlay.opaque as root
//     without userxattr) hides the real directory's contents: every real entry beneath it
//     that the upper dir does not recreate is `deleted` (the topmost one only: a deleted
//     directory stands for its whole subtree), and its upper entries are added/modified;
//   - a directory that exists on both sides and is not opaque is merged: it is listed only
//     if its permission bits changed, and its children are compared one by one.
// Every lookup is openat/fstatat with AT_SYMLINK_NOFOLLOW; no symlink is ever followed.
//
// The mount must not use redirect_dir or metacopy (safeinstall's overlay uses neither): a
// redirected directory or a metadata-only copy-up cannot be read from the upper dir alone,
// so finding one is an error rather than a wrong list.

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/deadline.h"
#include "runner/fs/path_arena.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

class GlobSet;

enum class ChangeKind : std::uint8_t { added, modified, deleted };
// One byte each: a change list can hold a million changes.
enum class EntryType : std::uint8_t { file, dir, symlink, special };
// Filled by the verdict step (verdict.h: categorize); `unjudged` until then.
enum class Category : std::uint8_t { unjudged, expected, unexpected, protected_ };

std::string_view to_string(ChangeKind kind);
std::string_view to_string(EntryType type);
std::string_view to_string(Category category);
EntryType entry_type_of(mode_t st_mode);

// One bit each: a node_modules is tens of thousands of changes.
struct ChangeFlags {
  bool executable : 1 = false;      // a regular file with an x bit
  bool setuid : 1 = false;          // files only; stripped on promotion
  bool setgid : 1 = false;          // files only; stripped on promotion
  bool symlink_escape : 1 = false;  // resolves outside the project: never promoted
  bool special_file : 1 = false;    // device, fifo, socket: never promoted
  bool hardlink : 1 = false;        // st_nlink > 1 in the upper dir: copied, never linked
  bool persistence : 1 = false;     // home/tmp walks only (walk_written_tree)
  bool world_writable : 1 = false;  // o+w on a file or directory: cleared on promotion
  // Carries user.* xattrs or POSIX ACLs (details: foreign_xattrs): removed on promotion.
  bool foreign_xattrs : 1 = false;
  // Carries overlayfs' xattr names where no overlay put them (a direct dir): never
  // interpreted, removed, and the run is rejected.
  bool forged_overlay : 1 = false;

  bool never_promoted() const { return symlink_escape || special_file; }
};

// What only symlinks and entries carrying overlay xattrs have, kept out of line: a change list
// can hold hundreds of thousands of changes (a node_modules), and almost none needs these.
struct ChangeDetails {
  std::string symlink_target;  // as stored in the link
  // Where the link points, project-relative, resolved lexically from the link's directory;
  // empty for a link to the project root itself, nullopt when it escapes or is no symlink.
  std::optional<std::string> symlink_resolves_to;
  // overlayfs' own xattrs on the upper entry (origin, impure, opaque...), removed on
  // promotion so the promoted project carries no overlay bookkeeping.
  std::vector<std::string> overlay_xattrs;
  // xattrs the command set (staged_xattrs.h): removed before promotion.
  std::vector<std::string> foreign_xattrs;
};

// An owning pointer that copies what it points to: details are rare (symlinks, xattrs), so
// a deep copy costs little, and the pointer is half the size of a shared_ptr.
class DetailsPtr {
 public:
  DetailsPtr() = default;
  DetailsPtr(const DetailsPtr& other)
      : ptr_(other.ptr_ ? std::make_unique<ChangeDetails>(*other.ptr_) : nullptr) {}
  DetailsPtr(DetailsPtr&&) noexcept = default;
  DetailsPtr& operator=(const DetailsPtr& other) {
    if (this != &other) ptr_ = DetailsPtr(other).release();
    return *this;
  }
  DetailsPtr& operator=(DetailsPtr&&) noexcept = default;
  ~DetailsPtr() = default;

  explicit operator bool() const { return ptr_ != nullptr; }
  const ChangeDetails& operator*() const { return *ptr_; }
  ChangeDetails& make() {
    if (!ptr_) ptr_ = std::make_unique<ChangeDetails>();
    return *ptr_;
  }

 private:
  std::unique_ptr<ChangeDetails> release() { return std::move(ptr_); }
  std::unique_ptr<ChangeDetails> ptr_;
};

// 32 bytes: a million-entry staged tree is a million of these. The path's text lives in
// its list's arena (ChangeList::paths); the rest is packed to the bit.
struct Change {
  PathRef path;  // relative to the project
  std::uint64_t size = 0;
  DetailsPtr details;  // empty when there are none
  // st_mode of the new entry (0 for `deleted`): its type and permission bits fit in 16 bits.
  std::uint16_t mode = 0;
  EntryType type = EntryType::file;  // of the new entry; of the real one for `deleted`
  // What the project had at this path when the list was made (nullopt: nothing).
  std::optional<EntryType> real_type;
  ChangeKind change : 2 = ChangeKind::added;
  Category category : 2 = Category::unjudged;
  // A directory whose real counterpart's contents are replaced wholesale (opaque, or inside
  // an opaque directory); deletions beneath it are listed explicitly.
  bool opaque : 1 = false;
  ChangeFlags flags;

  const std::string& symlink_target() const;
  const std::optional<std::string>& symlink_resolves_to() const;
  const std::vector<std::string>& overlay_xattrs() const;
  const std::vector<std::string>& foreign_xattrs() const;
  // The details to fill in, made on first use.
  ChangeDetails& edit_details();

  // True when the change removes a real directory's old contents (deleted, replaced by a
  // non-directory, or opaque): conflict checks and categories look at the whole subtree.
  bool replaces_real_subtree() const;
};
static_assert(sizeof(void*) != 8 || sizeof(Change) <= 32, "a change list holds millions");
static_assert((S_IFMT | 07777) <= UINT16_MAX, "Change::mode holds an st_mode");

struct ChangeList {
  // The text of every change's path; declared first, so it outlives the changes. A list is
  // moved, never copied: its changes point into it.
  PathArena paths;
  std::vector<Change> changes;  // sorted by path: a directory comes before what is inside it
  // Whiteouts that hide nothing in the project (inside opaque or new directories). They are
  // overlay bookkeeping, not changes; promotion removes them from what it moves.
  std::vector<std::string> stray_whiteouts;

  // A change at `path`, its text kept in `paths`, added at the end (keep the list sorted).
  Change& add(std::string_view path);
  const Change* find(std::string_view path) const;
  std::size_t count(ChangeKind kind) const;
  std::size_t count(Category category) const;
  // "5 changes staged (2 expected, 0 unexpected, 3 protected)" without the leading count:
  // "(2 expected, 0 unexpected, 3 protected)", as the receipt, summary and promote say it.
  std::string category_counts() const;
  bool empty() const { return changes.empty(); }
};

struct ChangeListLimits {
  // More changes than this is refused rather than listed partly: a verdict or promotion on a
  // partial list could miss exactly the change that matters.
  std::size_t max_changes = 5'000'000;
  int max_depth = 256;
  // --timeout: once passed, listing stops with an error (a hostile command can stage
  // millions of entries).
  Deadline deadline;
};

// Lists the changes an overlay upper dir makes to `project` (the absolute, canonical path of
// the real project, which is also where the sandbox showed it: absolute symlink targets
// are judged against it). Nothing may write to `upper` meanwhile. `direct_dirs` are the
// top-level names the sandbox wrote through a plain bind rather than the overlay: overlay
// xattrs found there are forged (flags.forged_overlay), never read as opaque or redirect.
// Every file and directory's xattrs are listed: foreign ones are kept in the details.
Result<ChangeList> list_changes(const std::string& upper, const std::string& project,
                                const ChangeListLimits& limits = {},
                                const std::vector<std::string>& direct_dirs = {});

// Where the symlink at project-relative `link_path` with target `target` points, relative to
// the project, or nullopt when it leaves the project. Lexical: `..` is applied to the
// textual path, absolute targets are compared with `project`.
std::optional<std::string> resolve_symlink_in_project(std::string_view link_path,
                                                      std::string_view target,
                                                      std::string_view project);

// Everything in a plain directory tree (the throwaway home or /tmp, from outside the
// sandbox), every entry `added`, with `persistence` set where `persistence` (usually
// persistence_paths()) matches. Symlinks are listed, never followed; other filesystems
// mounted inside are listed but not entered.
Result<ChangeList> walk_written_tree(const std::string& dir, const GlobSet* persistence,
                                     const ChangeListLimits& limits = {});

}  // namespace safeinstall::runner
