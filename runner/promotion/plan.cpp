#include "runner/promotion/plan.h"

#include <dirent.h>
#include <fcntl.h>

#include <algorithm>
#include <array>
#include <map>
#include <string_view>

#include "runner/fs/fs_tree.h"
#include "runner/staging/project_snapshot.h"

namespace safeinstall::runner {
namespace {

bool allowed(const Change& c, const PromotionOptions& options) {
  switch (c.category) {
    case Category::expected:
      return true;
    case Category::protected_:
      return options.allow_protected;
    case Category::unexpected:
    case Category::unjudged:
      return options.allow_unexpected;
  }
  return false;
}

Result<void> decide(EntryPlan& plan, const PromotionPlaces& places, const PromotionOptions& options,
                    PromotionResult& result) {
  auto real = stat_entry(places.project_fd.get(), plan.name, places.project + "/" + plan.name);
  if (!real) return propagate(real);
  plan.real = *real;
  auto upper = stat_entry(places.upper_fd.get(), plan.name, places.run.upper() + "/" + plan.name);
  if (!upper) return propagate(upper);
  plan.upper = *upper;

  auto promotable_count = static_cast<std::size_t>(
      std::count_if(plan.changes.begin(), plan.changes.end(),
                    [&](const Change* c) { return promotable(*c, options); }));
  bool all = promotable_count == plan.changes.size();
  bool none = promotable_count == 0;
  bool head_blocks = plan.head() != nullptr && !promotable(*plan.head(), options) &&
                     plan.head()->type == EntryType::dir &&
                     !(plan.real && S_ISDIR(plan.real->st_mode));
  if (is_reserved_name(plan.name)) {
    for (const Change* c : plan.changes)
      skip(result, *c, "name reserved for safeinstall's own scratch entries");
    plan.kind = PlanKind::skip;
    return {};
  }
  if (none || head_blocks) {
    for (const Change* c : plan.changes)
      skip(result, *c, promotable(*c, options) ? "its directory is not promoted" : why_not(*c));
    plan.kind = PlanKind::skip;
    return {};
  }
  auto stale = [&] {
    return plain_error(
        "promote " + plan.name + ": the staged tree no longer matches the change list",
        "list the changes again before promoting");
  };
  if (!plan.upper) return stale();
  if (plan.head() != nullptr && plan.head()->change == ChangeKind::deleted) {
    if (!is_whiteout(*plan.upper)) return stale();
    plan.kind = plan.real ? PlanKind::remove : PlanKind::skip;
    return {};
  }
  if (is_whiteout(*plan.upper)) return stale();
  if (!S_ISDIR(plan.upper->st_mode)) {
    if (plan.head() == nullptr || entry_type_of(plan.upper->st_mode) != plan.head()->type)
      return stale();
    plan.kind = PlanKind::swap;
    return {};
  }
  bool real_is_dir = plan.real && S_ISDIR(plan.real->st_mode);
  bool replaced_whole = plan.head() != nullptr && (plan.head()->opaque || !real_is_dir);
  plan.kind = all && replaced_whole ? PlanKind::swap : PlanKind::build;
  return {};
}

// Promotion goes below a real directory, instead of rebuilding it, only when it holds at least
// this many entries...
constexpr std::size_t kDescendFromEntries = 2000;
// ...and the run touched at most this many of the entries right below it.
constexpr std::size_t kDescendAtMostTouched = 64;

// The entry one level below `dir` ("" for the project itself) that `path` is or lies in.
std::string_view entry_below(std::string_view dir, std::string_view path) {
  std::size_t start = dir.empty() ? 0 : dir.size() + 1;
  std::size_t slash = path.find('/', start);
  return slash == std::string_view::npos ? path : path.substr(0, slash);
}

// `changes` (all below `dir`, in path order) grouped by their entry one level below it: each
// group is the entry's own change and the contiguous range below it (EntryChanges). Names
// view into the change list, which outlives the plans.
Result<std::vector<EntryPlan>> group_below(std::string_view dir, std::span<const Change> changes) {
  std::map<std::string_view, EntryPlan> by_name;
  std::string_view last_name;
  EntryPlan* last = nullptr;  // consecutive changes mostly share their entry
  for (const Change& c : changes) {
    std::string_view path = c.path;
    std::string_view name = entry_below(dir, path);
    if (last == nullptr || name != last_name) {
      last = &by_name[name];
      last_name = name;
    }
    if (name.size() == path.size()) {
      last->changes.set_head(c);
    } else if (!last->changes.add_inside(c)) {
      return plain_error("promote: the change list is not in path order at " + c.path);
    }
  }
  std::vector<EntryPlan> plans;
  plans.reserve(by_name.size());
  for (auto& [name, plan] : by_name) {
    plan.name = std::string(name);
    plans.push_back(std::move(plan));
  }
  return plans;
}

// Whether the real directory `dir` holds at least `wanted` entries, counted down its subtree
// (names only, no stat) and no further than that.
Result<bool> holds_at_least(int project_fd, const std::string& project, const std::string& dir,
                            std::size_t wanted) {
  std::size_t seen = 0;
  std::vector<std::string> pending{dir};
  while (!pending.empty() && seen < wanted) {
    std::string at = std::move(pending.back());
    pending.pop_back();
    auto fd = open_beneath(project_fd, at, O_RDONLY | O_DIRECTORY, project + "/" + at);
    if (!fd) continue;  // gone or replaced meanwhile: counted as empty
    auto entries = list_directory_entries(fd->get(), project + "/" + at);
    if (!entries) return propagate(entries);
    seen += entries->size();
    for (const auto& entry : *entries) {
      if (entry.type == DT_DIR || entry.type == DT_UNKNOWN)
        pending.push_back(at + "/" + entry.name);
    }
  }
  return seen >= wanted;
}

// A large real directory the run kept (not replaced, its mode unchanged) and changed in a few
// places: rebuilding it would link every unchanged entry to move a handful.
Result<bool> worth_descending(const EntryPlan& plan, const PromotionPlaces& places,
                              const PromotionOptions& options) {
  if (options.snapshot == nullptr || plan.kind != PlanKind::build) return false;
  if (!plan.real || !S_ISDIR(plan.real->st_mode)) return false;
  if (!plan.upper || !S_ISDIR(plan.upper->st_mode)) return false;
  if (const Change* head = plan.head(); head != nullptr) {
    if (head->opaque || head->type != EntryType::dir || head->change == ChangeKind::deleted ||
        promotable_mode(head->mode) != (plan.real->st_mode & 07777)) {
      return false;
    }
  }
  std::size_t touched = 0;
  std::string_view last;
  for (const Change* c : plan.changes) {
    if (c == plan.head()) continue;
    std::string_view entry = entry_below(plan.name, c->path);
    if (entry == last) continue;
    last = entry;
    if (++touched > kDescendAtMostTouched) return false;
  }
  if (touched == 0) return false;
  return holds_at_least(places.project_fd.get(), places.project, plan.name, kDescendFromEntries);
}

Result<void> plan_groups(std::vector<EntryPlan> groups, const PromotionPlaces& places,
                         const PromotionOptions& options, PromotionResult& result,
                         PromotionPlan& plans) {
  for (auto& plan : groups) {
    if (auto decided = decide(plan, places, options, result); !decided) return propagate(decided);
    auto descend = worth_descending(plan, places, options);
    if (!descend) return propagate(descend);
    if (!*descend) {
      plans.entries.push_back(std::move(plan));
      continue;
    }
    plans.kept.push_back({plan.name, plan.real->st_ino, plan.upper->st_atim, plan.upper->st_mtim});
    auto inside = group_below(plan.name, plan.changes.inside());
    if (!inside) return propagate(inside);
    auto below = plan_groups(std::move(*inside), places, options, result, plans);
    if (!below) return below;
  }
  return {};
}

}  // namespace

bool promotable(const Change& c, const PromotionOptions& options) {
  if (c.change == ChangeKind::deleted) return allowed(c, options);
  return allowed(c, options) && !c.flags.never_promoted();
}

std::string why_not(const Change& c) {
  if (c.change != ChangeKind::deleted && c.flags.special_file)
    return "special file: never promoted";
  if (c.change != ChangeKind::deleted && c.flags.symlink_escape)
    return "symlink pointing outside the project: never promoted";
  switch (c.category) {
    case Category::protected_:
      return "protected (promoted only with --allow-protected)";
    case Category::unjudged:
      return "not judged (promoted only with --yes)";
    default:
      return "unexpected (promoted only with --yes)";
  }
}

void skip(PromotionResult& result, const Change& c, std::string reason) {
  result.skipped.push_back({c.path.str(), std::move(reason)});
}

Result<PromotionPlan> plan_entries(const PromotionPlaces& places, const ChangeList& changes,
                                   const PromotionOptions& options, PromotionResult& result) {
  // Grouping takes what lies below an entry as one range, and preparation makes a directory
  // before what is inside it: both need the list in path order, as list_changes makes it.
  auto in_order = [](const Change& a, const Change& b) { return a.path < b.path; };
  if (!std::is_sorted(changes.changes.begin(), changes.changes.end(), in_order))
    return plain_error("promote: the change list is not in path order");
  PromotionPlan plans;
  auto groups = group_below("", changes.changes);
  if (!groups) return propagate(groups);
  auto planned = plan_groups(std::move(*groups), places, options, result, plans);
  if (!planned) return propagate(planned);
  return plans;
}

void restore_kept_times(const PromotionPlaces& places, const std::vector<KeptDirectory>& kept) {
  for (const auto& dir : kept) {
    // No symlink on the way: a directory swapped for a link meanwhile is left alone.
    auto fd = open_beneath(places.project_fd.get(), dir.name, O_RDONLY | O_DIRECTORY,
                           places.project + "/" + dir.name);
    if (!fd) continue;
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0 || st.st_ino != dir.ino) continue;
    std::array<struct timespec, 2> times{dir.atime, dir.mtime};
    ::futimens(fd->get(), times.data());
  }
}

}  // namespace safeinstall::runner
