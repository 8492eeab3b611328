#include "runner/cli/cli.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iterator>

#include "runner/cli/option_ranges.h"
#include "runner/cli/setup_command.h"
#include "runner/exit_codes.h"

namespace safeinstall::runner {
namespace {

constexpr const char* kDescription =
    "Runs COMMAND (a package manager install, or anything else) as hostile code: in new\n"
    "namespaces, on a read-only view of the host with secrets hidden, with no capabilities,\n"
    "a seccomp filter and no network beyond loopback.\n\n"
    "  safeinstall [options] [--] COMMAND [ARGS...]\n"
    "  safeinstall check        test whether this host can build the sandbox\n"
    "  safeinstall runs [--project DIR] [--json]\n"
    "                           list kept runs with their verdict and age\n"
    "  safeinstall runs show RUN_ID [--json]\n"
    "                           one run: verdict, findings, changes, its report\n"
    "  safeinstall runs prune [--older-than AGE] [--keep N]\n"
    "                           remove finished runs (never held ones)\n"
    "  safeinstall promote [--allow-protected] RUN_ID\n"
    "                           promote a kept run's staged changes into its project\n"
    "  safeinstall discard RUN_ID\n"
    "                           throw a kept run's staged changes away\n"
    "  safeinstall gc [--all] [--older-than DAYS]\n"
    "                           remove finished runs (--all: held and staged ones too)\n"
    "  safeinstall profiles     list the profiles and the layers they come from\n"
    "  safeinstall profiles show NAME\n"
    "                           the effective profile for this project, with where every\n"
    "                           value was set\n"
    "  safeinstall db import DIR|ZIP...\n"
    "                           import an OSV database (JSON entries, or OSV's all.zip)\n"
    "  safeinstall scan [--db DIR] [--package NAME@VER] [--json] PATH...\n"
    "                           is a known-bad version installed in these projects, or was\n"
    "                           it brought in by a kept run (exit 1 when found)\n"
    "  safeinstall setup [--shell bash|zsh|fish] [--remove]\n"
    "                           aliases for npm, pip, cargo... that sandbox their installs\n"
    "                           only; everything else runs the tool itself\n"
    "  safeinstall setup --ci DIR [--remove]\n"
    "                           the same as PATH shims in DIR, for CI\n\n"
    "The command's writes to the project are staged and judged; only expected changes reach\n"
    "the project by themselves.\n";

void define_options(CLI::App& app, Options& options, bool& version) {
  app.add_option("--project", options.project, "Project directory (default: current directory)")
      ->type_name("DIR");
  app.add_option("--report", options.report_path, "Write the JSON run report to FILE")
      ->type_name("FILE");
  app.add_option("--sarif", options.sarif_path,
                 "Write the run's findings as SARIF 2.1.0 to FILE (for code scanning)")
      ->type_name("FILE");
  app.add_option("--summary", options.summary_path,
                 "Write a Markdown summary of the run to FILE (default: append to "
                 "$GITHUB_STEP_SUMMARY when it is set)")
      ->type_name("FILE");
  app.add_option("--format", options.format,
                 "Print the run as FORMAT on stdout: sarif, markdown or json (the report); the "
                 "command's own output and the receipt go to stderr")
      ->type_name("FORMAT")
      ->check(CLI::IsMember({"sarif", "markdown", "json"}));
  app.add_option("--timeout", options.timeout_seconds, "Kill the sandbox after SECONDS")
      ->type_name("SECONDS")
      ->check(within(seconds_range()));
  app.add_option("--pass-env", options.pass_env,
                 "Let environment variable NAME into the sandbox even if it looks secret")
      ->type_name("NAME")
      ->take_last()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--allow-host", options.allow_hosts,
                 "Let the command reach PATTERN through the egress gateway: registry.npmjs.org, "
                 "*.pythonhosted.org (subdomains), host:80, an exact IP")
      ->type_name("PATTERN")
      ->take_last()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--home-size", options.home_size, "Size limit of the throwaway home (e.g. 1G)")
      ->type_name("SIZE");
  app.add_option("--tmp-size", options.tmp_size, "Size limit of the sandbox's /tmp (e.g. 2G)")
      ->type_name("SIZE");
  app.add_option("--scripts", options.scripts,
                 "Install scripts that may run: all, none, or allow:PKG[,PKG...] (others are "
                 "refused and recorded)")
      ->type_name("POLICY");
  app.add_option("--memory", options.memory,
                 "Kill the sandbox when its processes use more than SIZE of memory (e.g. 2G)")
      ->type_name("SIZE");
  app.add_option("--pids", options.pids, "Kill the sandbox when it reaches N processes and threads")
      ->type_name("N")
      ->check(within(process_range()));
  app.add_option("--cpu-time", options.cpu_time_seconds,
                 "Kill the sandbox when its processes used SECONDS of CPU time")
      ->type_name("SECONDS")
      ->check(within(seconds_range()));
  app.add_option("--disk", options.disk,
                 "Kill the sandbox when it staged more than SIZE in the project and caches "
                 "(e.g. 4G); nothing is promoted")
      ->type_name("SIZE");
  app.add_option("--files", options.files,
                 "Kill the sandbox when it staged more than N files and directories; nothing "
                 "is promoted")
      ->type_name("N")
      ->check(within(file_count_range()));
  app.add_flag("--no-decoys", options.no_decoys,
               "Put no decoy credentials in the throwaway home (see [decoys] in the profiles)");
  app.add_flag("--no-promote", options.no_promote,
               "Stage the project's changes only and keep the run (see `safeinstall promote`)");
  auto* yes = app.add_flag("-y,--yes", options.yes,
                           "Promote a held run's changes without asking (protected paths still "
                           "need --allow-protected)");
  app.add_flag("--allow-broad", options.allow_broad,
               "Accept host patterns that cover a whole public suffix (*.com, *.co.uk)");
  app.add_flag("--trust-project-config", options.trust_project_config,
               "In CI, accept a project .safeinstall.toml that widens the sandbox (hosts, "
               "expected writes, environment, credentials)");
  app.add_flag("--audit", options.audit,
               "Learn what the command needs: any public host is reachable (and recorded), the "
               "run is held, and the .safeinstall.toml additions that would have let it pass "
               "are written beside its report")
      ->excludes(yes);
  app.add_flag("--allow-protected", options.allow_protected,
               "Promote changes to protected paths too (.git, .github, CI and editor config...)");
  app.add_flag("--promote-on-failure", options.promote_on_failure,
               "Judge and promote the changes even when the command failed");
  app.add_option("--expect", options.expect,
                 "Count project writes matching GLOB as expected (dist/**, *.generated.ts)")
      ->type_name("GLOB")
      ->take_last()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--profile", options.profile,
                 "Use profile NAME instead of the one matching COMMAND (see `safeinstall "
                 "profiles`)")
      ->type_name("NAME");
  app.add_option("--credentials", options.credentials,
                 "Mount FILE read-only with its secrets (a registry token file, ~/.npmrc...)")
      ->type_name("FILE")
      ->take_last()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--ro-bind", options.ro_binds,
                 "Make the host path PATH visible, read-only, for this run (the sandbox sees only "
                 "/usr, /etc, /opt and the like unless told more)")
      ->type_name("PATH")
      ->take_last()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--osv-db", options.osv_db,
                 "Check new package versions against the OSV database in DIR (an imported "
                 "one, or OSV JSON files) as well as the one `safeinstall db import` keeps")
      ->type_name("DIR");
  app.add_flag("-v,--verbose", options.verbose, "Say more in the receipt");
  app.add_flag("-q,--quiet", options.quiet,
               "A clean run prints one line instead of the receipt (-qq: nothing); any other "
               "run prints the whole receipt");
  app.add_flag("-V,--version", version, "Print the version and exit");
}

