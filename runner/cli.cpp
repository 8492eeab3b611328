#include "runner/cli.h"

#include <CLI/CLI.hpp>

#include "runner/exit_codes.h"

namespace safeinstall::runner {
namespace {

constexpr const char* kDescription =
    "Runs COMMAND (a package manager install, or anything else) as hostile code: in new\n"
    "namespaces, on a read-only view of the host with secrets hidden, with no capabilities,\n"
    "a seccomp filter and no network beyond loopback.\n\n"
    "  safeinstall [options] [--] COMMAND [ARGS...]\n"
    "  safeinstall check        test whether this host can build the sandbox\n";

void define_options(CLI::App& app, Options& options, bool& version) {
  app.add_option("--project", options.project, "Project directory (default: current directory)")
      ->type_name("DIR");
  app.add_option("--report", options.report_path, "Write the JSON run report to FILE")
      ->type_name("FILE");
  app.add_option("--timeout", options.timeout_seconds, "Kill the sandbox after SECONDS")
      ->type_name("SECONDS")
      ->check(CLI::PositiveNumber);
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
  app.add_flag("-v,--verbose", options.verbose, "Say more in the receipt");
  app.add_flag("-q,--quiet", options.quiet, "Print the receipt only when the run did not succeed");
  app.add_flag("-V,--version", version, "Print the version and exit");
}

// Options end at `--` or at the first word that is neither an option nor an option's value;
// from there on everything belongs to COMMAND, verbatim.
std::size_t command_start(CLI::App& app, const std::vector<std::string>& args, bool& explicit_dash) {
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

CommandLine exit_with(int code, std::string output, bool error) {
  CommandLine cl;
  cl.action = CommandLine::Action::Exit;
  cl.exit_code = code;
  cl.output = std::move(output);
  cl.output_is_error = error;
  return cl;
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const* argv) {
  CommandLine cl;
  bool version = false;
  CLI::App app(kDescription, "safeinstall");
  app.formatter(std::make_shared<CLI::Formatter>());
  app.get_formatter()->column_width(28);
  define_options(app, cl.options, version);
  app.footer(
      "Exit codes: the command's own code; 124 timeout; 125 safeinstall failed (nothing was run\n"
      "unconfined); 126 not executable; 127 not found; 128+N killed by signal N.");

  std::vector<std::string> args(argv + 1, argv + argc);
  bool explicit_dash = false;
  std::size_t start = command_start(app, args, explicit_dash);
  std::vector<std::string> own(args.begin(), args.begin() + static_cast<long>(start));
  std::vector<std::string> command(args.begin() + static_cast<long>(start) + (explicit_dash ? 1 : 0),
                                   args.end());
  try {
    std::vector<std::string> reversed(own.rbegin(), own.rend());
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return exit_with(exit_code::kSuccess, app.help(), false);
  } catch (const CLI::ParseError& e) {
    std::string message = "safeinstall: " + std::string(e.what()) + "\n\n" + app.help();
    return exit_with(exit_code::kSafeinstallFailed, message, true);
  }
  if (version) return exit_with(exit_code::kSuccess, "safeinstall " SAFEINSTALL_VERSION "\n", false);
  if (!explicit_dash && command.size() == 1 && command.front() == "check") {
    cl.action = CommandLine::Action::Check;
    return cl;
  }
  if (command.empty())
    return exit_with(exit_code::kSafeinstallFailed,
                     "safeinstall: no command given\n\n" + app.help(), true);
  cl.options.command = command;
  return cl;
}

}  // namespace safeinstall::runner
