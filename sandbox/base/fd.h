#pragma once
// Owning file descriptors and directory streams: every fd the sandbox opens is closed
// exactly once.

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <utility>

namespace safeinstall::sandbox {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};
// An open directory stream; closing it also closes the descriptor it was made from.
using DirStream = std::unique_ptr<DIR, DirCloser>;

// `fd` as a directory stream, which then owns it. On failure the stream is empty, errno says
// why, and `fd` is closed all the same.
inline DirStream dir_stream(UniqueFd fd) {
  DIR* dir = ::fdopendir(fd.get());
  if (dir == nullptr) {
    int saved = errno;
    fd.reset();
    errno = saved;
    return DirStream();
  }
  fd.release();
  return DirStream(dir);
}

// The directory at `path`; empty on failure, errno says why.
inline DirStream open_dir_stream(const char* path) {
  return DirStream(::opendir(path));
}

}  // namespace safeinstall::sandbox
