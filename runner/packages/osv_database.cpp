#include "runner/packages/osv_database.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "runner/fs/fs_tree.h"
#include "runner/packages/zip_library.h"
#include "sandbox/base/fd.h"

namespace safeinstall::runner {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kSparseEvery = 64;
constexpr std::size_t kMaxDocumentBytes = 16u << 20;
constexpr std::size_t kReadChunk = 16u << 10;

void add_document(std::string_view text, const std::string& shown, std::vector<std::string>& lines,
                  ImportSummary& summary) {
  ++summary.documents;
  auto records = parse_osv_document(text, shown);
  if (!records) {
    summary.skipped.push_back(records.error().message());
    return;
  }
  for (const auto& r : *records) {
    lines.push_back(index_line(r));
    summary.malicious += r.malicious ? 1 : 0;
  }
}

Result<> read_directory(const std::string& dir, std::vector<std::string>& lines,
                        ImportSummary& summary) {
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec), end;
  if (ec) return plain_error("reading the OSV directory " + dir + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return plain_error("reading the OSV directory " + dir + ": " + ec.message());
    if (!it->is_regular_file(ec) || it->path().extension() != ".json") continue;
    auto text = read_small_file(it->path().string(), kMaxDocumentBytes, Links::followed);
    if (!text) {
      summary.skipped.push_back(text.error().message());
      continue;
    }
    if (*text) add_document(**text, it->path().string(), lines, summary);
  }
  return {};
}

Result<> read_zip(const std::string& file, std::vector<std::string>& lines,
                  ImportSummary& summary) {
  auto library = load_zip_library();
  if (!library) return propagate(library);
  const ZipLibrary& zip = **library;
  int err = 0;
  auto discard = [&zip](zip_t* z) { zip.discard(z); };
  std::unique_ptr<zip_t, decltype(discard)> archive(zip.open(file.c_str(), ZIP_RDONLY, &err),
                                                    discard);
  if (!archive) {
    zip_error_t error;
    zip.error_init_with_code(&error, err);
    std::string why = zip.error_strerror(&error);
    zip.error_fini(&error);
    return plain_error("opening the OSV zip " + file + ": " + why);
  }
  zip_int64_t count = zip.get_num_entries(archive.get(), 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    if (zip.stat_index(archive.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0) continue;
    std::string name = st.name != nullptr ? st.name : "";
    if (!name.ends_with(".json")) continue;
    std::string shown = file + ":" + name;
    if (st.size > kMaxDocumentBytes) {
      summary.skipped.push_back(shown + ": larger than 16 MiB");
      continue;
    }
    std::unique_ptr<zip_file_t, decltype(zip.fclose)> entry(
        zip.fopen_index(archive.get(), static_cast<zip_uint64_t>(i), 0), zip.fclose);
    if (!entry) {
      summary.skipped.push_back(shown + ": " + zip.strerror(archive.get()));
      continue;
    }
    std::string text(st.size, '\0');
    zip_int64_t got = zip.fread(entry.get(), text.data(), st.size);
    if (got < 0 || static_cast<zip_uint64_t>(got) != st.size) {
      summary.skipped.push_back(shown + ": could not be read");
      continue;
    }
    add_document(text, shown, lines, summary);
  }
  return {};
}

std::string_view key_of(std::string_view line) {
  auto first = line.find('\t');
  if (first == std::string_view::npos) return line;
  auto second = line.find('\t', first + 1);
  return second == std::string_view::npos ? line : line.substr(0, second + 1);
}

Result<> write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return plain_error("writing " + path);
  return {};
}

}  // namespace

Result<ImportSummary> import_osv(const std::vector<std::string>& sources, const std::string& into) {
  ImportSummary summary;
  std::vector<std::string> lines;
  for (const auto& source : sources) {
    std::error_code ec;
    Result<> read = fs::is_directory(source, ec) ? read_directory(source, lines, summary)
                                                 : read_zip(source, lines, summary);
    if (!read) return propagate(read);
  }
  std::ranges::sort(lines);
  auto last = std::unique(lines.begin(), lines.end());
  lines.erase(last, lines.end());
  summary.records = lines.size();

  std::string index, sparse;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i % kSparseEvery == 0) {
      sparse += key_of(lines[i]);
      sparse += std::to_string(index.size()) + "\n";
    }
    index += lines[i];
    index += '\n';
  }
  std::error_code ec;
  fs::create_directories(into, ec);
  if (ec) return plain_error("creating " + into + ": " + ec.message());
  // Each file replaced by a rename: a run reading the old index meanwhile keeps its open
  // file. The sparse table goes last; it names offsets of the index beside it.
  for (auto [name, text] : {std::pair{kOsvIndexFile, &index}, std::pair{kOsvSparseFile, &sparse}}) {
    std::string path = into + "/" + name;
    if (auto ok = write_file(path + ".new", *text); !ok) return propagate(ok);
    fs::rename(path + ".new", path, ec);
    if (ec) return plain_error("renaming " + path + ".new: " + ec.message());
  }
  return summary;
}

struct OsvDatabase::State {
  std::string dir;
  // An imported index: the open file, its size and the sparse table (key, offset).
  sandbox::UniqueFd fd;
  std::uint64_t size = 0;
  std::vector<std::pair<std::string, std::uint64_t>> sparse;
  // JSON files indexed in memory: sorted index lines.
  std::vector<std::string> lines;
  bool in_memory = false;
};

