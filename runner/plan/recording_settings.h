#pragma once
// From the command line to the recording supervisor and the sandbox's rlimits: script
// policy, --memory, --pids, --cpu-time, --disk and --files (each defaulting to the
// profile's [limits], filled into the options by runner/plan/profile_loader.cpp).
// SAFEINSTALL_RECORD=off turns the notification filter off (the kernel then refuses silently); it
// exists to measure recording's cost.

#include "runner/options.h"
#include "runner/supervise/supervisor.h"
#include "sandbox/base/error.h"
#include "sandbox/base/spec.h"

namespace safeinstall::runner {

Result<RecordingSettings> recording_settings(const Options& options);

// Turns recording on in the spec (unless SAFEINSTALL_RECORD=off) and sets the per-process
// rlimits that back the sampled limits.
void apply_recording(const RecordingSettings& settings, sandbox::Spec& spec);

}  // namespace safeinstall::runner
