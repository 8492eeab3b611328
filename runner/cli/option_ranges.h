#pragma once
// Numeric options checked against the range safeinstall accepts, with an error that says the
// range in the option's own unit ("--timeout: must be between 1 s and 7 d, got 0") instead of
// the parser's limits of a double.

#include <CLI/CLI.hpp>
#include <string>

namespace safeinstall::runner {

struct OptionRange {
  double min;
  double max;
  std::string shown;   // the range as the error says it: "between 1 s and 7 d"
  bool whole = false;  // only whole numbers (a count)
};

// Accepts a number within `range`; anything else (a word, inf, nan, out of range) is refused
// with "must be RANGE, got VALUE".
CLI::Validator within(const OptionRange& range);

// The ranges of safeinstall's numeric options.
OptionRange seconds_range();     // --timeout, --cpu-time: 1 s to 7 days
OptionRange process_range();     // --pids: 1 to the kernel's pid limit
OptionRange file_count_range();  // --files
OptionRange days_range();        // gc --older-than: 0 to 100 years

}  // namespace safeinstall::runner
