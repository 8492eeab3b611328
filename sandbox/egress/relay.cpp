#include "sandbox/egress/relay.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <limits>
#include <memory>

#include "sandbox/base/fd.h"
#include "sandbox/egress/coroutines.h"
#include "sandbox/egress/network_record.h"

namespace safeinstall::sandbox {
namespace {

using namespace asio::experimental::awaitable_operators;

// Bulk transfers move through a pipe with splice(2): the bytes never enter the supervisor's
// memory, and copying them in and out again (two copies per byte) was most of what relaying
// cost on a fast link (bench/p4-gateway.sh, 1 GiB over loopback: supervisor CPU 0.8 s per GiB
// copying, 0.33 s splicing; throughput 0.65 of direct copying, 0.85-0.9 splicing).
// A direction's first bytes are still copied through a buffer, so the many small exchanges
// of a typical install cost no pipe: two more descriptors per direction, under the same
// descriptor limit as the connections themselves. Without a pipe (EMFILE) it copies on.
constexpr std::uint64_t kSpliceAfterBytes = 256 * 1024;
// What a pipe is asked to hold: the default 64 KiB costs half again as much CPU per GiB as
// 1 MiB (fewer, larger sends). It holds page references, not copies, and only while bytes
// are in flight; past fs.pipe-max-size or the user's pipe quota the kernel's smaller default
// pipe is used instead.
constexpr std::size_t kSplicePipeBytes = 1024 * 1024;

void close_both(tcp::socket& a, tcp::socket& b) {
  boost::system::error_code ignored;
  a.close(ignored);
  b.close(ignored);
}

class SplicePipe {
 public:
  explicit SplicePipe(std::size_t capacity) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return;  // e.g. EMFILE: copy instead
    read_.reset(fds[0]);
    write_.reset(fds[1]);
    // Best effort: a bigger pipe means fewer, larger calls; the default works too.
    int size = ::fcntl(write_.get(), F_SETPIPE_SZ, static_cast<int>(capacity));
    if (size <= 0) size = ::fcntl(write_.get(), F_GETPIPE_SZ);
    capacity_ = size > 0 ? static_cast<std::size_t>(size) : 64 * 1024;
  }
  bool valid() const { return read_.valid() && write_.valid(); }
  int read_end() const { return read_.get(); }
  int write_end() const { return write_.get(); }
  std::size_t capacity() const { return capacity_; }

