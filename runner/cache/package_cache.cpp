#include "runner/cache/package_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>

#include "runner/cache/cacache.h"
#include "runner/fs/digest.h"
#include "runner/fs/fs_tree.h"
#include "runner/fs/user_dirs.h"
#include "runner/staging/change_list.h"
#include "runner/staging/staging_usage.h"

namespace safeinstall::runner {
namespace {

using sandbox::UniqueFd;

// A bucket is a few entries; one that is not is not npm's.
constexpr std::size_t kMaxBucketBytes = 16 << 20;
constexpr mode_t kFileMode = 0644;  // the root is 0700: nobody else gets in anyway
constexpr mode_t kDirMode = 0755;

Result<void> make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return sys_error("create " + path);
  return {};
}

// Reads a whole regular file beneath `rootfd`; nullopt when nothing is there.
Result<std::optional<std::string>> read_beneath(int rootfd, const std::string& relative,
                                                const std::string& shown) {
  auto fd = open_beneath(rootfd, relative, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, shown);
  if (!fd) {
    if (fd.error().err == ENOENT) return std::optional<std::string>();
    return propagate(fd);
  }
  auto content = read_whole_file(fd->get(), kMaxBucketBytes, shown);
  if (!content) return propagate(content);
  return std::optional<std::string>(std::move(*content));
}

Result<std::string> digest_beneath(int rootfd, const std::string& relative,
                                   const std::string& algorithm, const std::string& shown) {
  auto fd = open_beneath(rootfd, relative, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, shown);
  if (!fd) return propagate(fd);
  return hex_digest_of_fd(algorithm, fd->get(), shown);
}

// True when both files hold the same bytes (a copy-up that changed nothing).
Result<bool> same_bytes(int upperfd, int cachefd, const std::string& relative) {
  auto a = open_beneath(upperfd, relative, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, relative);
  if (!a) return propagate(a);
  auto b = open_beneath(cachefd, relative, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, relative);
  if (!b) return b.error().err == ENOENT ? Result<bool>(false) : propagate(b);
  struct stat sa {
  }, sb{};
  if (::fstat(a->get(), &sa) != 0 || ::fstat(b->get(), &sb) != 0)
    return sys_error("stat " + relative);
  if (!S_ISREG(sa.st_mode) || !S_ISREG(sb.st_mode) || sa.st_size != sb.st_size) return false;
  std::array<char, 1 << 16> x{}, y{};
  for (;;) {
    ssize_t n = ::read(a->get(), x.data(), x.size());
    if (n < 0) return sys_error("read " + relative);
    if (n == 0) return true;
    std::size_t got = 0;
    while (got < static_cast<std::size_t>(n)) {
      ssize_t m = ::read(b->get(), y.data() + got, static_cast<std::size_t>(n) - got);
      if (m <= 0) return m < 0 ? Result<bool>(sys_error("read " + relative)) : Result<bool>(false);
      got += static_cast<std::size_t>(m);
    }
    if (!std::equal(x.begin(), x.begin() + n, y.begin())) return false;
  }
}

// The review of one cache, built change by change.
class Reviewer {
 public:
  Reviewer(const CacheStaging& cache, int upperfd, int cachefd)
      : cache_(cache), upperfd_(upperfd), cachefd_(cachefd) {}

  Result<void> add(const Change& change) {
    if (cache_.decl.format == CacheFormat::cacache &&
        cacache::classify(change.path).kind == cacache::PathKind::scratch)
      return {};  // npm's own scratch space: never merged, never judged
    if (change.change == ChangeKind::deleted) return tamper(change, "an existing entry deleted");
    if (change.type == EntryType::symlink) return tamper(change, "a symlink");
    if (change.type == EntryType::special) return tamper(change, "a special file");
    if (change.real_type && *change.real_type != change.type)
      return tamper(change, "an existing entry replaced by another kind of entry");
    if (change.type == EntryType::dir) {
      if (change.change == ChangeKind::modified && !change.opaque)
        return tamper(change, "an existing directory's permissions changed");
      return {};  // new directories come with the files merged into them
    }
    if (cache_.decl.format == CacheFormat::plain) return add_plain(change);
    return add_cacache(change);
  }

  // Index entries must name content that is in the cache or accepted in this run.
  Result<void> check_index_targets() {
    std::set<std::string> accepted(review_.new_files.begin(), review_.new_files.end());
    std::vector<BucketAppend> kept;
    for (auto& append : review_.appends) {
      auto missing = missing_content(append, accepted);
      if (!missing) return propagate(missing);
      if (!missing->empty()) {
        review_.tampering.push_back({append.path, *missing});
        continue;
      }
      kept.push_back(std::move(append));
    }
    review_.appends = std::move(kept);
    return {};
  }

  CacheReview take() { return std::move(review_); }

