// si-autorun-driver: the verdict's view of one staged tree, with and without the auto-run
// check, for bench/p7-autorun.sh.
//
//   si-autorun-driver --upper DIR --project DIR --profile FILE [--repeat N] [--skip-check]
//                     [--log FILE]
//
// Lists the changes UPPER makes to PROJECT, categorizes them with the profile file's
// [files] expected globs, then runs auto_run_findings() with its [autorun] points N times
// (1 by default). Prints one JSON line: the number of changes and findings, the listing's
// time and the check's median wall and CPU time (appended to FILE with --log, since hyperfine
// discards output). --skip-check stops after categorizing, so that hyperfine can compare the two
// whole processes. Exits 0, or 1 with the error on stderr.

#include <time.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runner/judge/auto_run_points.h"
#include "runner/profile/auto_run_rules.h"
#include "runner/profile/profile_schema.h"
#include "runner/staging/change_list.h"
#include "runner/staging/verdict.h"

namespace {

using namespace safeinstall::runner;
using Clock = std::chrono::steady_clock;

struct Arguments {
  std::string upper, project, profile, log;
  int repeat = 1;
  bool skip_check = false;
};

bool parse(int argc, char** argv, Arguments& args) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--skip-check") {
      args.skip_check = true;
      continue;
    }
    if (i + 1 >= argc) return false;
    std::string value = argv[++i];
    if (arg == "--upper")
      args.upper = value;
    else if (arg == "--project")
      args.project = value;
    else if (arg == "--profile")
      args.profile = value;
    else if (arg == "--log")
      args.log = value;
    else if (arg == "--repeat")
      args.repeat = std::max(1, std::stoi(value));
    else
      return false;
  }
  return !args.upper.empty() && !args.project.empty() && !args.profile.empty();
}

// CPU time of this thread: on a machine loaded by other work, wall time measures the load.
double thread_cpu_ms() {
  timespec now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

int fail(const std::string& what) {
  std::cerr << "si-autorun-driver: " << what << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Arguments args;
  if (!parse(argc, argv, args))
    return fail(
        "usage: si-autorun-driver --upper DIR --project DIR --profile FILE [--repeat N] "
        "[--skip-check] [--log FILE]");
  auto layer = load_profile_layer(args.profile, LayerKind::Profile);
  if (!layer) return fail(layer.error().message());
  std::vector<std::string> expected;
  for (const auto& g : layer->expected) expected.push_back(g.value);
  auto expected_set = GlobSet::from(expected);
  if (!expected_set) return fail(expected_set.error().message());
  auto rules = auto_run_rules_of(*layer);
  if (!rules) return fail(rules.error().message());

  auto listing = Clock::now();
  auto changes = list_changes(args.upper, args.project);
  if (!changes) return fail(changes.error().message());
  categorize(*changes, protected_paths(), *expected_set);
  double list_ms = ms_since(listing);

  std::vector<double> check_ms, check_cpu_ms;
  std::size_t findings = 0;
  for (int i = 0; i < (args.skip_check ? 0 : args.repeat); ++i) {
    auto start = Clock::now();
    double cpu_start = thread_cpu_ms();
    auto found = auto_run_findings(*changes, args.upper, args.project, *rules, {});
    check_cpu_ms.push_back(thread_cpu_ms() - cpu_start);
    check_ms.push_back(ms_since(start));
    findings = found.size();
  }
  std::ranges::sort(check_ms);
  std::ranges::sort(check_cpu_ms);
  nlohmann::json line = {{"changes", changes->changes.size()},
                         {"findings", findings},
                         {"list_ms", list_ms},
                         {"skip_check", args.skip_check}};
  if (!check_ms.empty()) {
    line["check_ms_median"] = check_ms[check_ms.size() / 2];
    line["check_ms_max"] = check_ms.back();
    line["check_cpu_ms_median"] = check_cpu_ms[check_cpu_ms.size() / 2];
  }
  std::cout << line.dump() << "\n";
  if (!args.log.empty()) std::ofstream(args.log, std::ios::app) << line.dump() << "\n";
  return 0;
}
