#include "runner/promotion/places.h"

#include <sys/stat.h>

#include "runner/fs/fs_tree.h"

namespace safeinstall::runner {
namespace {

constexpr std::string_view kTmpPrefix = ".safeinstall-tmp-";
constexpr std::string_view kTrashPrefix = ".safeinstall-trash-";

std::string scratch_name(const RunDir& run, std::string_view prefix, std::size_t index) {
  return std::string(prefix) + run.id + "-" + std::to_string(index);
}

}  // namespace

bool is_reserved_name(const std::string& name) {
  return name.starts_with(kTmpPrefix) || name.starts_with(kTrashPrefix);
}

std::string PromotionPlaces::new_version_name(std::size_t index) const {
  return copy_mode ? scratch_name(run, kTmpPrefix, index) : std::to_string(index);
}

std::string PromotionPlaces::new_version_path(std::size_t index) const {
  return (copy_mode ? project : run.build()) + "/" + new_version_name(index);
}

std::string PromotionPlaces::trash_path(std::size_t index) const {
  return copy_mode ? project + "/" + scratch_name(run, kTrashPrefix, index)
                   : run.trash() + "/" + std::to_string(index);
}

Result<PromotionPlaces> open_places(const RunDir& run, const std::string& project) {
  PromotionPlaces places{.run = run, .project = project};
  auto project_fd = open_directory(project);
  if (!project_fd) return propagate(project_fd);
  places.project_fd = std::move(*project_fd);
  auto upper_fd = open_directory(run.upper());
  if (!upper_fd) return propagate(upper_fd);
  places.upper_fd = std::move(*upper_fd);
  struct stat st {};
  if (::fstat(places.project_fd.get(), &st) != 0) return sys_error("stat " + project);
  places.project_dev = st.st_dev;
  return places;
}

Result<void> decide_copy_mode(PromotionPlaces& places, bool forced) {
  if (forced) {
    places.copy_mode = true;
    places.copy_reason = "copy-based promotion was asked for";
    return {};
  }
  auto upper_mount = mount_identity(places.run.upper());
  if (!upper_mount) return propagate(upper_mount);
  auto project_mount = mount_identity(places.project);
  if (!project_mount) return propagate(project_mount);
  places.copy_mode = !(*upper_mount == *project_mount);
  if (places.copy_mode) {
    places.copy_reason = "the staging dir " + places.run.staging + " is on another mount than " +
                         places.project + ": changes were copied, then renamed into place";
  }
  return {};
}

PromotionJournal new_journal(const PromotionPlaces& places, std::size_t entries) {
  PromotionJournal journal;
  journal.run_id = places.run.id;
  journal.project = places.project;
  journal.copy_based = places.copy_mode;
  if (places.copy_mode) {
    for (std::size_t i = 0; i < entries; ++i) {
      journal.scratch.push_back(places.new_version_path(i));
      journal.scratch.push_back(places.trash_path(i));
    }
  } else {
    journal.scratch = {places.run.build(), places.run.trash()};
  }
  return journal;
}

Result<void> remove_scratch(const PromotionJournal& journal) {
  for (const auto& path : journal.scratch) {
    if (auto removed = remove_tree(path); !removed) return removed;
  }
  return {};
}

}  // namespace safeinstall::runner