 private:
  Result<void> tamper(const Change& change, const std::string& problem) {
    review_.tampering.push_back({change.path.str(), problem});
    return {};
  }

  Result<void> add_plain(const Change& change) {
    if (change.change == ChangeKind::added) {
      review_.new_files.push_back(change.path.str());
      return {};
    }
    return modified_file(change);
  }

  Result<void> modified_file(const Change& change) {
    auto same = same_bytes(upperfd_, cachefd_, change.path.str());
    if (!same) return propagate(same);
    if (*same) {
      ++review_.unchanged_copies;
      return {};
    }
    return tamper(change, "an existing file rewritten");
  }

  Result<void> add_cacache(const Change& change) {
    auto info = cacache::classify(change.path);
    switch (info.kind) {
      case cacache::PathKind::content:
        return add_content(change, info.content);
      case cacache::PathKind::bucket:
        return add_bucket(change, info.bucket_hex);
      case cacache::PathKind::scratch:
        return {};
      case cacache::PathKind::layout_dir:
      case cacache::PathKind::other:
        if (change.change == ChangeKind::modified) return modified_file(change);
        review_.ignored.push_back(change.path.str());
        return {};
    }
    return {};
  }

  Result<void> add_content(const Change& change, const cacache::Hash& expected) {
    if (change.change == ChangeKind::modified) return modified_file(change);
    const std::string path = change.path.str();
    auto actual = digest_beneath(upperfd_, path, expected.algorithm, path);
    if (!actual) return propagate(actual);
    if (*actual != expected.hex)
      return tamper(change, "content whose " + expected.algorithm + " does not match its name");
    review_.new_files.push_back(change.path.str());
    return {};
  }

  Result<void> add_bucket(const Change& change, const std::string& bucket_hex) {
    const std::string path = change.path.str();
    auto staged = read_beneath(upperfd_, path, path);
    if (!staged) return propagate(staged);
    auto current = read_beneath(cachefd_, path, path);
    if (!current) return propagate(current);
    auto bucket = cacache::review_bucket(current->value_or(""), staged->value_or(""), bucket_hex);
    if (!bucket.problem.empty()) return tamper(change, bucket.problem);
    if (bucket.new_lines.empty()) {
      ++review_.unchanged_copies;
      return {};
    }
    review_.appends.push_back({path, std::move(bucket.new_lines)});
    entries_[path] = std::move(bucket.entries);
    return {};
  }

  // "" when every entry's content is there; otherwise what is missing.
  Result<std::string> missing_content(const BucketAppend& append,
                                      const std::set<std::string>& accepted) {
    for (const auto& entry : entries_[append.path]) {
      bool found = false;
      for (const auto& hash : entry.integrity) {
        std::string path = cacache::content_path(hash);
        if (accepted.contains(path)) {
          found = true;
          break;
        }
        auto fd = open_beneath(cachefd_, path, O_PATH | O_NOFOLLOW | O_CLOEXEC, path);
        if (fd) {
          found = true;
          break;
        }
        if (fd.error().err != ENOENT && fd.error().err != ENOTDIR) return propagate(fd);
      }
      if (!found)
        return "an index entry for \"" + entry.key + "\" whose content is not in the cache";
    }
    return std::string();
  }

