#include "sandbox/base/proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <memory>

#include "sandbox/base/fd.h"

namespace safeinstall {
namespace {

constexpr std::size_t kMaxStatBytes = 4096;
constexpr std::size_t kMaxStatusBytes = 16384;

std::optional<long long> whole_number(std::string_view text) {
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// The number after "Name:" on the line of /proc/PID/status that starts with it; with
// `last`, the last number on that line (NSpid lists one pid per namespace level).
pid_t status_value(std::string_view status, std::string_view name, bool last) {
  for (std::size_t start = 0; start < status.size();) {
    std::size_t end = std::min(status.find('\n', start), status.size());
    std::string_view line = status.substr(start, end - start);
    start = end + 1;
    if (!line.starts_with(name)) continue;
    line.remove_prefix(name.size());
    std::size_t from = last ? line.find_last_of(" \t") : line.find_first_not_of(" \t");
    if (from == std::string_view::npos) return 0;
    if (last) ++from;
    auto value = whole_number(line.substr(from, line.find_first_of(" \t", from) - from));
    return value ? static_cast<pid_t>(*value) : 0;
  }
  return 0;
}

}  // namespace

std::string proc_path(pid_t pid, std::string_view what) {
  std::string path = "/proc/" + std::to_string(pid) + "/";
  path += what;
  return path;
}

std::string read_proc_file(const std::string& path, std::size_t max_bytes) {
  sandbox::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  std::string text(max_bytes, '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  return text;
}

std::string read_proc_link(const std::string& path) {
  std::array<char, 4096> buffer{};
  ssize_t n = ::readlink(path.c_str(), buffer.data(), buffer.size());
  return n > 0 ? std::string(buffer.data(), static_cast<std::size_t>(n)) : std::string();
}

std::vector<std::string> read_proc_argv(pid_t pid, std::size_t max_bytes) {
  std::string raw = read_proc_file(proc_path(pid, "cmdline"), max_bytes);
  std::vector<std::string> argv;
  for (std::size_t start = 0; start < raw.size();) {
    std::size_t end = std::min(raw.find('\0', start), raw.size());
    argv.push_back(raw.substr(start, end - start));
    start = end + 1;
  }
  return argv;
}

StatFields::StatFields(std::string_view line) {
  std::size_t open = line.find('(');
  std::size_t close = line.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return;
  std::string_view pid = line.substr(0, open);
  while (pid.ends_with(' ')) pid.remove_suffix(1);
  fields_.push_back(pid);
  fields_.push_back(line.substr(open + 1, close - open - 1));
  std::string_view rest = line.substr(close + 1);
  while (!rest.empty()) {
    std::size_t start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    std::size_t end = std::min(rest.find_first_of(" \n"), rest.size());
    fields_.push_back(rest.substr(0, end));
    rest.remove_prefix(end);
  }
}

std::string StatFields::read(pid_t pid) {
  return read_proc_file(proc_path(pid, "stat"), kMaxStatBytes);
}

std::string StatFields::read_own() {
  return read_proc_file("/proc/self/stat", kMaxStatBytes);
}

std::optional<std::string_view> StatFields::text(int number) const {
  if (number < 1 || static_cast<std::size_t>(number) > fields_.size()) return std::nullopt;
  return fields_[static_cast<std::size_t>(number - 1)];
}

std::optional<long long> StatFields::number(int number) const {
  auto field = text(number);
  return field ? whole_number(*field) : std::nullopt;
}

ProcIds read_proc_ids(pid_t pid) {
  // One read: /proc/PID/status is one record, which the first read gives whole (up to the
  // buffer); a second read only to see its end would double the calls of a hot path.
  sandbox::UniqueFd fd(::open(proc_path(pid, "status").c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  std::array<char, kMaxStatusBytes> buffer;
  ssize_t n = 0;
  do {
    n = ::read(fd.get(), buffer.data(), buffer.size());
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return {};
  std::string_view status(buffer.data(), static_cast<std::size_t>(n));
  return {status_value(status, "NSpid:", true), status_value(status, "PPid:", false)};
}

std::vector<pid_t> list_proc_pids() {
  std::vector<pid_t> pids;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/proc"), ::closedir);
  if (!dir) return pids;
  while (auto* entry = ::readdir(dir.get())) {
    std::string_view name = entry->d_name;
    if (name.find_first_not_of("0123456789") != std::string_view::npos) continue;
    if (auto pid = whole_number(name)) pids.push_back(static_cast<pid_t>(*pid));
  }
  return pids;
}

}  // namespace safeinstall
