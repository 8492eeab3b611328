#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>

#include "runner/supervise/unix_socket_policy.h"

using namespace safeinstall::runner;
namespace fs = std::filesystem;

namespace {

struct Listener {
  int fd = -1;
  explicit Listener(const std::string& path) {
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address = to_address(path);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  }
  ~Listener() { ::close(fd); }
  static sockaddr_un to_address(const std::string& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.data(), std::min(path.size(), sizeof address.sun_path - 1));
    return address;
  }
};

std::optional<std::string> ask(const UnixSocketPolicy& policy, const std::string& path) {
  sockaddr_un address = Listener::to_address(path);
  return policy.outside(::getpid(), reinterpret_cast<const char*>(&address), sizeof address);
}

}  // namespace

TEST_CASE("unix socket policy: an existing socket outside the own places is named") {
  fs::path dir = fs::temp_directory_path() / ("si-sock-" + std::to_string(::getpid()));
  fs::create_directories(dir / "own");
  fs::create_directories(dir / "other");
  {
    Listener own((dir / "own/a.sock").string());
    Listener other((dir / "other/b.sock").string());
    fs::create_symlink(dir / "other/b.sock", dir / "own/link.sock");
    UnixSocketPolicy policy({(dir / "own").string()});
    CHECK_FALSE(ask(policy, (dir / "own/a.sock").string()));
    CHECK(ask(policy, (dir / "other/b.sock").string()) == (dir / "other/b.sock").string());
    // Through a link or "..", it is still where it really is.
    CHECK(ask(policy, (dir / "own/link.sock").string()) == (dir / "other/b.sock").string());
    CHECK(ask(policy, (dir / "own/../other/b.sock").string()) == (dir / "other/b.sock").string());
    // Nothing there: the call fails by itself, nothing to refuse.
    CHECK_FALSE(ask(policy, (dir / "other/missing.sock").string()));
    // Abstract and unnamed sockets belong to the sandbox's own network namespace.
    sockaddr_un abstract{};
    abstract.sun_family = AF_UNIX;
    std::memcpy(abstract.sun_path + 1, "x", 1);
    CHECK_FALSE(policy.outside(::getpid(), reinterpret_cast<const char*>(&abstract),
                               offsetof(sockaddr_un, sun_path) + 2));
    CHECK_FALSE(
        policy.outside(::getpid(), reinterpret_cast<const char*>(&abstract), sizeof(sa_family_t)));
    // Not a unix address at all.
    sockaddr_in inet{};
    inet.sin_family = AF_INET;
    CHECK_FALSE(policy.outside(::getpid(), reinterpret_cast<const char*>(&inet), sizeof inet));
  }
  fs::remove_all(dir);
}
