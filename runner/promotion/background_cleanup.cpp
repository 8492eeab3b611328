#include "runner/promotion/background_cleanup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "runner/fs/fs_tree.h"
#include "runner/fs/trash.h"
#include "runner/promotion/promotion.h"

namespace safeinstall::runner {
namespace {

// Links removed per hold of the project's lock: a run starting meanwhile waits for one batch
// at most, a few milliseconds.
constexpr std::size_t kLinksPerBatch = 256;

// A name to remove: its directory, relative to the tree, and its name there.
struct SharedName {
  std::string dir;
  std::string name;
};

// Every non-directory below `dirfd` (`rel` in the tree) with more than one link, directories
// before what they hold.
Result<void> find_shared(int dirfd, const std::string& shown, const std::string& rel,
                         std::vector<SharedName>& found, int depth) {
  if (depth > 256) return {};
  auto entries = list_directory_entries(dirfd, shown);
  if (!entries) return propagate(entries);
  for (const auto& entry : *entries) {
    struct stat st {};
    if (::fstatat(dirfd, entry.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISDIR(st.st_mode)) {
      if (st.st_nlink > 1) found.push_back({rel, entry.name});
      continue;
    }
    std::string path = shown + "/" + entry.name;
    auto sub = open_subdirectory(dirfd, entry.name, path);
    if (!sub) return propagate(sub);
    auto walked = find_shared(sub->get(), path, join_path(rel, entry.name), found, depth + 1);
    if (!walked) return walked;
  }
  return {};
}

// Removes `names` (all in `tree`), each batch under the project's lock.
Result<void> remove_in_batches(int tree, const std::string& shown,
                               const std::vector<SharedName>& names,
                               const ProjectLocker& lock_project) {
  for (std::size_t first = 0; first < names.size(); first += kLinksPerBatch) {
    auto lock = lock_project();
    if (!lock) return propagate(lock);
    std::size_t end = std::min(names.size(), first + kLinksPerBatch);
    sandbox::UniqueFd dir;
    const std::string* opened = nullptr;
    for (std::size_t i = first; i < end; ++i) {
      if (opened == nullptr || *opened != names[i].dir) {
        auto fd = open_beneath(tree, names[i].dir, O_RDONLY | O_DIRECTORY,
                               join_path(shown, names[i].dir));
        if (!fd) return propagate(fd);
        dir = std::move(*fd);
        opened = &names[i].dir;
      }
      ::unlinkat(dir.get(), names[i].name.c_str(), 0);  // already gone: as well
    }
  }
  return {};
}

}  // namespace

Result<std::size_t> remove_shared_links(const RunDir& run, const ProjectLocker& lock_project) {
  std::size_t removed = 0;
  for (const auto& tree : {run.trash(), run.build(), run.upper()}) {
    if (::access(tree.c_str(), F_OK) != 0) continue;
    auto fd = open_directory(tree);
    if (!fd) return propagate(fd);
    std::vector<SharedName> names;
    if (auto found = find_shared(fd->get(), tree, "", names, 0); !found) return propagate(found);
    if (auto gone = remove_in_batches(fd->get(), tree, names, lock_project); !gone)
      return propagate(gone);
    removed += names.size();
  }
  return removed;
}

Result<void> finish_cleanup_in_background(const RunDir& run, ProjectLocker lock_project) {
  auto started = run_detached("si-cleanup", [run, lock_project = std::move(lock_project)] {
    auto lock = lock_run_dir(run);
    if (!lock || !*lock) return false;
    // Should this fail, the removal below still frees the space; a run starting meanwhile
    // may then read a moved ctime as an edit and hold (never promote over it).
    (void)remove_shared_links(run, lock_project);
    return remove_trash(run).has_value();
  });
  if (!started)
    return plain_error("start removing the old trees of run " + run.id + ": " +
                       started.error().message());
  return {};
}

}  // namespace safeinstall::runner
