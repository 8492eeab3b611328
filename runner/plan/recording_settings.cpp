#include "runner/plan/recording_settings.h"

#include <cstdlib>
#include <cstring>

#include "runner/profile/byte_size.h"

namespace safeinstall::runner {

Result<RecordingSettings> recording_settings(const Options& options) {
  RecordingSettings settings;
  auto scripts = parse_script_policy(options.scripts);
  if (!scripts) return propagate(scripts);
  settings.scripts = std::move(*scripts);
  if (!options.memory.empty()) {
    auto bytes = parse_size(options.memory);
    if (!bytes) return plain_error("--memory " + options.memory + ": " + bytes.error().message());
    settings.limits.memory_bytes = *bytes;
  }
  if (options.pids) settings.limits.tasks = static_cast<std::uint64_t>(*options.pids);
  if (options.cpu_time_seconds)
    settings.limits.cpu_ms = static_cast<std::uint64_t>(*options.cpu_time_seconds * 1000.0);
  if (!options.disk.empty()) {
    auto bytes = parse_size(options.disk);
    if (!bytes) return plain_error("--disk " + options.disk + ": " + bytes.error().message());
    settings.limits.staged.bytes = *bytes;
  }
  if (options.files) settings.limits.staged.entries = static_cast<std::uint64_t>(*options.files);
  return settings;
}

void apply_recording(const RecordingSettings& settings, sandbox::Spec& spec) {
  const char* record = std::getenv("SAFEINSTALL_RECORD");
  spec.record_syscalls = record == nullptr || std::strcmp(record, "off") != 0;
  const auto& limits = settings.limits;
  // The kernel stops a process at exactly --pids; the sampler records it and stops the rest.
  if (limits.tasks) spec.limits.processes = *limits.tasks;
  // Per process, a backstop for the sampled tree limits: set above them, so the sampler,
  // which sees the whole tree and records why, normally trips first.
  if (limits.memory_bytes) {
    spec.limits.data_bytes = *limits.memory_bytes * 2;
    spec.limits.tree_memory_bytes = *limits.memory_bytes;
  }
  if (limits.cpu_ms) spec.limits.cpu_seconds = *limits.cpu_ms / 1000 + 2;
}

}  // namespace safeinstall::runner