OsvDatabase::OsvDatabase(std::unique_ptr<State> state) : state_(std::move(state)) {}
OsvDatabase::OsvDatabase(OsvDatabase&&) noexcept = default;
OsvDatabase& OsvDatabase::operator=(OsvDatabase&&) noexcept = default;
OsvDatabase::~OsvDatabase() = default;

const std::string& OsvDatabase::dir() const {
  return state_->dir;
}

Result<OsvDatabase> OsvDatabase::open(const std::string& dir) {
  auto state = std::make_unique<State>();
  state->dir = dir;
  std::string index_path = dir + "/" + kOsvIndexFile;
  int fd = ::open(index_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT) return sys_error("opening the OSV index " + index_path);
  if (fd < 0) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
      return plain_error("the OSV database " + dir + " is not a directory",
                         "import one with `safeinstall db import DIR|ZIP`");
    ImportSummary summary;
    if (auto read = read_directory(dir, state->lines, summary); !read) return propagate(read);
    std::ranges::sort(state->lines);
    state->in_memory = true;
    return OsvDatabase(std::move(state));
  }
  state->fd = sandbox::UniqueFd(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return sys_error("stat of the OSV index " + index_path);
  state->size = static_cast<std::uint64_t>(st.st_size);
  auto sparse = read_small_file(dir + "/" + kOsvSparseFile, 64u << 20);
  if (!sparse) return propagate(sparse);
  if (!*sparse)
    return plain_error("the OSV database " + dir + " has no " + kOsvSparseFile,
                       "import it again with `safeinstall db import`");
  std::string_view rest = **sparse;
  while (!rest.empty()) {
    auto end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    auto tab = line.rfind('\t');
    if (tab == std::string_view::npos) continue;
    state->sparse.emplace_back(std::string(line.substr(0, tab + 1)),
                               std::stoull(std::string(line.substr(tab + 1))));
  }
  return OsvDatabase(std::move(state));
}

Result<std::vector<OsvRecord>> OsvDatabase::lookup(Ecosystem ecosystem,
                                                   std::string_view name) const {
  std::string key = index_key(ecosystem, name);
  std::vector<OsvRecord> out;
  auto take = [&](std::string_view line) {
    if (auto r = record_from_line(line)) out.push_back(std::move(*r));
  };
  if (state_->in_memory) {
    auto it = std::ranges::lower_bound(state_->lines, key);
    for (; it != state_->lines.end() && it->starts_with(key); ++it) take(*it);
    return out;
  }
  // The block before the first whose first key is >= key may hold the key's first lines.
  auto after = std::ranges::lower_bound(
      state_->sparse, key, {}, [](const auto& entry) -> const std::string& { return entry.first; });
  if (after == state_->sparse.begin() && (after == state_->sparse.end() || after->first != key))
    return out;
  std::uint64_t offset = after == state_->sparse.begin() ? 0 : std::prev(after)->second;
  std::string buffer;
  std::string chunk(kReadChunk, '\0');
  while (offset < state_->size) {
    ssize_t got = ::pread(state_->fd.get(), chunk.data(), chunk.size(), static_cast<off_t>(offset));
    if (got < 0) return sys_error("reading the OSV index in " + state_->dir);
    if (got == 0) break;
    offset += static_cast<std::uint64_t>(got);
    buffer.append(chunk.data(), static_cast<std::size_t>(got));
    std::size_t start = 0;
    for (auto end = buffer.find('\n'); end != std::string::npos; end = buffer.find('\n', start)) {
      std::string_view line(buffer.data() + start, end - start);
      start = end + 1;
      auto line_key = key_of(line);
      if (line_key == key) {
        take(line);
      } else if (line_key > key) {
        return out;
      }
    }
    buffer.erase(0, start);
  }
  return out;
}

Result<std::vector<OsvRecord>> OsvDatabase::affecting(const PackageVersion& package) const {
  auto records = lookup(package.ecosystem, package.name);
  if (!records) return records;
  std::erase_if(*records, [&](const OsvRecord& r) { return !r.affects(package.version); });
  return records;
}

Result<std::vector<OsvRecord>> OsvDatabase::malicious_records() const {
  std::vector<OsvRecord> out;
  auto take = [&](std::string_view line) {
    if (line.find("\tmal\t") == std::string_view::npos) return;
    if (auto r = record_from_line(line)) out.push_back(std::move(*r));
  };
  if (state_->in_memory) {
    for (const auto& line : state_->lines) take(line);
    return out;
  }
  std::string buffer;
  std::string chunk(1u << 20, '\0');
  std::uint64_t offset = 0;
  while (offset < state_->size) {
    ssize_t got = ::pread(state_->fd.get(), chunk.data(), chunk.size(), static_cast<off_t>(offset));
    if (got < 0) return sys_error("reading the OSV index in " + state_->dir);
    if (got == 0) break;
    offset += static_cast<std::uint64_t>(got);
    buffer.append(chunk.data(), static_cast<std::size_t>(got));
    std::size_t start = 0;
    for (auto end = buffer.find('\n'); end != std::string::npos; end = buffer.find('\n', start)) {
      take(std::string_view(buffer.data() + start, end - start));
      start = end + 1;
    }
    buffer.erase(0, start);
  }
  return out;
}

}  // namespace safeinstall::runner
