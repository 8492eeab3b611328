#pragma once
// What was left in a throwaway directory (the sandbox's home or /tmp) when the command
// exited: read from inside the sandbox, since those trees vanish with it.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace safeinstall::sandbox {

struct WrittenFile {
  std::string path;        // relative to the walked directory
  std::uint32_t mode = 0;  // st_mode: type and permission bits
  std::uint64_t size = 0;
};

// Walks `dir` without following symlinks or crossing into other mounts (toolchain binds,
// the project), returning at most `limit` entries; the directory itself is not listed.
std::vector<WrittenFile> list_written_files(const std::string& dir, std::size_t limit);

}  // namespace safeinstall::sandbox