// Options end at `--` or at the first word that is neither an option nor an option's value;
// from there on everything belongs to COMMAND, verbatim.
std::size_t command_start(CLI::App& app, const std::vector<std::string>& args,
                          bool& explicit_dash) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      explicit_dash = true;
      return i;
    }
    if (arg.size() < 2 || arg.front() != '-') return i;
    if (arg.find('=') != std::string::npos) continue;
    const CLI::Option* option = app.get_option_no_throw(arg);
    if (option != nullptr && option->get_items_expected_min() > 0) ++i;
  }
  return args.size();
}

bool is_subcommand(const std::string& word) {
  return word == "runs" || word == "promote" || word == "discard" || word == "gc";
}

std::string subcommand_help(const std::string& name) {
  return name == "runs"      ? "List kept runs with their verdict and age; `runs show RUN_ID` "
                               "prints one: its verdict, findings and changes; `runs prune` "
                               "removes finished runs (never held or staged ones)."
         : name == "promote" ? "Promote a kept run's staged changes into its project."
         : name == "discard" ? "Throw a kept run's staged changes away."
                             : "Remove finished runs and promotion leftovers.";
}

// `verb`: the word after `runs` ("show", "prune"), else empty.
void define_subcommand_options(CLI::App& sub, const std::string& name, const std::string& verb,
                               CommandLine& cl) {
  bool show = name == "runs" && verb == "show";
  bool prune = name == "runs" && verb == "prune";
  if (name == "promote" || name == "discard" || show) {
    sub.add_option("RUN_ID", cl.run_id, "A run id, as `safeinstall runs` lists them")->required();
  }
  if (name == "runs") {
    if (!prune)
      sub.add_flag("--json", cl.json, "Print JSON (`runs show --json`: the run's report)");
    if (prune) {
      sub.add_option("--older-than", cl.prune_older_than,
                     "Remove finished runs older than AGE (30d, 12h; default: [runs] max_age)")
          ->type_name("AGE");
      sub.add_option("--keep", cl.prune_keep,
                     "Keep the N newest runs (default: [runs] keep); held runs are always kept")
          ->type_name("N")
          ->check(CLI::NonNegativeNumber);
    } else if (!show) {
      sub.add_option("--project", cl.options.project, "Only the runs of project DIR")
          ->type_name("DIR");
    }
  }
  if (name == "promote") {
    sub.add_flag("--allow-protected", cl.options.allow_protected,
                 "Promote changes to protected paths too");
  }
  if (name == "gc") {
    sub.add_flag("--all", cl.gc_all, "Remove held and staged runs too");
    sub.add_option("--older-than", cl.gc_older_than_days, "Only runs older than DAYS (default 7)")
        ->type_name("DAYS")
        ->check(within(days_range()));
  }
}

