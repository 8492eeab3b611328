#include "runner/staging/verdict.h"

#include <sys/stat.h>

#include <algorithm>

#include "runner/fs/path_globs.h"

namespace safeinstall::runner {
namespace {

// Reasons name paths so the user can look; beyond this many, a count says how many more.
constexpr std::size_t kPathsPerReason = 5;

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// The paths of one category, as far as a reason names them: the first few (views into the
// change list) and how many. Every unexpected path of a million-entry run would be a string
// per change.
struct SomePaths {
  std::vector<std::string_view> first;
  std::size_t count = 0;

  void add(std::string_view path) {
    if (first.size() < kPathsPerReason) first.push_back(path);
    ++count;
  }
  bool empty() const { return count == 0; }
};

// "a, b, c and 4 more"
std::string some_paths(const SomePaths& paths) {
  std::string text;
  for (auto path : paths.first) {
    if (!text.empty()) text += ", ";
    text += path;
  }
  if (paths.count > paths.first.size())
    text += " and " + std::to_string(paths.count - paths.first.size()) + " more";
  return text;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

bool symlink_reaches_protected(const Change& change, const GlobSet& protected_set) {
  if (change.type != EntryType::symlink || !change.symlink_resolves_to()) return false;
  const std::string& target = *change.symlink_resolves_to();
  if (target.empty()) return true;  // the project root: everything protected is below it
  return protected_set.matches(target) || protected_set.may_match_below(target);
}

// Hard violations, one reason per offending path (bounded), in a stable order.
void collect_rejections(const ChangeList& changes, std::vector<std::string>& reasons,
                        std::size_t& count) {
  std::size_t listed = 0;
  auto add = [&](std::string reason) {
    ++count;
    if (listed++ < kPathsPerReason * 2) reasons.push_back(std::move(reason));
  };
  for (const auto& c : changes.changes) {
    if (c.change == ChangeKind::deleted) continue;
    if (c.flags.special_file) {
      add("special file (" + std::string(special_file_kind(c.mode)) + ") written at " + c.path +
          "; devices, fifos and sockets are never promoted");
    }
    if (c.flags.symlink_escape) {
      add("symlink " + c.path + " points outside the project (" + c.symlink_target() + ")");
    }
    if (c.flags.setuid) add("set-uid file " + c.path);
    if (c.flags.setgid) add("set-gid file " + c.path);
    if (c.flags.forged_overlay)
      add("overlay metadata forged on " + c.path + " (" + join_names(c.foreign_xattrs()) +
          "), where no overlay writes it");
  }
  if (listed > kPathsPerReason * 2) {
    reasons.push_back("and " + std::to_string(listed - kPathsPerReason * 2) +
                      " more hard violations");
  }
}

struct CategoryPaths {
  SomePaths unexpected;
  SomePaths protected_paths;
  std::size_t expected = 0;
};

CategoryPaths paths_by_category(const ChangeList& changes) {
  CategoryPaths paths;
  for (const auto& c : changes.changes) {
    switch (c.category) {
      case Category::expected:
        ++paths.expected;
        break;
      case Category::protected_:
        paths.protected_paths.add(c.path);
        break;
      // Not yet judged counts as unexpected: never promote what nobody looked at.
      case Category::unjudged:
      case Category::unexpected:
        paths.unexpected.add(c.path);
        break;
    }
  }
  return paths;
}

std::vector<std::string> hold_findings(const CategoryPaths& paths, const VerdictInputs& in) {
  std::vector<std::string> findings;
  if (!paths.protected_paths.empty()) {
    findings.push_back(plural(paths.protected_paths.count, "protected path", "protected paths") +
                       " changed: " + some_paths(paths.protected_paths) +
                       " (promoted only with --allow-protected)");
  }
  if (!paths.unexpected.empty()) {
    findings.push_back(plural(paths.unexpected.count, "change", "changes") +
                       " outside the expected paths: " + some_paths(paths.unexpected));
  }
  if (in.refused_egress > 0) {
    findings.push_back(
        plural(in.refused_egress, "network destination was", "network destinations were") +
        " refused");
  }
  if (in.refused_syscalls > 0) {
    findings.push_back(plural(in.refused_syscalls, "system call was", "system calls were") +
                       " refused");
  }
  if (in.survivors > 0) {
    findings.push_back(plural(in.survivors, "process", "processes") +
                       " outlived the command and had to be killed");
  }
  findings.insert(findings.end(), in.hold_reasons.begin(), in.hold_reasons.end());
  return findings;
}

// Findings listed one per reason; the report has them all.
constexpr std::size_t kFindingsShown = 8;

// "suspicious behaviour: …" for each finding at kSuspiciousAt or above, strongest first.
std::vector<std::string> suspicious_reasons(const std::vector<Finding>& findings) {
  std::vector<const Finding*> suspicious;
  for (const auto& f : findings)
    if (is_suspicious(f) && f.kind != FindingKind::malicious_package) suspicious.push_back(&f);
  std::stable_sort(suspicious.begin(), suspicious.end(),
                   [](const Finding* a, const Finding* b) { return a->severity > b->severity; });
  std::vector<std::string> reasons;
  for (const auto* f : suspicious) {
    if (reasons.size() == kFindingsShown) {
      reasons.push_back("… and " + std::to_string(suspicious.size() - kFindingsShown) +
                        " more findings (the report lists them all)");
      break;
    }
    reasons.push_back("suspicious (" + std::string(to_string(f->kind)) + ", " +
                      std::string(to_string(f->severity)) + "): " + f->detail);
  }
  return reasons;
}

void malicious_package_rejections(const std::vector<Finding>& findings,
                                  std::vector<std::string>& rejections) {
  for (const auto& f : findings)
    if (f.kind == FindingKind::malicious_package) rejections.push_back(f.detail);
}

}  // namespace

std::string_view special_file_kind(mode_t st_mode) {
  if (S_ISFIFO(st_mode)) return "fifo";
  if (S_ISSOCK(st_mode)) return "socket";
  if (S_ISCHR(st_mode)) return "character device";
  if (S_ISBLK(st_mode)) return "block device";
  return "special file";
}

Category category_of(const Change& change, const GlobSet& protected_set, const GlobSet& expected) {
  bool removes_subtree = change.replaces_real_subtree();
  if (protected_set.matches(change.path)) return Category::protected_;
  if (removes_subtree && protected_set.may_match_below(change.path)) return Category::protected_;
  if (change.change != ChangeKind::deleted && symlink_reaches_protected(change, protected_set)) {
    return Category::protected_;
  }
  if (expected.matches(change.path) &&
      (!removes_subtree || expected.matches_subtree(change.path))) {
    return Category::expected;
  }
  return Category::unexpected;
}

void categorize(ChangeList& changes, const GlobSet& protected_set, const GlobSet& expected) {
  for (auto& change : changes.changes)
    change.category = category_of(change, protected_set, expected);
}

std::string_view to_string(VerdictKind kind) {
  switch (kind) {
    case VerdictKind::promoted:
      return "promoted";
    case VerdictKind::held:
      return "held";
    case VerdictKind::rejected:
      return "rejected";
    case VerdictKind::failed:
      return "failed";
    case VerdictKind::staged:
      return "staged";
  }
  return "?";
}

Verdict decide_verdict(const ChangeList& changes, const VerdictInputs& in) {
  Verdict verdict;
  std::vector<std::string> rejections = in.reject_reasons;
  collect_rejections(changes, rejections, verdict.summary.rejected);
  CategoryPaths paths = paths_by_category(changes);
  verdict.summary.expected = paths.expected;
  verdict.summary.unexpected = paths.unexpected.count;
  verdict.summary.protected_count = paths.protected_paths.count;
  malicious_package_rejections(in.findings, rejections);
  std::vector<std::string> holds = suspicious_reasons(in.findings);
  verdict.suspicious = !holds.empty();
  auto more_holds = hold_findings(paths, in);
  holds.insert(holds.end(), more_holds.begin(), more_holds.end());
  verdict.touches_protected = !paths.protected_paths.empty();
  verdict.needs_confirmation = !holds.empty();

  bool failed = in.exit_code != 0 && !in.promote_on_failure;
  if (!rejections.empty()) {
    verdict.kind = VerdictKind::rejected;
  } else if (failed) {
    verdict.kind = VerdictKind::failed;
  } else if (in.no_promote) {
    verdict.kind = VerdictKind::staged;
  } else if (!holds.empty()) {
    verdict.kind = VerdictKind::held;
  } else {
    verdict.kind = VerdictKind::promoted;
  }

  auto& reasons = verdict.reasons;
  reasons.insert(reasons.end(), rejections.begin(), rejections.end());
  if (in.exit_code != 0) {
    std::string status = "the command exited with status " + std::to_string(in.exit_code);
    reasons.push_back(in.promote_on_failure ? status + " (--promote-on-failure: judged anyway)"
                                            : status);
  }
  if (in.no_promote) reasons.push_back("--no-promote: the changes are staged and the run is kept");
  reasons.insert(reasons.end(), holds.begin(), holds.end());
  if (reasons.empty()) {
    reasons.push_back(changes.empty() ? "the command changed nothing in the project"
                                      : plural(paths.expected, "change", "changes") +
                                            " to the project, all expected");
  }
  return verdict;
}

}  // namespace safeinstall::runner
