#include "tests/support/registry_files.h"

#include <openssl/evp.h>
#include <sys/stat.h>
#include <utime.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/support/run.h"

namespace safeinstall::test::registry_files {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// 2000-01-01T00:00:00Z: after zip's 1980 epoch, and the same in every archive.
constexpr time_t kFixedTime = 946684800;

std::string raw_digest(Digest digest, std::string_view bytes) {
  const EVP_MD* md = digest == Digest::Sha1     ? EVP_sha1()
                     : digest == Digest::Sha256 ? EVP_sha256()
                                                : EVP_sha512();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), out, &size, md, nullptr) != 1)
    throw std::runtime_error("registry: EVP_Digest failed");
  return std::string(reinterpret_cast<const char*>(out), size);
}

// Every regular file under `dir`, relative to it, sorted: archive order must not depend on
// the order the file system lists them in.
std::vector<std::string> files_under(const fs::path& dir, const std::vector<std::string>& entries) {
  std::vector<std::string> files;
  for (const auto& entry : entries) {
    fs::path top = dir / entry;
    if (fs::is_regular_file(top)) {
      files.push_back(entry);
      continue;
    }
    for (const auto& item : fs::recursive_directory_iterator(top)) {
      if (item.is_regular_file()) files.push_back(fs::relative(item.path(), dir).string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

void write_file(const fs::path& path, std::string_view content, bool executable) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) throw std::runtime_error("registry: cannot write " + path.string());
  fs::permissions(path,
                  executable
                      ? fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec
                      : fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                            fs::perms::others_read,
                  fs::perm_options::replace, ec);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("registry: cannot read " + path.string());
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string digest_hex(Digest digest, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw_digest(digest, bytes)) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

std::string digest_base64(Digest digest, std::string_view bytes) {
  return base64(raw_digest(digest, bytes));
}

std::string run_checked(const std::vector<std::string>& argv, const std::string& context,
                        const std::string& cwd, const std::vector<std::string>& env_overrides) {
  RunOptions options;
  options.cwd = cwd;
  options.env_overrides = env_overrides;
  options.timeout = 120s;
  RunResult result = run(argv, options);
  if (result.exit_code != 0) {
    std::string command;
    for (const auto& word : argv) command += (command.empty() ? "" : " ") + word;
    throw std::runtime_error(context + ": `" + command + "` failed (exit " +
                             std::to_string(result.exit_code) + "): " + result.err + result.out);
  }
  return result.out;
}

void fix_times(const fs::path& dir) {
  auto fix = [](const fs::path& path) {
    struct utimbuf times {
      kFixedTime, kFixedTime
    };
    if (::utime(path.c_str(), &times) != 0)
      throw std::runtime_error("registry: cannot set the time of " + path.string());
  };
  for (const auto& item : fs::recursive_directory_iterator(dir)) fix(item.path());
  fix(dir);
}

void make_tar_gz(const fs::path& dir, const std::vector<std::string>& entries,
                 const fs::path& output, const std::string& context) {
  std::error_code ec;
  fs::create_directories(output.parent_path(), ec);
  std::vector<std::string> argv{"tar",
                                "--sort=name",
                                "--format=gnu",
                                "--mtime=@" + std::to_string(kFixedTime),
                                "--owner=0",
                                "--group=0",
                                "--numeric-owner",
                                "--mode=u+rwX,go+rX,go-w",
                                "--use-compress-program=gzip -n -9",
                                "-cf",
                                fs::absolute(output).string(),
                                "--"};
  argv.insert(argv.end(), entries.begin(), entries.end());
  run_checked(argv, context, dir.string());
}

void make_zip(const fs::path& dir, const std::vector<std::string>& entries, const fs::path& output,
              const std::string& context) {
  std::error_code ec;
  fs::create_directories(output.parent_path(), ec);
  fs::path absolute = fs::absolute(output);
  fs::remove(absolute, ec);  // zip would add to an existing archive
  fix_times(dir);
  std::vector<std::string> argv{"zip", "-q", "-X", "-D", absolute.string(), "--"};
  for (const auto& file : files_under(dir, entries)) argv.push_back(file);
  run_checked(argv, context, dir.string(), {"TZ=UTC"});
}

}  // namespace safeinstall::test::registry_files