// `runs`, `promote RUN_ID`, `discard RUN_ID`, `gc`: their own small parsers, so each one's
// --help lists only what it takes.
CommandLine parse_subcommand(CommandLine cl, const std::vector<std::string>& words) {
  const std::string& name = words.front();
  CLI::App sub(subcommand_help(name), "safeinstall " + name);
  sub.formatter(std::make_shared<CLI::Formatter>());
  std::string verb = name == "runs" && words.size() > 1 ? words[1] : "";
  bool show = verb == "show";
  bool prune = verb == "prune";
  define_subcommand_options(sub, name, show || prune ? verb : "", cl);
  // `runs show RUN_ID`: the word `show` is the subcommand's, not an argument.
  std::vector<std::string> reversed(words.rbegin(), words.rend() - (show || prune ? 2 : 1));
  cl.runs_show = show;
  cl.runs_prune = prune;
  try {
    sub.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return exit_with(exit_code::kSuccess, sub.help(), false);
  } catch (const CLI::ParseError& e) {
    return exit_with(exit_code::kSafeinstallFailed,
                     "safeinstall " + name + ": " + e.what() + "\n\n" + sub.help(), true);
  }
  cl.action = name == "runs"      ? CommandLine::Action::Runs
              : name == "promote" ? CommandLine::Action::Promote
              : name == "discard" ? CommandLine::Action::Discard
                                  : CommandLine::Action::Gc;
  return cl;
}

