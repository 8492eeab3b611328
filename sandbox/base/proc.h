#pragma once
// Reading another process's /proc entries. The process may exit or be reaped mid-read: every
// reader then gives back what it got (empty), never throws, and reads no more than it is
// told, since what a process put in its argv or name is not ours to trust.

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace safeinstall {

// "/proc/PID/WHAT".
std::string proc_path(pid_t pid, std::string_view what);

// At most `max_bytes` of a /proc file, read with read(2); "" when it cannot be opened.
std::string read_proc_file(const std::string& path, std::size_t max_bytes);

// Where a /proc link (cwd, root, fd/N) points; "" when it cannot be read.
std::string read_proc_link(const std::string& path);

// A process's argv from /proc/PID/cmdline, reading no more than `max_bytes` of it: the last
// argument of a longer one comes back cut.
std::vector<std::string> read_proc_argv(pid_t pid, std::size_t max_bytes);

// The fields of a /proc/PID/stat line, numbered from 1 as in proc(5). The command name
// (field 2) may hold spaces and parentheses: it is what lies between the first '(' and the
// last ')', given without them, and the other fields are counted from that last ')'.
class StatFields {
 public:
  explicit StatFields(std::string_view line);
  // /proc/PID/stat of `pid`; "/proc/self/stat" for the caller itself.
  static std::string read(pid_t pid);
  static std::string read_own();

  std::optional<std::string_view> text(int number) const;
  // nullopt when the field is missing or not a whole decimal number.
  std::optional<long long> number(int number) const;

 private:
  std::vector<std::string_view> fields_;
};

// The ids /proc/PID/status gives: the pid inside the innermost pid namespace (the last
// NSpid field) and the parent's pid as the reader sees it (PPid); 0 when unknown.
struct ProcIds {
  pid_t inner = 0;
  pid_t ppid = 0;
};
ProcIds read_proc_ids(pid_t pid);

// The pids /proc lists: every process of the reader's pid namespace.
std::vector<pid_t> list_proc_pids();

}  // namespace safeinstall
