#pragma once
// A scratch directory (under /tmp unless asked) that is gone when the test is, whatever the test
// did inside it (read-only files and directories included).

#include <sys/types.h>

#include <string>

namespace safeinstall::test {

class TempDir {
 public:
  // Creates <parent>/<prefix>-XXXXXX, mode 0700; throws std::system_error on failure.
  explicit TempDir(const std::string& prefix = "si-test", const std::string& parent = "/tmp");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

  // lchown of the directory and everything under it, for tests that hand the tree to an
  // unprivileged user. Symlinks are changed themselves, never followed. Throws on failure.
  void chown_to(uid_t uid, gid_t gid) const;
  void chown_to(uid_t uid) const { chown_to(uid, static_cast<gid_t>(uid)); }

 private:
  std::string path_;
};

}  // namespace safeinstall::test
