#include "tests/support/temp_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>
#include <vector>

namespace safeinstall::test {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// A sandboxed command or an unprivileged test may leave directories without write or search
// permission; remove_all would then fail half way and leak the rest of the tree.
void make_removable(const fs::path& root) {
  std::error_code ec;
  fs::permissions(root, fs::perms::owner_all, fs::perm_options::add, ec);
  for (auto it = fs::recursive_directory_iterator(
           root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec))
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  }
}

}  // namespace

TempDir::TempDir(const std::string& prefix, const std::string& parent) {
  std::string pattern = parent + "/" + prefix + "-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) throw_errno("mkdtemp " + pattern);
  path_ = buffer.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  make_removable(path_);
  fs::remove_all(path_, ec);  // a destructor has no one to report to; /tmp is cleaned anyway
}

void TempDir::chown_to(uid_t uid, gid_t gid) const {
  if (::lchown(path_.c_str(), uid, gid) != 0) throw_errno("lchown " + path_);
  for (const auto& entry : fs::recursive_directory_iterator(path_)) {
    if (::lchown(entry.path().c_str(), uid, gid) != 0)
      throw_errno("lchown " + entry.path().string());
  }
}

}  // namespace safeinstall::test