 private:
  UniqueFd read_;
  UniqueFd write_;
  std::size_t capacity_ = 0;
};

// splice(2) into a socket whose peer is gone raises SIGPIPE (it has no MSG_NOSIGNAL), which
// would end the supervisor: the signal is blocked around the call, and one the call raised
// is taken back off the thread before the old mask returns.
ssize_t splice_into_socket(int pipe_read, int socket, std::size_t length) {
  sigset_t pipe_only;
  sigset_t previous;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
  ssize_t n =
      ::splice(pipe_read, nullptr, socket, nullptr, length, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  int error = errno;
  if (n < 0 && error == EPIPE && sigismember(&previous, SIGPIPE) == 0) {
    timespec now{};
    while (::sigtimedwait(&pipe_only, nullptr, &now) < 0 && errno == EINTR) {
    }
  }
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  errno = error;
  return n;
}

enum class Moved { Some, End, Failed };

// Moves at most `want` bytes from `from` through the pipe into `to`, waiting for either side
// as needed. The pipe is empty before and after.
asio::awaitable<Moved> splice_some(tcp::socket& from, tcp::socket& to, const SplicePipe& pipe,
                                   std::size_t want, std::uint64_t& counter,
                                   ActivityClock& activity) {
  ssize_t n = 0;
  while (true) {
    n = ::splice(from.native_handle(), nullptr, pipe.write_end(), nullptr, want,
                 SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    if (errno != EAGAIN) co_return Moved::Failed;
    auto [ec] = co_await from.async_wait(tcp::socket::wait_read, kNoThrow);
    if (ec) co_return Moved::Failed;
  }
  if (n == 0) co_return Moved::End;
  activity.touch();
  auto held = static_cast<std::size_t>(n);
  while (held > 0) {
    ssize_t m = splice_into_socket(pipe.read_end(), to.native_handle(), held);
    if (m < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) co_return Moved::Failed;
      auto [ec] = co_await to.async_wait(tcp::socket::wait_write, kNoThrow);
      if (ec) co_return Moved::Failed;
      continue;
    }
    held -= static_cast<std::size_t>(m);
    counter += static_cast<std::uint64_t>(m);
    activity.touch();
  }
  co_return Moved::Some;
}

// The sockets must not block in splice(2): Asio only sets O_NONBLOCK on its own terms.
bool make_non_blocking(tcp::socket& a, tcp::socket& b) {
  boost::system::error_code ec;
  a.native_non_blocking(true, ec);
  if (!ec) b.native_non_blocking(true, ec);
  return !ec;
}

// Copies through one buffer until `limit` bytes have passed (Some), the sender is done (End:
// the write side is shut down after it) or either side fails (Failed: both are closed).
asio::awaitable<Moved> copy_through_buffer(tcp::socket& from, tcp::socket& to,
                                           std::uint64_t& counter, ActivityClock& activity,
                                           std::size_t buffer_bytes, std::uint64_t limit) {
  // Allocated here, not per read: uninitialised, so untouched pages cost no memory.
  std::unique_ptr<char[]> buffer(new char[buffer_bytes]);
  for (std::uint64_t moved = 0; moved < limit;) {
    auto [read_error, n] =
        co_await from.async_read_some(asio::buffer(buffer.get(), buffer_bytes), kNoThrow);
    if (read_error == asio::error::eof) {
      boost::system::error_code ignored;
      to.shutdown(tcp::socket::shutdown_send, ignored);
      co_return Moved::End;
    }
    if (read_error) {
      close_both(from, to);
      co_return Moved::Failed;
    }
    activity.touch();
    auto [write_error, written] =
        co_await asio::async_write(to, asio::buffer(buffer.get(), n), kNoThrow);
    counter += written;
    moved += written;
    if (write_error) {
      close_both(from, to);
      co_return Moved::Failed;
    }
    activity.touch();
  }
  co_return Moved::Some;
}

// Copies through a buffer until the direction has carried kSpliceAfterBytes, then splices.
asio::awaitable<void> pump(tcp::socket& from, tcp::socket& to, std::uint64_t& counter,
                           ActivityClock& activity, std::size_t buffer_bytes) {
  if (co_await copy_through_buffer(from, to, counter, activity, buffer_bytes, kSpliceAfterBytes) !=
      Moved::Some)
    co_return;
  SplicePipe pipe(kSplicePipeBytes);
  if (!pipe.valid() || !make_non_blocking(from, to)) {
    // Out of descriptors: copy on, as above, without the switch.
    co_await copy_through_buffer(from, to, counter, activity, buffer_bytes,
                                 std::numeric_limits<std::uint64_t>::max());
    co_return;
  }
  while (true) {
    Moved result = co_await splice_some(from, to, pipe, pipe.capacity(), counter, activity);
    if (result == Moved::End) {
      boost::system::error_code ignored;
      to.shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
    if (result == Moved::Failed) {
      close_both(from, to);
      co_return;
    }
  }
}

}  // namespace

asio::awaitable<void> relay_both_ways(tcp::socket& client, tcp::socket& upstream,
                                      ContactedHost& counts, ActivityClock& activity,
                                      std::size_t buffer_bytes) {
  co_await (pump(client, upstream, counts.bytes_sent, activity, buffer_bytes) &&
            pump(upstream, client, counts.bytes_received, activity, buffer_bytes));
}

asio::awaitable<bool> relay_exactly(tcp::socket& from, tcp::socket& to, std::uint64_t length,
                                    std::uint64_t& counter, ActivityClock& activity,
                                    std::size_t buffer_bytes) {
  if (length >= kSpliceAfterBytes) {
    SplicePipe pipe(kSplicePipeBytes);
    if (pipe.valid() && make_non_blocking(from, to)) {
      while (length > 0) {
        auto want = static_cast<std::size_t>(std::min<std::uint64_t>(length, pipe.capacity()));
        std::uint64_t before = counter;
        Moved result = co_await splice_some(from, to, pipe, want, counter, activity);
        length -= counter - before;
        if (result != Moved::Some) co_return false;
      }
      co_return true;
    }
  }
  std::unique_ptr<char[]> buffer(new char[buffer_bytes]);
  while (length > 0) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(length, buffer_bytes));
    auto [read_error, n] =
        co_await from.async_read_some(asio::buffer(buffer.get(), want), kNoThrow);
    if (read_error) co_return false;
    auto [write_error, written] =
        co_await asio::async_write(to, asio::buffer(buffer.get(), n), kNoThrow);
    if (write_error) co_return false;
    counter += written;
    length -= written;
    activity.touch();
  }
  co_return true;
}

asio::awaitable<bool> send_upstream(tcp::socket& upstream, std::span<const std::uint8_t> bytes,
                                    ContactedHost& counts, ActivityClock& activity) {
  if (bytes.empty()) co_return true;
  auto [ec, written] =
      co_await asio::async_write(upstream, asio::buffer(bytes.data(), bytes.size()), kNoThrow);
  counts.bytes_sent += written;
  activity.touch();
  co_return !ec;
}

}  // namespace safeinstall::sandbox