  const CacheStaging& cache_;
  int upperfd_;
  int cachefd_;
  CacheReview review_;
  std::map<std::string, std::vector<cacache::BucketEntry>> entries_;
};

// Creates the directories of `relative`'s parent beneath `rootfd`, never following a symlink.
Result<UniqueFd> make_parent_dirs(int rootfd, const std::string& relative) {
  UniqueFd dir(::fcntl(rootfd, F_DUPFD_CLOEXEC, 0));
  if (!dir) return sys_error("duplicate a directory fd");
  std::string parent = parent_of(relative);
  std::size_t start = 0;
  while (start < parent.size()) {
    auto end = parent.find('/', start);
    if (end == std::string::npos) end = parent.size();
    std::string name = parent.substr(start, end - start);
    if (::mkdirat(dir.get(), name.c_str(), kDirMode) != 0 && errno != EEXIST)
      return sys_error("create " + parent.substr(0, end) + " in the cache");
    auto next = open_subdirectory(dir.get(), name, parent.substr(0, end));
    if (!next) return propagate(next);
    dir = std::move(*next);
    start = end + 1;
  }
  return dir;
}

Result<void> write_all(int fd, const char* data, std::size_t size, const std::string& shown) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("write " + shown);
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

// A file in the scratch dir, unlinked again unless published.
class ScratchFile {
 public:
  static Result<ScratchFile> create(int scratchfd) {
    static unsigned counter = 0;
    for (int attempt = 0; attempt < 100; ++attempt) {
      std::string name = "merge-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
      int fd =
          ::openat(scratchfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode);
      if (fd >= 0) return ScratchFile(scratchfd, std::move(name), UniqueFd(fd));
      if (errno != EEXIST) return sys_error("create a scratch file for the cache merge");
    }
    return plain_error("no free scratch file name for the cache merge");
  }
  ScratchFile(ScratchFile&& other) noexcept
      : dirfd_(other.dirfd_), name_(std::move(other.name_)), fd_(std::move(other.fd_)) {
    other.name_.clear();
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  ScratchFile& operator=(ScratchFile&&) = delete;
  ~ScratchFile() {
    if (!name_.empty()) ::unlinkat(dirfd_, name_.c_str(), 0);
  }
  int fd() const { return fd_.get(); }

  // Renames it to `leaf` in `dirfd`: replacing what is there, or (no_replace) only when
  // nothing is. Returns false when no_replace found something there.
  Result<bool> publish(int dirfd, const std::string& leaf, bool no_replace,
                       const std::string& shown) {
    fd_.reset();
    unsigned flags = no_replace ? RENAME_NOREPLACE : 0;
    if (::renameat2(dirfd_, name_.c_str(), dirfd, leaf.c_str(), flags) != 0) {
      if (no_replace && errno == EEXIST) return false;
      return sys_error("move " + shown + " into the cache");
    }
    name_.clear();
    return true;
  }

 private:
  ScratchFile(int dirfd, std::string name, UniqueFd fd)
      : dirfd_(dirfd), name_(std::move(name)), fd_(std::move(fd)) {}
  int dirfd_;
  std::string name_;
  UniqueFd fd_;
};

// Copies a staged file into a scratch file, hashing what it copies when `expected` is set.
Result<ScratchFile> copy_to_scratch(int upperfd, const std::string& relative, int scratchfd,
                                    const std::optional<cacache::Hash>& expected) {
  auto in = open_beneath(upperfd, relative, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, relative);
  if (!in) return propagate(in);
  struct stat st {};
  if (::fstat(in->get(), &st) != 0) return sys_error("stat " + relative);
  if (!S_ISREG(st.st_mode)) return plain_error(relative + " is no longer a regular file");
  auto out = ScratchFile::create(scratchfd);
  if (!out) return propagate(out);
  std::optional<Digest> digest;
  if (expected) digest = Digest::named(expected->algorithm);
  std::array<char, 1 << 16> buffer{};
  for (;;) {
    ssize_t n = ::read(in->get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read " + relative);
    if (n == 0) break;
    if (digest) digest->update({buffer.data(), static_cast<std::size_t>(n)});
    if (auto w = write_all(out->fd(), buffer.data(), static_cast<std::size_t>(n), relative); !w)
      return propagate(w);
  }
  if (digest && digest->hex() != expected->hex)
    return plain_error(relative + " changed after it was checked; not merged");
  return out;
}

// Held while merging: one merge per cache at a time.
Result<UniqueFd> lock_cache(const CacheStaging& cache) {
  std::string path = cache.root + "/" + cache.decl.name + ".lock";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return sys_error("open the cache lock " + path);
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return sys_error("lock " + path);
  }
  return fd;
}

Result<bool> merge_file(const CacheStaging& cache, int upperfd, int cachefd, int scratchfd,
                        const std::string& relative) {
  std::optional<cacache::Hash> expected;
  if (cache.decl.format == CacheFormat::cacache) expected = cacache::classify(relative).content;
  auto parent = make_parent_dirs(cachefd, relative);
  if (!parent) return propagate(parent);
  auto present = stat_entry(parent->get(), leaf_of(relative), relative);
  if (!present) return propagate(present);
  if (*present) return false;
  auto scratch = copy_to_scratch(upperfd, relative, scratchfd, expected);
  if (!scratch) return propagate(scratch);
  return scratch->publish(parent->get(), leaf_of(relative), true, relative);
}

Result<std::size_t> append_bucket(int cachefd, int scratchfd, const BucketAppend& append) {
  auto current = read_beneath(cachefd, append.path, append.path);
  if (!current) return propagate(current);
  std::string content = current->value_or("");
  auto existing = cacache::bucket_lines(content);
  std::size_t added = 0;
  for (const auto& line : append.lines) {
    if (std::ranges::find(existing, line) != existing.end()) continue;
    content += "\n" + line;
    ++added;
  }
  if (added == 0) return added;
  auto parent = make_parent_dirs(cachefd, append.path);
  if (!parent) return propagate(parent);
  auto scratch = ScratchFile::create(scratchfd);
  if (!scratch) return propagate(scratch);
  if (auto w = write_all(scratch->fd(), content.data(), content.size(), append.path); !w)
    return propagate(w);
  auto published = scratch->publish(parent->get(), leaf_of(append.path), false, append.path);
  if (!published) return propagate(published);
  return added;
}

}  // namespace

std::vector<CacheDecl> builtin_caches(const std::vector<std::string>& command) {
  if (command.empty()) return {};
  std::string tool = leaf_of(command.front());
  if (tool == "npm" || tool == "npx")
    return {{"npm", ".npm/_cacache", CacheFormat::cacache, {{"npm_config_cache", "~/.npm"}}}};
  return {};
}

Result<std::string> default_cache_root() {
  return user_dir({.override_variable = "SAFEINSTALL_CACHE_DIR",
                   .xdg_variable = "XDG_CACHE_HOME",
                   .home_default = ".cache",
                   .below = "safeinstall/caches",
                   .what = "package caches"});
}

Result<CacheStaging> prepare_cache(const CacheDecl& decl, const std::string& root,
                                   const std::string& run_dir, const std::string& home) {
  if (decl.name.empty() || decl.name.find('/') != std::string::npos || decl.name.front() == '.')
    return plain_error("cache name \"" + decl.name + "\" is not a plain name");
  if (decl.home_path.empty() || decl.home_path.front() == '/' ||
      decl.home_path.find("..") != std::string::npos)
    return plain_error("cache path \"" + decl.home_path + "\" is not a path inside the home");
  CacheStaging cache;
  cache.decl = decl;
  cache.root = root;
  cache.persistent = root + "/" + decl.name;
  cache.target = home + "/" + decl.home_path;
  std::string staging = run_dir + "/caches/" + decl.name;
  cache.upper = staging + "/upper";
  cache.work = staging + "/work";
  for (const auto& [name, value] : decl.env)
    cache.env.emplace_back(name, value.starts_with("~/") ? home + value.substr(1) : value);

  if (auto r = create_parents(root); !r) return propagate(r);
  for (const auto& dir : {cache.root, cache.persistent}) {
    if (auto r = make_private_directory(dir); !r) return propagate(r);
  }
  for (const auto& dir : {run_dir + "/caches", staging, cache.upper, cache.work}) {
    if (auto r = make_dir(dir); !r) return propagate(r);
  }
  return cache;
}

Result<CacheReview> review_cache(const CacheStaging& cache,
                                 std::optional<std::uint64_t> max_read_bytes) {
  auto changes = list_changes(cache.upper, cache.persistent);
  if (!changes)
    return plain_error("read what the run wrote to the " + cache.decl.name +
                       " cache: " + changes.error().message());
  if (std::uint64_t bytes = staged_usage_of(*changes).bytes;
      max_read_bytes && bytes > *max_read_bytes) {
    CacheReview too_much;
    too_much.tampering.push_back(
        {".", "files of " + std::to_string(bytes >> 20) + " MiB, more than --disk " +
                  std::to_string(*max_read_bytes >> 20) + " MiB; not read"});
    return too_much;
  }
  auto upperfd = open_directory(cache.upper);
  if (!upperfd) return propagate(upperfd);
  auto cachefd = open_directory(cache.persistent);
  if (!cachefd) return propagate(cachefd);
  Reviewer reviewer(cache, upperfd->get(), cachefd->get());
  for (const auto& change : changes->changes) {
    if (auto r = reviewer.add(change); !r) return propagate(r);
  }
  if (auto r = reviewer.check_index_targets(); !r) return propagate(r);
  return reviewer.take();
}

Result<CacheMergeResult> merge_cache(const CacheStaging& cache, const CacheReview& review) {
  if (review.tampered())
    return plain_error("the run tampered with the " + cache.decl.name + " cache; nothing merged");
  CacheMergeResult result;
  if (review.empty()) return result;
  auto lock = lock_cache(cache);
  if (!lock) return propagate(lock);
  std::string scratch = cache.root + "/" + cache.decl.name + ".tmp";
  if (auto r = make_private_directory(scratch); !r) return propagate(r);
  auto scratchfd = open_directory(scratch);
  if (!scratchfd) return propagate(scratchfd);
  auto upperfd = open_directory(cache.upper);
  if (!upperfd) return propagate(upperfd);
  auto cachefd = open_directory(cache.persistent);
  if (!cachefd) return propagate(cachefd);
  // Content first: an index entry is published only once what it names is there.
  for (const auto& file : review.new_files) {
    auto added = merge_file(cache, upperfd->get(), cachefd->get(), scratchfd->get(), file);
    if (!added) return propagate(added);
    ++(*added ? result.files_added : result.files_present);
  }
  for (const auto& append : review.appends) {
    auto added = append_bucket(cachefd->get(), scratchfd->get(), append);
    if (!added) return propagate(added);
    result.entries_appended += *added;
  }
  return result;
}

Result<void> remove_cache_staging(const CacheStaging& cache) {
  if (auto r = remove_tree(cache.upper); !r) return r;
  return remove_tree(cache.work);
}

}  // namespace safeinstall::runner
