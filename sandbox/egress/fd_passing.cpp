#include "sandbox/egress/fd_passing.h"

#include <sys/socket.h>

#include <array>
#include <cstring>

namespace safeinstall::sandbox {
namespace {

constexpr std::size_t kLengthPrefix = 4;

// The tag travels behind a 4-byte big-endian length, so a stream socket can tell where it
// ends; the descriptors ride on the message's first byte.
std::string frame(std::string_view tag) {
  std::string out(kLengthPrefix, '\0');
  auto length = static_cast<std::uint32_t>(tag.size());
  for (std::size_t i = 0; i < kLengthPrefix; ++i) {
    out[i] = static_cast<char>((length >> (8 * (kLengthPrefix - 1 - i))) & 0xff);
  }
  return out + std::string(tag);
}

std::uint32_t read_length(const char* bytes) {
  std::uint32_t length = 0;
  for (std::size_t i = 0; i < kLengthPrefix; ++i) {
    length = (length << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return length;
}

void collect_fds(msghdr& message, std::vector<UniqueFd>& out) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      out.emplace_back(fd);
    }
  }
}

}  // namespace

Result<> send_fds(int socket, std::string_view tag, std::span<const int> fds) {
  if (fds.empty() || fds.size() > kMaxPassedFds) {
    return plain_error("pass " + std::to_string(fds.size()) + " descriptors: between 1 and " +
                       std::to_string(kMaxPassedFds) + " can be sent at once");
  }
  if (tag.size() > kMaxFdTag) return plain_error("pass descriptors: the tag is too long");
  std::string payload = frame(tag);
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()), 0);
  iovec io{payload.data(), payload.size()};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  message.msg_control = control.data();
  message.msg_controllen = control.size();
  cmsghdr* c = CMSG_FIRSTHDR(&message);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());

  ssize_t sent;
  do {
    sent = ::sendmsg(socket, &message, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0)
    return sys_error("send " + std::to_string(fds.size()) + " descriptors (" + std::string(tag) +
                     ")");
  // A stream socket may take the message in pieces; the descriptors went with the first.
  for (auto done = static_cast<std::size_t>(sent); done < payload.size();) {
    ssize_t n = ::send(socket, payload.data() + done, payload.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("send the tag of passed descriptors");
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<ReceivedFds> receive_fds(int socket, std::size_t max_fds) {
  ReceivedFds received;
  std::vector<char> payload(kLengthPrefix + kMaxFdTag);
  std::vector<char> control(CMSG_SPACE(sizeof(int) * max_fds), 0);
  // On a stream socket read no further than the length prefix at first, so bytes of what
  // follows on the stream stay unread; packet sockets deliver the message whole.
  int type = 0;
  socklen_t type_size = sizeof(type);
  if (::getsockopt(socket, SOL_SOCKET, SO_TYPE, &type, &type_size) != 0) {
    return sys_error("receive passed descriptors: read the socket type");
  }
  iovec io{payload.data(), type == SOCK_STREAM ? kLengthPrefix : payload.size()};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  message.msg_control = control.data();
  message.msg_controllen = control.size();

  ssize_t n;
  do {
    n = ::recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("receive passed descriptors");
  collect_fds(message, received.fds);  // owned from here on, whatever fails next
  if (n == 0) return plain_error("receive passed descriptors: the sender closed the socket first");
  if ((message.msg_flags & MSG_CTRUNC) != 0) {
    return plain_error("receive passed descriptors: more than " + std::to_string(max_fds) +
                       " arrived (the rest were dropped)");
  }
  if ((message.msg_flags & MSG_TRUNC) != 0) {
    return plain_error("receive passed descriptors: the message was longer than allowed");
  }
  auto have = static_cast<std::size_t>(n);
  auto read_more = [&](std::size_t wanted) -> Result<> {
    while (have < wanted) {
      ssize_t m = ::recv(socket, payload.data() + have, wanted - have, 0);
      if (m < 0 && errno == EINTR) continue;
      if (m < 0) return sys_error("receive the tag of passed descriptors");
      if (m == 0) return plain_error("receive passed descriptors: the message was cut short");
      have += static_cast<std::size_t>(m);
    }
    return {};
  };
  if (auto ok = read_more(kLengthPrefix); !ok) return propagate(ok);
  std::uint32_t length = read_length(payload.data());
  if (length > kMaxFdTag) return plain_error("receive passed descriptors: the tag is too long");
  if (auto ok = read_more(kLengthPrefix + length); !ok) return propagate(ok);
  if (received.fds.empty()) return plain_error("receive passed descriptors: none arrived");
  received.tag.assign(payload.data() + kLengthPrefix, length);
  return received;
}

}  // namespace safeinstall::sandbox