// `profiles` lists them; `profiles show NAME` prints one with the origin of every value.
CommandLine parse_profiles_subcommand(CommandLine cl, const std::vector<std::string>& words) {
  const std::string usage = "usage: safeinstall [--project DIR] profiles [show NAME]\n";
  if (words.size() == 2 && (words[1] == "--help" || words[1] == "-h"))
    return exit_with(exit_code::kSuccess, usage, false);
  if (words.size() == 1 || (words.size() == 3 && words[1] == "show")) {
    cl.action = CommandLine::Action::Profiles;
    if (words.size() == 3) cl.profile_name = words[2];
    return cl;
  }
  return exit_with(exit_code::kSafeinstallFailed,
                   "safeinstall profiles: unexpected arguments\n" + usage, true);
}

void define_db_options(CLI::App& sub, const std::string& verb, CommandLine& cl) {
  if (verb == "import") {
    sub.add_option("--into", cl.db_dir, "Write the index to DIR instead of the state dir")
        ->type_name("DIR");
    sub.add_option("SOURCE", cl.db_sources, "Directories and zips of OSV JSON entries")->required();
  } else {
    sub.add_option("--db", cl.db_dir, "The OSV database in DIR")->type_name("DIR");
    sub.add_option("--vuln-severity", cl.options.vuln_severity,
                   "Lowest vulnerability severity reported (default high)")
        ->type_name("SEVERITY");
    sub.add_option("LOCKFILE", cl.db_sources, "Lockfiles to check")->required();
  }
}

// `db import SOURCE... [--into DIR]`; `db check [--db DIR] LOCKFILE...` measures the known-bad
// check alone and is left out of the help.
CommandLine parse_db_subcommand(CommandLine cl, const std::vector<std::string>& words) {
  std::string verb = words.size() > 1 ? words[1] : "";
  if (verb != "import" && verb != "check") {
    std::string usage =
        "usage: safeinstall db import [--into DIR] DIR|ZIP...\n"
        "  Imports OSV entries (https://osv.dev: a directory of JSON files, or a zip such as\n"
        "  https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip) into a compact index\n"
        "  in safeinstall's state dir; every run checks the package versions it brings in\n"
        "  against it (see docs/policy.md).\n";
    bool help = verb == "--help" || verb == "-h";
    return exit_with(help ? exit_code::kSuccess : exit_code::kSafeinstallFailed, usage, !help);
  }
  CLI::App sub(verb == "import"
                   ? "Import OSV entries (a directory of JSON files, or a zip of them such as "
                     "OSV's per-ecosystem all.zip) into safeinstall's offline database."
                   : "Check every package of LOCKFILE against the OSV database.",
               "safeinstall db " + verb);
  sub.formatter(std::make_shared<CLI::Formatter>());
  define_db_options(sub, verb, cl);
  std::vector<std::string> reversed(words.rbegin(), words.rend() - 2);
  try {
    sub.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return exit_with(exit_code::kSuccess, sub.help(), false);
  } catch (const CLI::ParseError& e) {
    return exit_with(exit_code::kSafeinstallFailed,
                     "safeinstall db " + verb + ": " + e.what() + "\n\n" + sub.help(), true);
  }
  cl.action = verb == "import" ? CommandLine::Action::DbImport : CommandLine::Action::DbCheck;
  return cl;
}

void define_scan_options(CLI::App& sub, CommandLine& cl, bool& no_runs) {
  sub.add_option("--db", cl.scan.db, "Also the OSV database in DIR")->type_name("DIR");
  sub.add_option("--package", cl.scan.packages, "Look for NAME@VERSION (or NAME: any version)")
      ->type_name("NAME@VER")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub.add_flag("--json", cl.scan.json, "Print the result as JSON");
  sub.add_flag("--no-runs", no_runs, "Leave the kept runs' reports out");
  sub.add_option("PATH", cl.scan.paths, "Project directories (walked) and lockfiles");
}

