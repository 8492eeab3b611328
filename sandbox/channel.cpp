#include "sandbox/channel.h"

#include <sys/socket.h>

#include <array>
#include <nlohmann/json.hpp>

namespace safeinstall::sandbox {
namespace {

constexpr std::size_t kMaxPacket = 64 * 1024;

nlohmann::json to_json(const SandboxEvent& e) {
  return {{"type", static_cast<int>(e.type)},
          {"step", e.step},
          {"hint", e.hint},
          {"err", e.err},
          {"pid", e.pid},
          {"ppid", e.ppid},
          {"argv", e.argv},
          {"wait_status", e.wait_status},
          {"area", e.area},
          {"path", e.path},
          {"mode", e.mode},
          {"size", e.size},
          {"listener_fd", e.listener_fd}};
}

SandboxEvent from_json(const nlohmann::json& j) {
  SandboxEvent e;
  e.type = static_cast<SandboxEvent::Type>(j.at("type").get<int>());
  e.step = j.at("step").get<std::string>();
  e.hint = j.at("hint").get<std::string>();
  e.err = j.at("err").get<int>();
  e.pid = j.at("pid").get<pid_t>();
  e.ppid = j.at("ppid").get<pid_t>();
  e.argv = j.at("argv").get<std::vector<std::string>>();
  e.wait_status = j.at("wait_status").get<int>();
  e.area = j.at("area").get<std::string>();
  e.path = j.at("path").get<std::string>();
  e.mode = j.at("mode").get<std::uint32_t>();
  e.size = j.at("size").get<std::uint64_t>();
  e.listener_fd = j.value("listener_fd", -1);
  return e;
}

}  // namespace

bool send_event(int fd, const SandboxEvent& event) {
  std::string packet =
      to_json(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (packet.size() > kMaxPacket) return false;
  ssize_t n;
  do {
    n = ::send(fd, packet.data(), packet.size(), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(packet.size());
}

Result<std::optional<SandboxEvent>> receive_event(int fd) {
  std::string buffer(kMaxPacket, '\0');
  ssize_t n;
  do {
    n = ::recv(fd, buffer.data(), buffer.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("read from the sandbox");
  if (n == 0) return std::optional<SandboxEvent>{};
  buffer.resize(static_cast<std::size_t>(n));
  auto parsed = nlohmann::json::parse(buffer, nullptr, false);
  if (parsed.is_discarded()) return plain_error("malformed message from the sandbox");
  try {
    return std::optional<SandboxEvent>{from_json(parsed)};
  } catch (const nlohmann::json::exception& e) {
    return plain_error(std::string("malformed message from the sandbox: ") + e.what());
  }
}

}  // namespace safeinstall::sandbox
