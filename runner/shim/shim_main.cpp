// safeinstall-shim: the interpreter of the shim files `safeinstall setup` writes. The kernel
// runs it as `safeinstall-shim SHIM_FILE ARGS...`; it reads the file, and either runs the real
// tool with ARGS untouched (most calls: `npm --version`, `npm run dev`) or hands an install
// to safeinstall (`npm ci` → `safeinstall -q -- npm ci`, with the shims off PATH).
//
// Every call of a shimmed tool pays for this program's start, so it links no library beyond
// libc, initialises nothing, and decides before it allocates anything. Recursion is ruled out
// twice: the real tool is never a shim (tool_lookup.h), and the sandbox's PATH holds no shim
// directory. A hop counter in the environment stops a loop made by a third-party wrapper
// that calls the tool by name again.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "runner/exit_codes.h"
#include "runner/shim/shim_route.h"
#include "runner/shim/shim_table.h"
#include "runner/shim/tool_lookup.h"
#include "sandbox/base/fd.h"

namespace {

using namespace safeinstall::runner;

constexpr const char* kHopsVariable = "SAFEINSTALL_SHIM_HOPS";
constexpr int kMaxHops = 32;
constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

int fail(const char* what, const char* detail) {
  std::fprintf(stderr, "safeinstall-shim: %s%s\n", what, detail);
  return exit_code::kSafeinstallFailed;
}

// The shim file's text into `buffer`, and its identity into `self`.
bool read_shim_file(const char* path, char (&buffer)[kMaxShimFileBytes], std::size_t& size,
                    struct stat& self) {
  safeinstall::sandbox::UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd || ::fstat(fd.get(), &self) != 0) return false;
  size = 0;
  while (size < sizeof buffer) {
    ssize_t n = ::read(fd.get(), buffer + size, sizeof buffer - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    size += static_cast<std::size_t>(n);
  }
  return false;  // larger than any shim file
}

// Counts the shim calls in one chain of processes; false past kMaxHops.
bool count_hop() {
  const char* value = std::getenv(kHopsVariable);
  int hops = value == nullptr ? 0 : std::atoi(value);
  if (hops >= kMaxHops) return false;
  char text[16];
  std::snprintf(text, sizeof text, "%d", hops + 1);
  ::setenv(kHopsVariable, text, 1);
  return true;
}

const char* leaf_of(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash == nullptr ? path : slash + 1;
}

// `safeinstall -q -- TOOL ARGS...` with a PATH that reaches no shim: the sandbox finds the
// same real tool by its name as the lookup did (every directory holding a shim of it is gone),
// and the receipt shows the command as it was typed.
int run_in_sandbox(const ShimTable& table, const char* path_list, const struct stat& self, int argc,
                   char** argv) {
  std::string safeinstall(table.safeinstall);
  std::string tool(table.tool);
  std::string path = path_without_shims(path_list, table.tool, self);
  ::setenv("PATH", path.c_str(), 1);
  std::vector<const char*> args{safeinstall.c_str(), "-q", "--", tool.c_str()};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  ::execv(safeinstall.c_str(), const_cast<char* const*>(args.data()));
  std::fprintf(stderr, "safeinstall-shim: cannot run %s: %s\n", safeinstall.c_str(),
               std::strerror(errno));
  return exit_code::kSafeinstallFailed;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2)
    return fail("usage: safeinstall-shim SHIM_FILE [ARGS...] ",
                "(the interpreter of the shims `safeinstall setup` writes)");
  char buffer[kMaxShimFileBytes];
  std::size_t size = 0;
  struct stat self {};
  ShimTable table;
  if (!read_shim_file(argv[1], buffer, size, self) ||
      !parse_shim_table(std::string_view(buffer, size), table))
    return fail("not a safeinstall shim file: ", argv[1]);
  if (!count_hop())
    return fail("the shim was entered 32 times in one chain of processes; a wrapper of the ",
                "tool probably calls it by name again (see SAFEINSTALL_SHIM_HOPS)");
  const char* path_list = std::getenv("PATH");
  if (path_list == nullptr) path_list = kDefaultPath;
  char real[PATH_MAX];
  if (!find_real_tool(path_list, table.tool, self, real)) {
    std::fprintf(stderr,
                 "safeinstall-shim: %.*s: not found on PATH (besides safeinstall's shims)\n",
                 static_cast<int>(table.tool.size()), table.tool.data());
    return exit_code::kNotFound;
  }
  std::span<const char* const> args(const_cast<const char* const*>(argv + 2),
                                    static_cast<std::size_t>(argc - 2));
  if (route_of(table, args) == Route::sandbox)
    return run_in_sandbox(table, path_list, self, argc, argv);
  // The tool itself, as if there were no shim: argv[0] its name, the arguments untouched.
  argv[1] = const_cast<char*>(leaf_of(real));
  ::execv(real, argv + 1);
  int failed = errno;
  std::fprintf(stderr, "safeinstall-shim: cannot run %s: %s\n", real, std::strerror(failed));
  return failed == ENOENT ? exit_code::kNotFound : exit_code::kNotExecutable;
}