// `completions bash|zsh|fish` prints a shell's completion script, generated from
// command_specs(); `completions profile-names` is what those scripts run to complete
// --profile. Left out of the help: the installed scripts are what users see.
CommandLine parse_completions_subcommand(CommandLine cl, const std::vector<std::string>& words) {
  const std::string kinds[] = {"bash", "zsh", "fish", "profile-names"};
  if (words.size() == 2 && std::ranges::find(kinds, words[1]) != std::end(kinds)) {
    cl.action = CommandLine::Action::Completions;
    cl.completions = words[1];
    return cl;
  }
  return exit_with(exit_code::kSafeinstallFailed, "usage: safeinstall completions bash|zsh|fish\n",
                   true);
}

// The options CLI11 knows of `app`, positional arguments left out.
std::vector<OptionSpec> option_specs(const CLI::App& app) {
  std::vector<OptionSpec> out;
  for (const CLI::Option* option : app.get_options()) {
    OptionSpec spec;
    for (const auto& s : option->get_snames()) spec.names.push_back("-" + s);
    for (const auto& l : option->get_lnames()) spec.names.push_back("--" + l);
    if (spec.names.empty()) continue;
    // The type name with its validator's, "SECONDS:POSITIVE": the first part is the name.
    if (option->get_items_expected_min() > 0) {
      std::string type = option->get_type_name();
      spec.value = type.substr(0, type.find(':'));
    }
    spec.repeatable = option->get_multi_option_policy() == CLI::MultiOptionPolicy::TakeAll;
    spec.help = option->get_description();
    out.push_back(std::move(spec));
  }
  return out;
}

CommandLine parse_scan_subcommand(CommandLine cl, const std::vector<std::string>& words) {
  CLI::App sub(
      "Look for a package version (--package), or any version an OSV MAL- entry names (the\n"
      "imported database and --db), in the lockfiles under each PATH (node_modules, .git,\n"
      "vendor and the like are skipped) and in the reports of the runs safeinstall keeps;\n"
      "for a run, say whether the package's scripts ran and which hosts the run reached.\n"
      "Exit codes: 0 nothing found, 1 found, 125 something could not be read.",
      "safeinstall scan");
  sub.formatter(std::make_shared<CLI::Formatter>());
  bool no_runs = false;
  define_scan_options(sub, cl, no_runs);
  std::vector<std::string> reversed(words.rbegin(), words.rend() - 1);
  try {
    sub.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return exit_with(exit_code::kSuccess, sub.help(), false);
  } catch (const CLI::ParseError& e) {
    return exit_with(exit_code::kSafeinstallFailed,
                     "safeinstall scan: " + std::string(e.what()) + "\n\n" + sub.help(), true);
  }
  cl.scan.runs = !no_runs;
  cl.action = CommandLine::Action::Scan;
  return cl;
}

}  // namespace

CommandLine exit_with(int code, std::string output, bool error) {
  CommandLine cl;
  cl.action = CommandLine::Action::Exit;
  cl.exit_code = code;
  cl.output = std::move(output);
  cl.output_is_error = error;
  return cl;
}

