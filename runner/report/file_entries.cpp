#include "runner/report/file_entries.h"

#include <array>
#include <cstdio>

#include "runner/record/written_areas.h"

namespace safeinstall::runner {
namespace {

std::string octal_mode(mode_t mode) {
  std::array<char, 8> text{};
  std::snprintf(text.data(), text.size(), "%04o", static_cast<unsigned>(mode & 07777));
  return text.data();
}

nlohmann::json flag_names(const ChangeFlags& f) {
  nlohmann::json flags = nlohmann::json::array();
  if (f.executable) flags.push_back("executable");
  if (f.setuid) flags.push_back("setuid");
  if (f.setgid) flags.push_back("setgid");
  if (f.symlink_escape) flags.push_back("symlink-escape");
  if (f.special_file) flags.push_back("special-file");
  if (f.hardlink) flags.push_back("hardlink");
  if (f.persistence) flags.push_back("persistence");
  if (f.world_writable) flags.push_back("world-writable");
  if (f.foreign_xattrs) flags.push_back("foreign-xattrs");
  if (f.forged_overlay) flags.push_back("forged-overlay-xattrs");
  return flags;
}

}  // namespace

nlohmann::json to_json(const Change& change) {
  nlohmann::json entry = {{"path", change.path}, {"change", to_string(change.change)}};
  if (change.category != Category::unjudged) entry["category"] = to_string(change.category);
  entry["type"] = to_string(change.type);
  if (change.change != ChangeKind::deleted) {
    entry["mode"] = octal_mode(change.mode);
    entry["size"] = change.size;
  }
  entry["flags"] = flag_names(change.flags);
  if (!change.foreign_xattrs().empty()) entry["xattrs"] = change.foreign_xattrs();
  if (change.type == EntryType::symlink && change.change != ChangeKind::deleted) {
    entry["target"] = change.symlink_target();
  }
  return entry;
}

nlohmann::json to_json(const ChangeList& list) {
  nlohmann::json array = nlohmann::json::array();
  for (const auto& change : list.changes) array.push_back(to_json(change));
  return array;
}

nlohmann::json written_area_changes(const std::vector<WrittenEntry>& written,
                                    const std::string& area, const RunPlan& plan) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& entry : written_in_area(written, area, plan)) {
    nlohmann::json flags = nlohmann::json::array();
    for (auto flag : written_flags(entry)) flags.push_back(flag);
    list.push_back({{"path", entry.path},
                    {"change", "added"},
                    {"type", written_type(entry.mode)},
                    {"size", entry.size},
                    {"flags", std::move(flags)}});
  }
  return list;
}

}  // namespace safeinstall::runner
