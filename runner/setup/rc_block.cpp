#include "runner/setup/rc_block.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "runner/fs/fs_tree.h"
#include "sandbox/base/fd.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxRcFileBytes = 16 * 1024 * 1024;

struct LineSpan {
  std::size_t begin = 0;  // offset of the line's first byte
  std::size_t end = 0;    // offset just past its '\n' (or the text's end)
};

// The first line of `text` at or after `from` that is exactly `marker`.
std::optional<LineSpan> find_marker_line(std::string_view text, std::string_view marker,
                                         std::size_t from) {
  std::size_t at = from;
  while (at < text.size()) {
    auto newline = text.find('\n', at);
    std::size_t stop = newline == std::string_view::npos ? text.size() : newline;
    if (text.substr(at, stop - at) == marker)
      return LineSpan{at, newline == std::string_view::npos ? text.size() : newline + 1};
    at = stop + 1;
  }
  return std::nullopt;
}

struct BlockSpan {
  std::size_t begin = 0;
  std::size_t end = 0;
};

Result<std::optional<BlockSpan>> find_block(std::string_view text) {
  auto begin = find_marker_line(text, kBlockBegin, 0);
  auto end = find_marker_line(text, kBlockEnd, begin ? begin->end : 0);
  if (!begin && !end) return std::optional<BlockSpan>();
  if (!begin || !end)
    return plain_error("the safeinstall block is not whole: `" +
                           std::string(begin ? kBlockEnd : kBlockBegin) + "` is missing",
                       "edit the file by hand: remove the lines between the markers or add the "
                       "missing one");
  return std::optional<BlockSpan>(BlockSpan{begin->begin, end->end});
}

std::string framed(std::string_view block) {
  std::string out(kBlockBegin);
  out += '\n';
  out += block;
  if (!block.empty() && block.back() != '\n') out += '\n';
  out += kBlockEnd;
  out += '\n';
  return out;
}

// The file behind `path` (symlinks followed), its text and mode; no text when it is missing.
struct RcFile {
  std::string path;
  std::optional<std::string> text;
  mode_t mode = 0644;
};

Result<RcFile> read_rc_file(const std::string& path) {
  RcFile file{path, std::nullopt, 0644};
  std::error_code ec;
  if (fs::is_symlink(path, ec)) {
    auto target = fs::weakly_canonical(path, ec);
    if (ec) return plain_error("cannot follow the symlink " + path + ": " + ec.message());
    file.path = target.string();
  }
  sandbox::UniqueFd fd(::open(file.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return file;
    return sys_error("open " + file.path);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat " + file.path);
  if (!S_ISREG(st.st_mode)) return plain_error(file.path + " is not a regular file");
  file.mode = st.st_mode & 07777;
  auto text = read_whole_file(fd.get(), kMaxRcFileBytes, file.path);
  if (!text) return propagate(text);
  file.text = std::move(*text);
  return file;
}

Result<void> replace_file(const RcFile& file, const std::string& text) {
  std::error_code ec;
  fs::create_directories(fs::path(file.path).parent_path(), ec);
  if (ec)
    return plain_error("create " + fs::path(file.path).parent_path().string() + ": " +
                       ec.message());
  if (auto written = write_file_atomically(file.path, text, true); !written) return written;
  if (::chmod(file.path.c_str(), file.mode) != 0) return sys_error("chmod " + file.path);
  return {};
}

}  // namespace

bool has_block(std::string_view text) {
  return find_marker_line(text, kBlockBegin, 0).has_value();
}

Result<std::string> with_block(std::string_view text, std::string_view block) {
  auto span = find_block(text);
  if (!span) return propagate(span);
  if (*span) {
    std::string out(text.substr(0, (*span)->begin));
    out += framed(block);
    out += text.substr((*span)->end);
    return out;
  }
  std::string out(text);
  if (!out.empty() && out.back() != '\n') out += '\n';
  return out + framed(block);
}

Result<std::string> without_block(std::string_view text) {
  auto span = find_block(text);
  if (!span) return propagate(span);
  if (!*span) return std::string(text);
  std::string out(text.substr(0, (*span)->begin));
  out += text.substr((*span)->end);
  return out;
}

Result<bool> file_has_block(const std::string& path) {
  auto file = read_rc_file(path);
  if (!file) return propagate(file);
  return file->text && has_block(*file->text);
}

Result<RcChange> write_block(const std::string& path, std::string_view block) {
  auto file = read_rc_file(path);
  if (!file) return propagate(file);
  std::string before = file->text.value_or("");
  auto after = with_block(before, block);
  if (!after) return plain_error(path + ": " + after.error().message());
  if (file->text && *after == before) return RcChange::unchanged;
  if (auto replaced = replace_file(*file, *after); !replaced) return propagate(replaced);
  return RcChange::written;
}

Result<RcChange> remove_block(const std::string& path, bool remove_if_empty) {
  auto file = read_rc_file(path);
  if (!file) return propagate(file);
  if (!file->text || !has_block(*file->text)) return RcChange::absent;
  auto after = without_block(*file->text);
  if (!after) return plain_error(path + ": " + after.error().message());
  if (after->empty() && remove_if_empty) {
    if (::unlink(file->path.c_str()) != 0) return sys_error("remove " + file->path);
    return RcChange::removed;
  }
  if (auto replaced = replace_file(*file, *after); !replaced) return propagate(replaced);
  return RcChange::removed;
}

}  // namespace safeinstall::runner
