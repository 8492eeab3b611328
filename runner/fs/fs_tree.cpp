#include "runner/fs/fs_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <optional>

namespace safeinstall::runner {
namespace {

using sandbox::UniqueFd;

// Deeper than any real package tree; a bound keeps recursion (one fd per level) finite.
constexpr int kMaxDepth = 512;

bool running_as_root() {
  return ::geteuid() == 0;
}

// A fresh open file description for reading a directory, so listing never moves the
// offset of the caller's fd.
Result<UniqueFd> reopen_for_listing(int dirfd, const std::string& shown) {
  UniqueFd fd(::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_error("open directory " + shown + " for listing");
  return fd;
}

Result<void> write_all(int fd, const char* data, std::size_t size, const std::string& shown) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write " + shown);
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

// copy_file_range shares extents where the filesystem can; plain read/write where it cannot
// (across filesystems on some kernels, special filesystems).
Result<void> copy_contents(int in, int out, std::uint64_t size, const std::string& shown) {
  std::uint64_t left = size;
  while (left > 0) {
    ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, left, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
      break;
    if (n < 0) return sys_error("copy " + shown);
    if (n == 0) return {};  // the file shrank; what was there is copied
    left -= static_cast<std::uint64_t>(n);
  }
  if (left == 0) return {};
  std::array<char, 1 << 16> buffer{};
  for (;;) {
    ssize_t n = ::read(in, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read " + shown);
    if (n == 0) return {};
    if (auto written = write_all(out, buffer.data(), static_cast<std::size_t>(n), shown);
        !written) {
      return written;
    }
  }
}

Result<void> copy_symlink_at(int from_dir, const std::string& from_name, const struct stat& st,
                             int to_dir, const std::string& to_name, const std::string& shown) {
  std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
  ssize_t n = ::readlinkat(from_dir, from_name.c_str(), target.data(), target.size());
  if (n < 0) return sys_error("read symlink " + shown);
  target.resize(static_cast<std::size_t>(n));
  if (::symlinkat(target.c_str(), to_dir, to_name.c_str()) != 0) {
    return sys_error("create symlink " + shown);
  }
  if (running_as_root())
    ::fchownat(to_dir, to_name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
  std::array<struct timespec, 2> times{st.st_atim, st.st_mtim};
  ::utimensat(to_dir, to_name.c_str(), times.data(), AT_SYMLINK_NOFOLLOW);
  return {};
}

Result<void> copy_entry(int from_dir, const std::string& from_name, int to_dir,
                        const std::string& to_name, const std::string& shown, int depth);

Result<void> copy_directory_at(int from_dir, const std::string& from_name, const struct stat& st,
                               int to_dir, const std::string& to_name, const std::string& shown,
                               int depth) {
  if (depth > kMaxDepth) return plain_error("copy " + shown + ": directory tree too deep");
  if (::mkdirat(to_dir, to_name.c_str(), 0700) != 0) return sys_error("create directory " + shown);
  auto from = open_subdirectory(from_dir, from_name, shown);
  if (!from) return propagate(from);
  auto to = open_subdirectory(to_dir, to_name, shown);
  if (!to) return propagate(to);
  auto names = list_directory(from->get(), shown);
  if (!names) return propagate(names);
  for (const auto& name : *names) {
    auto copied = copy_entry(from->get(), name, to->get(), name, join_path(shown, name), depth + 1);
    if (!copied) return copied;
  }
  if (running_as_root()) ::fchown(to->get(), st.st_uid, st.st_gid);
  if (::fchmod(to->get(), promotable_mode(st.st_mode)) != 0) return sys_error("chmod " + shown);
  std::array<struct timespec, 2> times{st.st_atim, st.st_mtim};
  ::futimens(to->get(), times.data());
  return {};
}

Result<void> copy_entry(int from_dir, const std::string& from_name, int to_dir,
                        const std::string& to_name, const std::string& shown, int depth) {
  auto st = stat_entry(from_dir, from_name, shown);
  if (!st) return propagate(st);
  if (!*st) return plain_error("copy " + shown + ": it disappeared while being copied");
  const struct stat& s = **st;
  if (S_ISDIR(s.st_mode))
    return copy_directory_at(from_dir, from_name, s, to_dir, to_name, shown, depth);
  if (S_ISREG(s.st_mode)) {
    return copy_file_at(from_dir, from_name, to_dir, to_name, promotable_mode(s.st_mode), shown);
  }
  if (S_ISLNK(s.st_mode)) return copy_symlink_at(from_dir, from_name, s, to_dir, to_name, shown);
  if (is_whiteout(s)) return {};
  return plain_error("copy " + shown +
                     ": special files (devices, fifos, sockets) are never copied");
}

// No empty, "." or ".." component: what open_beneath accepts.
bool is_plain_relative(std::string_view relative) {
  std::size_t start = 0;
  for (;;) {
    auto slash = relative.find('/', start);
    auto component =
        relative.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (component.empty() || component == "." || component == "..") return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

// RESOLVE_NO_SYMLINKS is O_NOFOLLOW on every component, the last one included (with O_PATH |
// O_NOFOLLOW that one is opened as the link itself); RESOLVE_BENEATH refuses any escape.
// nullopt with errno set: ENOSYS where the kernel lacks openat2, EPERM where a container's
// seccomp filter refuses it (or the open itself is refused, which the fallback then reports).
std::optional<UniqueFd> open_resolving_beneath(int rootfd, std::string_view relative, int flags) {
  struct open_how how {};
  how.flags = static_cast<std::uint64_t>(flags | O_NOFOLLOW | O_CLOEXEC);
  how.mode = (flags & O_CREAT) != 0 ? 0600 : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  std::string path(relative);
  UniqueFd fd(static_cast<int>(::syscall(SYS_openat2, rootfd, path.c_str(), &how, sizeof how)));
  if (!fd) return std::nullopt;
  return fd;
}

Result<UniqueFd> open_component_by_component(int rootfd, std::string_view relative, int flags,
                                             const std::string& shown) {
  UniqueFd current(::openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!current) return sys_error("open " + shown);
  std::size_t start = 0;
  for (;;) {
    auto slash = relative.find('/', start);
    bool last = slash == std::string_view::npos;
    std::string component(relative.substr(start, last ? std::string_view::npos : slash - start));
    int component_flags =
        last ? (flags | O_NOFOLLOW | O_CLOEXEC) : (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    UniqueFd next(::openat(current.get(), component.c_str(), component_flags, 0600));
    if (!next) return sys_error("open " + shown);
    current = std::move(next);
    if (last) return current;
    start = slash + 1;
  }
}

}  // namespace

std::string join_path(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (name.empty()) return std::string(dir);
  std::string joined(dir);
  if (joined.back() != '/') joined += '/';
  joined += name;
  return joined;
}

std::string parent_of(std::string_view relative_path) {
  auto slash = relative_path.rfind('/');
  return slash == std::string_view::npos ? std::string()
                                         : std::string(relative_path.substr(0, slash));
}

std::string leaf_of(std::string_view relative_path) {
  auto slash = relative_path.rfind('/');
  return std::string(slash == std::string_view::npos ? relative_path
                                                     : relative_path.substr(slash + 1));
}

Result<UniqueFd> open_directory(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_error("open directory " + path);
  return fd;
}

Result<UniqueFd> open_subdirectory(int dirfd, const std::string& name, const std::string& shown) {
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return sys_error("open directory " + shown);
  return fd;
}

Result<UniqueFd> open_beneath(int rootfd, std::string_view relative, int flags,
                              const std::string& shown) {
  if (relative.empty()) {
    if ((flags & O_DIRECTORY) == 0) return plain_error("open " + shown + ": empty path");
    UniqueFd root(::openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root) return sys_error("open " + shown);
    return root;
  }
  if (!is_plain_relative(relative)) {
    return plain_error("open " + shown + ": '" + std::string(relative) +
                       "' is not a plain relative path");
  }
  // One openat2(2) where the kernel has it; a promotion opens tens of thousands of paths.
  if (auto opened = open_resolving_beneath(rootfd, relative, flags);
      opened || (errno != ENOSYS && errno != EPERM)) {
    if (!opened) return sys_error("open " + shown);
    return std::move(*opened);
  }
  return open_component_by_component(rootfd, relative, flags, shown);
}

Result<DirStream> open_directory_stream(int dirfd, const std::string& name,
                                        const std::string& shown) {
  auto fd = open_subdirectory(dirfd, name, shown);
  if (!fd) return propagate(fd);
  DirStream dir = sandbox::dir_stream(std::move(*fd));
  if (!dir) return sys_error("list directory " + shown);
  return dir;
}

Result<std::vector<DirectoryEntry>> list_directory_entries(int dirfd, const std::string& shown) {
  auto fd = reopen_for_listing(dirfd, shown);
  if (!fd) return propagate(fd);
  DirStream dir = sandbox::dir_stream(std::move(*fd));
  if (!dir) return sys_error("list directory " + shown);
  std::vector<DirectoryEntry> entries;
  for (;;) {
    errno = 0;
    const struct dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) break;
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    entries.push_back({std::string(name), entry->d_type});
  }
  if (errno != 0) return sys_error("list directory " + shown);
  return entries;
}

Result<std::vector<std::string>> list_directory(int dirfd, const std::string& shown) {
  auto entries = list_directory_entries(dirfd, shown);
  if (!entries) return propagate(entries);
  std::vector<std::string> names;
  names.reserve(entries->size());
  for (auto& entry : *entries) names.push_back(std::move(entry.name));
  return names;
}

Result<std::optional<struct stat>> stat_entry(int dirfd, const std::string& name,
                                              const std::string& shown) {
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return st;
  if (errno == ENOENT) return std::nullopt;
  return sys_error("stat " + shown);
}

bool is_whiteout(const struct stat& st) {
  return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

mode_t promotable_mode(mode_t st_mode) {
  mode_t bits = st_mode & 07777 & ~mode_t{S_IWOTH};
  return S_ISDIR(st_mode) ? (bits & ~mode_t{S_ISUID}) : (bits & ~mode_t{S_ISUID | S_ISGID});
}

Result<void> copy_file_at(int from_dir, const std::string& from_name, int to_dir,
                          const std::string& to_name, mode_t mode, const std::string& shown) {
  UniqueFd in(::openat(from_dir, from_name.c_str(),
                       O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!in) return sys_error("open " + shown + " to copy it");
  struct stat st {};
  if (::fstat(in.get(), &st) != 0) return sys_error("stat " + shown);
  if (!S_ISREG(st.st_mode)) return plain_error("copy " + shown + ": not a regular file");
  UniqueFd out(::openat(to_dir, to_name.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out) return sys_error("create copy of " + shown);
  auto finish = [&]() -> Result<void> {
    if (auto copied =
            copy_contents(in.get(), out.get(), static_cast<std::uint64_t>(st.st_size), shown);
        !copied) {
      return copied;
    }
    // chown before chmod: chown clears set-id bits, and the mode asked for is final.
    if (running_as_root() && ::fchown(out.get(), st.st_uid, st.st_gid) != 0) {
      return sys_error("chown copy of " + shown);
    }
    if (::fchmod(out.get(), mode) != 0) return sys_error("chmod copy of " + shown);
    std::array<struct timespec, 2> times{st.st_atim, st.st_mtim};
    if (::futimens(out.get(), times.data()) != 0) return sys_error("set times of copy of " + shown);
    return {};
  };
  auto done = finish();
  if (!done) ::unlinkat(to_dir, to_name.c_str(), 0);
  return done;
}

Result<void> copy_tree_at(int from_dir, const std::string& from_name, int to_dir,
                          const std::string& to_name, const std::string& shown) {
  return copy_entry(from_dir, from_name, to_dir, to_name, shown, 0);
}

namespace {

// The directory holding `path`, whose entry for it a rename changes.
std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

}  // namespace

Result<void> write_file_atomically(const std::string& path, std::string_view content,
                                   bool durable) {
  std::string temporary = path + ".tmp." + std::to_string(::getpid());
  UniqueFd fd(
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return sys_error("create " + temporary);
  auto write_and_rename = [&]() -> Result<void> {
    if (auto written = write_all(fd.get(), content.data(), content.size(), temporary); !written) {
      return written;
    }
    if (durable && ::fsync(fd.get()) != 0) return sys_error("fsync " + temporary);
    fd.reset();
    if (::rename(temporary.c_str(), path.c_str()) != 0)
      return sys_error("rename " + temporary + " to " + path);
    return {};
  };
  auto done = write_and_rename();
  if (!done) {
    ::unlink(temporary.c_str());
    return done;
  }
  return durable ? fsync_directory(parent_of(path)) : Result<void>{};
}

Result<void> make_durable(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return sys_error("open " + path + " to fsync it");
  if (::fsync(fd.get()) != 0) return sys_error("fsync " + path);
  return fsync_directory(parent_of(path));
}

Result<std::string> read_whole_file(int fd, std::size_t max_bytes, const std::string& shown) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return sys_error("stat " + shown);
  if (!S_ISREG(st.st_mode)) return plain_error("read " + shown + ": not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    return plain_error("read " + shown + ": larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string content;
  std::array<char, 1 << 16> buffer{};
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read " + shown);
    if (n == 0) break;
    content.append(buffer.data(), static_cast<std::size_t>(n));
    if (content.size() > max_bytes)
      return plain_error("read " + shown + ": file grew while being read");
  }
  return content;
}

Result<std::optional<std::string>> read_small_file(const std::string& path, std::size_t max_bytes,
                                                   Links links) {
  int nofollow = links == Links::not_followed ? O_NOFOLLOW : 0;
  // O_NONBLOCK: opening a FIFO put in a file's place must not wait for a writer; the
  // fstat below then refuses it.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | nofollow | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    return sys_error("open " + path);
  }
  auto content = read_whole_file(fd.get(), max_bytes, path);
  if (!content) return propagate(content);
  return std::move(*content);
}

Result<void> fsync_directory(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_error("open directory " + path + " to fsync it");
  if (::fsync(fd.get()) != 0) return sys_error("fsync directory " + path);
  return {};
}

Result<void> create_parents(const std::string& path) {
  for (auto slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string prefix = path.substr(0, slash);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
      return sys_error("create directory " + prefix);
  }
  return {};
}

Result<void> make_private_directory(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
    return sys_error("create directory " + path);
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return sys_error("stat " + path);
  if (!S_ISDIR(st.st_mode)) {
    return plain_error(path + " is not a directory (a symlink or file is in the way)",
                       "remove it; safeinstall creates this directory itself");
  }
  if (st.st_uid != ::geteuid()) {
    return plain_error(path + " belongs to uid " + std::to_string(st.st_uid) + ", not to uid " +
                           std::to_string(::geteuid()),
                       "someone else created it; safeinstall only keeps staged runs in a directory "
                       "of your own");
  }
  if ((st.st_mode & 077) != 0 && ::chmod(path.c_str(), 0700) != 0) {
    return sys_error("make " + path + " private (chmod 0700)");
  }
  return {};
}

Result<MountIdentity> mount_identity(const std::string& path) {
  struct statx stx {};
  if (::statx(AT_FDCWD, path.c_str(), 0, STATX_MNT_ID, &stx) != 0)
    return sys_error("statx " + path);
  MountIdentity id;
  id.dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
  id.mount_id = (stx.stx_mask & STATX_MNT_ID) != 0 ? stx.stx_mnt_id : 0;
  return id;
}

}  // namespace safeinstall::runner
