// si-promote-driver: promotes one prepared run, for the crash-safety test (which SIGKILLs it
// at random moments) and the P3 benchmark (which times it against cp -a).
//
//   si-promote-driver --run-dir DIR --project DIR [--copy] [--defer-cleanup]
//                     [--step-delay-ms N] [--log FILE]
//   si-promote-driver --run-dir DIR --recover
//
// DIR is a run dir that is its own staging dir (DIR/upper is the overlay upper dir). Every
// change is judged promotable: this exercises promotion, not policy. Prints one JSON line
// with the timings (and appends it to FILE with --log, for benchmarks whose runner discards
// output); exits 0 on success, 1 with the error on stderr.

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "runner/promotion/promotion.h"
#include "runner/staging/change_list.h"
#include "runner/store/run_store.h"

namespace {

using namespace safeinstall::runner;
using Clock = std::chrono::steady_clock;

struct Arguments {
  std::string run_dir;
  std::string project;
  bool copy = false;
  bool defer_cleanup = false;
  bool recover = false;
  int step_delay_ms = 0;
  std::string log;
};

int usage(const char* why) {
  std::cerr
      << "si-promote-driver: " << why
      << "\nusage: si-promote-driver --run-dir DIR --project DIR [--copy] [--defer-cleanup] "
         "[--step-delay-ms N] [--log FILE]\n       si-promote-driver --run-dir DIR --recover\n";
  return 2;
}

bool parse(int argc, char** argv, Arguments& args) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (arg == "--run-dir") {
      const char* v = value();
      if (v == nullptr) return false;
      args.run_dir = v;
    } else if (arg == "--project") {
      const char* v = value();
      if (v == nullptr) return false;
      args.project = v;
    } else if (arg == "--step-delay-ms") {
      const char* v = value();
      if (v == nullptr) return false;
      args.step_delay_ms = std::atoi(v);
    } else if (arg == "--log") {
      const char* v = value();
      if (v == nullptr) return false;
      args.log = v;
    } else if (arg == "--copy") {
      args.copy = true;
    } else if (arg == "--defer-cleanup") {
      args.defer_cleanup = true;
    } else if (arg == "--recover") {
      args.recover = true;
    } else {
      return false;
    }
  }
  return !args.run_dir.empty() && (args.recover || !args.project.empty());
}

double ms(std::chrono::microseconds us) {
  return static_cast<double>(us.count()) / 1000.0;
}

int fail(const safeinstall::Error& error) {
  std::cerr << "si-promote-driver: " << error.message() << "\n";
  return 1;
}

int run_recovery(const RunDir& run) {
  auto result = recover(run);
  if (!result) return fail(result.error());
  std::cout
      << nlohmann::json{{"recovery", to_string(result->outcome)}, {"notes", result->notes}}.dump()
      << "\n";
  return 0;
}

int run_promotion(const Arguments& args, const RunDir& run) {
  auto list_start = Clock::now();
  auto changes = list_changes(run.upper(), args.project);
  if (!changes) return fail(changes.error());
  auto list_time = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - list_start);
  for (auto& change : changes->changes) change.category = Category::expected;

  PromotionOptions options;
  options.force_copy = args.copy;
  options.defer_cleanup = args.defer_cleanup;
  if (args.step_delay_ms > 0) {
    options.after_step = [delay = args.step_delay_ms](const std::string&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    };
  }
  auto promote_start = Clock::now();
  auto result = promote(run, args.project, *changes, options);
  if (!result) return fail(result.error());
  auto promote_time =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - promote_start);
  nlohmann::json report = {{"changes", changes->changes.size()},
                           {"promoted", result->promoted},
                           {"skipped", result->skipped.size()},
                           {"copy_based", result->copy_based},
                           {"list_ms", ms(list_time)},
                           {"prepare_ms", ms(result->prepare_time)},
                           {"commit_ms", ms(result->commit_time)},
                           {"cleanup_ms", ms(result->cleanup_time)},
                           {"promote_ms", ms(promote_time)}};
  std::cout << report.dump() << "\n";
  if (!args.log.empty()) std::ofstream(args.log, std::ios::app) << report.dump() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Arguments args;
  if (!parse(argc, argv, args)) return usage("bad arguments");
  RunDir run = RunDir::at(args.run_dir);
  return args.recover ? run_recovery(run) : run_promotion(args, run);
}
