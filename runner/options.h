#pragma once
// What the user asked for on the command line, before anything is resolved.

#include <optional>
#include <string>
#include <vector>

namespace safeinstall::runner {

struct Options {
  std::vector<std::string> command;  // COMMAND and its arguments, verbatim
  std::string project;               // empty: the current directory
  std::string report_path;           // empty: no report file
  std::optional<double> timeout_seconds;
  bool verbose = false;
  bool quiet = false;  // no receipt unless something went wrong
  std::vector<std::string> pass_env;
  std::vector<std::string> allow_hosts;  // --allow-host patterns for the egress gateway
  std::string home_size;  // empty: the base profile's
  std::string tmp_size;
};

}  // namespace safeinstall::runner
