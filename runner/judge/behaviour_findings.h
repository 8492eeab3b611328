#pragma once
// Behaviour findings: what the command did that a person should hear about even when every
// write was expected — a connect straight to an address, a DNS name or host the profile
// does not allow, a persistence plant in the throwaway home, a protected project write, a
// survivor, a refused system call or install script, a download that was executed.

#include <vector>

#include "runner/finding.h"
#include "runner/record/run_record.h"

namespace safeinstall::runner {

// The behaviour findings of a judged run (judge() has recorded its violations and the
// staged changes are categorized), in a stable order.
std::vector<Finding> behaviour_findings(const RunRecord& record);

// Keeps `findings` in the record and reports each in `violations[]`: those that mirror a
// violation already recorded (a refused syscall or script, a survivor, a host unix socket)
// lend it their severity; the others are added as violations of their own.
void record_findings(RunRecord& record, std::vector<Finding> findings);

// A shell whose `-c` script pipes curl or wget into a shell: "curl -s URL | sh".
bool pipes_download_into_shell(const std::vector<std::string>& argv);

}  // namespace safeinstall::runner
