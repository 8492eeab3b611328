#pragma once
// Filesystem primitives shared by staging, promotion and the run store: directories opened
// without following symlinks, entry listing, tree removal and copying, and small files
// written atomically. Every function names the path and the step when it fails.
//
// The rule everywhere: a name inside a tree we walk is looked up relative to an open
// directory fd with AT_SYMLINK_NOFOLLOW / O_NOFOLLOW, so a symlink planted in a staged or
// real tree is treated as the symlink itself and never as a way to somewhere else.

#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/base/error.h"
#include "sandbox/base/fd.h"

namespace safeinstall::runner {

// "dir/name", without doubling the slash; `name` alone when `dir` is empty.
std::string join_path(std::string_view dir, std::string_view name);
// "a/b" for "a/b/c"; "" for "c".
std::string parent_of(std::string_view relative_path);
// "c" for "a/b/c".
std::string leaf_of(std::string_view relative_path);

// A directory named by an absolute path the caller trusts (canonical project path, state
// dir): symlinks in that path are followed, as the user's own path may contain them.
Result<sandbox::UniqueFd> open_directory(const std::string& path);

// The directory `name` inside `dirfd`, refusing to follow a symlink; `shown` names it in
// errors.
Result<sandbox::UniqueFd> open_subdirectory(int dirfd, const std::string& name,
                                            const std::string& shown);

// `relative` ("a/b/c", "" for the root itself) opened beneath `rootfd` one component at a
// time, every component with O_NOFOLLOW: a symlink anywhere on the way fails with ELOOP or
// ENOTDIR instead of leading outside. `flags` apply to the last component.
Result<sandbox::UniqueFd> open_beneath(int rootfd, std::string_view relative, int flags,
                                       const std::string& shown);

// A directory read entry by entry (readdir), for walks that must not hold a whole listing.
using sandbox::DirStream;
// `name` inside `dirfd` (AT_FDCWD: a path) as a DirStream, refusing to follow a symlink.
Result<DirStream> open_directory_stream(int dirfd, const std::string& name,
                                        const std::string& shown);

// Names in a directory, without "." and "..".
Result<std::vector<std::string>> list_directory(int dirfd, const std::string& shown);

// The same with readdir's d_type (DT_DIR, DT_REG, ...; DT_UNKNOWN where the filesystem does
// not say), which spares a stat per entry where only directories matter.
struct DirectoryEntry {
  std::string name;
  unsigned char type = 0;
};
Result<std::vector<DirectoryEntry>> list_directory_entries(int dirfd, const std::string& shown);

// fstatat with AT_SYMLINK_NOFOLLOW; nullopt when nothing is there (ENOENT).
Result<std::optional<struct stat>> stat_entry(int dirfd, const std::string& name,
                                              const std::string& shown);

// An overlayfs whiteout: a character device 0/0.
bool is_whiteout(const struct stat& st);

// Permission bits safe to give a promoted entry: set-uid/set-gid dropped from non-directories,
// set-uid from directories (set-gid on a directory is group inheritance, not privilege), and
// write for others from everything: a world-writable entry in the project is anyone's to
// change. Symlinks' bits mean nothing and are never set.
mode_t promotable_mode(mode_t st_mode);

// Removes `name` in `dirfd` and everything below it without following symlinks. Directories
// the owner cannot enter or write (mode 000 trees left by a package, overlayfs' work dir)
// are made accessible first. Nothing there is not an error. Any depth: at most a few dozen
// directories are open at once, no path is longer than that many names, and the work is
// linear in the tree's size (runner/fs/tree_removal.cpp).
Result<void> remove_tree_at(int dirfd, const std::string& name, const std::string& shown);
Result<void> remove_tree(const std::string& path);

// The directory holding the entry an absolute `path` names, opened, and the entry's name;
// nullopt when that directory does not exist. `step` ("remove", ...) names the work in errors.
struct EntryInParent {
  sandbox::UniqueFd dir;
  std::string name;
};
Result<std::optional<EntryInParent>> open_parent_of(const std::string& path, std::string_view step);

// Copies the regular file `from_name` into a new file `to_name` (which must not exist) with
// permission bits `mode`, keeping its timestamps; the owner too when running as root.
// The source is opened with O_NOFOLLOW and must be a regular file.
Result<void> copy_file_at(int from_dir, const std::string& from_name, int to_dir,
                          const std::string& to_name, mode_t mode, const std::string& shown);

// Copies the tree `from_name` into the new entry `to_name` in another directory, possibly on
// another filesystem: directories recreated, regular files copied (hard links become
// separate files), symlinks recreated verbatim. Set-uid and set-gid bits are dropped from
// files and set-uid from directories (a directory's set-gid only picks the group of new
// files, so it is kept); no xattrs are copied. Whiteouts are left out; any other special
// file is an error (callers never ask to copy one).
Result<void> copy_tree_at(int from_dir, const std::string& from_name, int to_dir,
                          const std::string& to_name, const std::string& shown);

// Writes `content` to a temporary sibling and renames it over `path`, so readers see the
// old or the new file, never a part. `durable` adds fsync of the file and its directory.
Result<void> write_file_atomically(const std::string& path, std::string_view content, bool durable);

// fsync of an existing file and of its directory: what `durable` adds, done later (a file
// written without it survives the process, not a power cut, until this returns).
Result<void> make_durable(const std::string& path);

// The whole of an open regular file, refusing one larger than `max_bytes` (also when it
// grows while being read). `shown` names it in errors.
Result<std::string> read_whole_file(int fd, std::size_t max_bytes, const std::string& shown);

// Whether a symlink at the path itself is followed. State files of our own are not (a link
// there is not ours); the invoker's configuration files are, since dotfiles are often links
// into a managed directory.
enum class Links { not_followed, followed };

// The whole file, refusing files larger than `max_bytes`; nullopt when it does not exist.
Result<std::optional<std::string>> read_small_file(const std::string& path, std::size_t max_bytes,
                                                   Links links = Links::not_followed);

Result<void> fsync_directory(const std::string& path);

// mkdir -p of everything above `path` (not `path` itself); directories it makes are 0700,
// since nothing safeinstall creates needs to be readable by others.
Result<void> create_parents(const std::string& path);

// Creates `path` as a 0700 directory, or accepts an existing one only when it is a real
// directory (not a symlink) owned by this user and not accessible to anyone else.
Result<void> make_private_directory(const std::string& path);

// Which mount a path is on. rename(2) works only within one mount: the same st_dev is not
// enough (a bind mount of the same filesystem gives EXDEV).
struct MountIdentity {
  dev_t dev = 0;
  std::uint64_t mount_id = 0;
  bool operator==(const MountIdentity&) const = default;
};
Result<MountIdentity> mount_identity(const std::string& path);

}  // namespace safeinstall::runner
