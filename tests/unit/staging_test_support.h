#pragma once
// Helpers for the staging tests (change list, snapshot, promotion, run store): scratch
// directories, hand-made overlay upper dirs (whiteouts, opaque dirs), tree manifests to
// compare whole trees, and a real overlayfs mount in a child's own user+mount namespace.

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

#include "runner/fs/fs_tree.h"

namespace safeinstall::staging_test {

namespace fs = std::filesystem;

// /tmp/<prefix>-XXXXXX, removed with everything in it (mode 000 dirs included).
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix = "si-staging") {
    std::string pattern = "/tmp/" + prefix + "-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern);
    path_ = pattern;
  }
  ~ScratchDir() { (void)runner::remove_tree(path_); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

inline void write_file(const std::string& path, const std::string& content, mode_t mode = 0644) {
  fs::create_directories(fs::path(path).parent_path());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("write " + path);
  }
  if (::chmod(path.c_str(), mode) != 0) throw std::runtime_error("chmod " + path);
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

inline void make_dir(const std::string& path, mode_t mode = 0755) {
  fs::create_directories(path);
  ::chmod(path.c_str(), mode);
}

// overlayfs' whiteout: a character device 0/0. False when mknod is refused.
inline bool make_whiteout(const std::string& path) {
  fs::create_directories(fs::path(path).parent_path());
  return ::mknod(path.c_str(), S_IFCHR | 0000, makedev(0, 0)) == 0;
}

// What overlayfs with userxattr puts on a directory that hides the lower one.
inline bool make_opaque(const std::string& dir) {
  fs::create_directories(dir);
  return ::setxattr(dir.c_str(), "user.overlay.opaque", "y", 1, 0) == 0;
}

inline ino_t inode_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return st.st_ino;
}

inline bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// path → "d 0755" | "f 0644 <content>" | "l <target>" | "s <mode>", for whole-tree
// comparisons. Symlinks are described, never followed.
using Manifest = std::map<std::string, std::string>;

inline std::string describe(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return "?";
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  if (S_ISDIR(st.st_mode)) return std::string("d ") + mode;
  if (S_ISREG(st.st_mode)) return std::string("f ") + mode + " " + read_file(p.string());
  if (S_ISLNK(st.st_mode)) return "l " + fs::read_symlink(p).string();
  return std::string("s ") + mode;
}

inline Manifest manifest(const std::string& root) {
  Manifest m;
  if (!exists(root)) return m;
  m[""] = describe(root);
  struct stat st {};
  ::lstat(root.c_str(), &st);
  if (!S_ISDIR(st.st_mode)) return m;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    m[fs::relative(it->path(), root).string()] = describe(it->path());
  }
  return m;
}

// Entries of one directory level, each with its manifest.
inline std::map<std::string, Manifest> manifests_by_entry(const std::string& dir) {
  std::map<std::string, Manifest> entries;
  for (const auto& e : fs::directory_iterator(dir))
    entries[e.path().filename().string()] = manifest(e.path().string());
  return entries;
}

struct OverlayRun {
  bool mounted = false;
  std::string why_not;  // when not mounted: what the kernel refused
};

// Mounts overlayfs (lower, upper, work; userxattr, as safeinstall's sandbox does) on
// `merged` in a forked child that has its own user and mount namespaces, runs `writes`
// there, unmounts and exits. The upper dir then holds what a sandboxed command would leave.
inline OverlayRun run_in_overlay(const std::string& lower, const std::string& upper,
                                 const std::string& work, const std::string& merged,
                                 const std::function<void(const std::string&)>& writes) {
  uid_t uid = ::geteuid();
  gid_t gid = ::getegid();
  pid_t pid = ::fork();
  if (pid < 0) return {false, "fork failed"};
  if (pid == 0) {
    auto write_proc = [](const char* file, const std::string& text) {
      int fd = ::open(file, O_WRONLY | O_CLOEXEC);
      bool ok =
          fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
      if (fd >= 0) ::close(fd);
      return ok;
    };
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) ::_exit(10);
    write_proc("/proc/self/setgroups", "deny");
    if (!write_proc("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1\n") ||
        !write_proc("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1\n")) {
      ::_exit(11);
    }
    ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
    std::string options =
        "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work + ",userxattr";
    if (::mount("overlay", merged.c_str(), "overlay", 0, options.c_str()) != 0) ::_exit(12);
    try {
      writes(merged);
    } catch (...) {
      ::_exit(13);
    }
    if (::umount2(merged.c_str(), 0) != 0) ::_exit(14);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  switch (code) {
    case 0:
      return {true, ""};
    case 10:
      return {false, "unshare(CLONE_NEWUSER|CLONE_NEWNS) refused"};
    case 11:
      return {false, "writing the user namespace's id maps refused"};
    case 12:
      return {false, "mounting overlayfs with userxattr in a user namespace refused"};
    case 13:
      throw std::runtime_error("the writes inside the overlay failed");
    default:
      throw std::runtime_error("overlay child ended with status " + std::to_string(code));
  }
}

}  // namespace safeinstall::staging_test