CommandLine parse_command_line(int argc, const char* const* argv) {
  CommandLine cl;
  bool version = false;
  CLI::App app(kDescription, "safeinstall");
  app.formatter(std::make_shared<CLI::Formatter>());
  app.get_formatter()->column_width(28);
  define_options(app, cl.options, version);
  app.footer(
      "Exit codes: the command's own code; 121 held as suspicious (a finding of medium\n"
      "severity or above: a direct connect, a persistence plant, a decoy credential read…);\n"
      "122 held (changes kept, not promoted: see `safeinstall promote RUN_ID`);\n"
      "123 rejected (hard violation or known-malicious package, nothing promoted); 124 timeout;\n"
      "125 safeinstall failed (nothing was run unconfined); 126 not executable; 127 not found;\n"
      "128+N killed by signal N.");

  std::vector<std::string> args(argv + 1, argv + argc);
  bool explicit_dash = false;
  std::size_t start = command_start(app, args, explicit_dash);
  std::vector<std::string> own(args.begin(), args.begin() + static_cast<long>(start));
  std::vector<std::string> command(
      args.begin() + static_cast<long>(start) + (explicit_dash ? 1 : 0), args.end());
  try {
    std::vector<std::string> reversed(own.rbegin(), own.rend());
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return exit_with(exit_code::kSuccess, app.help(), false);
  } catch (const CLI::ValidationError& e) {
    // A value out of its range: the error says the range; the whole help would bury it.
    return exit_with(
        exit_code::kSafeinstallFailed,
        "safeinstall: " + std::string(e.what()) + "\n(safeinstall --help lists the options)\n",
        true);
  } catch (const CLI::ParseError& e) {
    std::string message = "safeinstall: " + std::string(e.what()) + "\n\n" + app.help();
    return exit_with(exit_code::kSafeinstallFailed, message, true);
  }
  if (version)
    return exit_with(exit_code::kSuccess, "safeinstall " SAFEINSTALL_VERSION "\n", false);
  cl.options.scripts_given = app.get_option("--scripts")->count() > 0;
  if (!explicit_dash && !command.empty() && command.front() == "profiles")
    return parse_profiles_subcommand(std::move(cl), command);
  if (!explicit_dash && command.size() == 1 && command.front() == "check") {
    cl.action = CommandLine::Action::Check;
    return cl;
  }
  if (!explicit_dash && !command.empty() && command.front() == "db")
    return parse_db_subcommand(std::move(cl), command);
  if (!explicit_dash && !command.empty() && command.front() == "scan")
    return parse_scan_subcommand(std::move(cl), command);
  if (!explicit_dash && !command.empty() && command.front() == "completions")
    return parse_completions_subcommand(std::move(cl), command);
  if (!explicit_dash && !command.empty() && command.front() == "setup")
    return parse_setup_subcommand(std::move(cl), command);
  if (!explicit_dash && !command.empty() && is_subcommand(command.front()))
    return parse_subcommand(std::move(cl), command);
  if (command.empty())
    return exit_with(exit_code::kSafeinstallFailed,
                     "safeinstall: no command given\n\n" + app.help(), true);
  cl.options.command = command;
  return cl;
}

std::vector<CommandSpec> command_specs() {
  CommandLine cl;
  bool flag = false;
  std::vector<CommandSpec> specs;
  CLI::App app(kDescription, "safeinstall");
  define_options(app, cl.options, flag);
  specs.push_back({"", "", {}, option_specs(app)});
  specs.push_back({"check", "Test whether this host can build the sandbox", {}, {}});
  for (const char* name : {"runs", "promote", "discard", "gc"}) {
    CLI::App sub;
    define_subcommand_options(sub, name, "", cl);
    std::vector<std::string> words;
    if (std::string(name) == "runs") words = {"show", "prune"};
    specs.push_back({name, subcommand_help(name), words, option_specs(sub)});
  }
  specs.push_back({"profiles", "List the profiles, or show one", {"show"}, {}});
  CLI::App db_import;
  define_db_options(db_import, "import", cl);
  specs.push_back({"db", "Import an OSV database", {"import"}, option_specs(db_import)});
  CLI::App scan;
  define_scan_options(scan, cl, flag);
  specs.push_back({"scan", "Look for known-bad package versions", {}, option_specs(scan)});
  CLI::App setup;
  define_setup_options(setup, cl.setup);
  specs.push_back({"setup",
                   "Write shell aliases, or PATH shims for CI, that run installs in the "
                   "sandbox",
                   {},
                   option_specs(setup)});
  return specs;
}

}  // namespace safeinstall::runner
