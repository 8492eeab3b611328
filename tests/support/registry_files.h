#pragma once
// What the package registry builders (npm_registry.h, ecosystem_registries.h) share: writing
// files, hashing them, and packing archives deterministically with the real tools.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace safeinstall::test::registry_files {

// Creates parent directories; mode 0644 (or 0755 with `executable`). Throws with the path.
void write_file(const std::filesystem::path& path, std::string_view content,
                bool executable = false);
std::string read_file(const std::filesystem::path& path);

enum class Digest { Sha1, Sha256, Sha512 };
std::string digest_hex(Digest digest, std::string_view bytes);
std::string digest_base64(Digest digest, std::string_view bytes);
std::string base64(std::string_view bytes);

// Runs argv (in `cwd` if given); throws std::runtime_error with `context`, the command and its
// output if it fails. Returns stdout.
std::string run_checked(const std::vector<std::string>& argv, const std::string& context,
                        const std::string& cwd = {},
                        const std::vector<std::string>& env_overrides = {});

// `tar` + `gzip -n` of `entries` (relative to `dir`) into `output`, with fixed times, owners,
// modes and order: the same tree always gives the same bytes.
void make_tar_gz(const std::filesystem::path& dir, const std::vector<std::string>& entries,
                 const std::filesystem::path& output, const std::string& context);
// `zip -X -r` of `entries` (relative to `dir`) into `output`, with fixed times and order.
void make_zip(const std::filesystem::path& dir, const std::vector<std::string>& entries,
              const std::filesystem::path& output, const std::string& context);

// Sets every file's and directory's mtime under `dir` (and `dir` itself) to a fixed instant,
// so archives and tools that record times give the same bytes each time.
void fix_times(const std::filesystem::path& dir);

}  // namespace safeinstall::test::registry_files
