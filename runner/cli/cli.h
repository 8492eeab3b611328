#pragma once
// The command line: `safeinstall [options] [--] COMMAND [ARGS...]`, `safeinstall check`, and
// the run subcommands `runs`, `promote RUN_ID`, `discard RUN_ID`, `gc`, and the package
// commands `db import`, `db check` and `scan`.

#include <string>

#include "runner/cli/package_commands.h"
#include "runner/cli/setup_command.h"
#include "runner/options.h"

namespace safeinstall::runner {

struct CommandLine {
  enum class Action {
    Run,
    Check,
    Exit,
    Runs,
    Promote,
    Discard,
    Gc,
    Profiles,
    DbImport,
    DbCheck,
    Scan,
    Completions,
    Setup
  };
  Action action = Action::Run;
  Options options;
  int exit_code = 0;   // for Exit
  std::string output;  // for Exit: help, version or an error, already formatted
  bool output_is_error = false;
  std::string run_id;                   // for Promote, Discard and `runs show`
  bool runs_show = false;               // for Runs: `runs show RUN_ID`
  bool runs_prune = false;              // for Runs: `runs prune`
  std::string prune_older_than;         // for `runs prune --older-than AGE`
  long long prune_keep = -1;            // for `runs prune --keep N`; -1: the profile's
  bool json = false;                    // for Runs: --json
  bool gc_all = false;                  // for Gc: held and staged runs too
  double gc_older_than_days = 7.0;      // for Gc
  std::string profile_name;             // for Profiles: `profiles show NAME`; empty lists them
  std::vector<std::string> db_sources;  // for DbImport (dirs, zips) and DbCheck (lockfiles)
  std::string db_dir;                   // for DbImport (--into) and DbCheck (--db)
  ScanRequest scan;                     // for Scan
  std::string completions;              // for Completions: bash, zsh, fish or profile-names
  SetupRequest setup;                   // for Setup
};

CommandLine parse_command_line(int argc, const char* const* argv);
// A command line that only prints `output` (to stderr when `error`) and exits with `code`.
CommandLine exit_with(int code, std::string output, bool error);

// The options and subcommands as the parsers above define them, for the shell completions
// (runner/cli/completions.h).
struct OptionSpec {
  std::vector<std::string> names;  // "-y", "--yes"
  std::string value;               // the value's type name ("DIR", "NAME"); empty for a flag
  bool repeatable = false;         // every occurrence counts (--allow-host)
  std::string help;
};

struct CommandSpec {
  std::string name;  // empty for the main command line
  std::string help;
  std::vector<std::string> words;  // words that may follow the name: `runs show`, `db import`
  std::vector<OptionSpec> options;
};

std::vector<CommandSpec> command_specs();

}  // namespace safeinstall::runner
