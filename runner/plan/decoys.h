#pragma once
// Decoy credentials in the throwaway home: plausible fake files where stolen tokens are
// looked for (~/.npmrc, ~/.ssh/id_rsa, ~/.aws/credentials…), each saying in a comment that
// it is a safeinstall decoy, with values made afresh for every run. A package script that
// opens one is caught by the supervisor (runner/supervise/decoy_watch.h); one of its values
// seen at the egress gateway is exfiltration (sandbox/egress/decoy_matcher.h).

#include <string>
#include <vector>

#include "runner/profile/profile_schema.h"
#include "sandbox/base/error.h"
#include "sandbox/egress/decoy_matcher.h"

namespace safeinstall::runner {

struct RunPlan;

struct Decoy {
  std::string file;                // home-relative as a person writes it: "~/.aws/credentials"
  std::string content;             // what the file holds
  std::vector<std::string> cores;  // the random parts of its values: what the gateway looks for
  std::string target;              // its path inside the sandbox, once placed
};

// A fresh set of decoys, one per name in kDecoyFiles (runner/profile/decoy_names.h) not in
// `skip`: new random values
// on every call, recognizable prefixes (npm_, ghp_, gho_, AKIA…) so a scanner takes them for
// real, and a comment (or a field, where the format has no comments) naming them as decoys.
std::vector<Decoy> make_decoys(const std::vector<std::string>& skip);

// What the profile says of decoys for this run.
struct DecoySettings {
  bool enabled = true;
  std::vector<std::string> skip;        // never made: "~/.npmrc"
  std::vector<std::string> tool_reads;  // read by the tool itself: see decoy_watch.h
  bool reads_have_pids = false;         // the supervisor can name who opened a decoy
};
DecoySettings decoy_settings(const ProfileLayer& merged, bool reads_have_pids);

// Puts the profile's decoys in the plan: a decoy goes nowhere a file named with --credentials
// or a read-only bind goes, and where a sanitized copy of the invoker's configuration goes
// (~/.npmrc) it is added to that copy, which holds no secret of theirs. Without pids for
// decoy reads, a file the tool reads itself gets no decoy: its read could not be told from a
// script's.
void plan_decoys(RunPlan& plan, const DecoySettings& settings);

// Puts each of the plan's decoys in the sandbox: a read-only file (mode 0600) that init makes
// in its own tmpfs and binds at its place in the home, watched (MountSpec::watched), so no
// file of the run is written on the host for it; the gateway gets their values.
void place_decoys(RunPlan& plan);

// `text` with each decoy value in it replaced by "[decoy:FILE]": what a process put in its
// argv or sent is shown without the value. The values are letters and digits only, so the
// replacement never breaks an escaping.
void mask_decoy_values(std::string& text, const std::vector<Decoy>& decoys);

// The values the gateway looks for, each with its decoy's name.
std::vector<sandbox::DecoyValue> decoy_values(const std::vector<Decoy>& decoys);

}  // namespace safeinstall::runner
