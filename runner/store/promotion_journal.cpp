#include "runner/store/promotion_journal.h"

#include <array>
#include <nlohmann/json.hpp>
#include <utility>

#include "runner/fs/fs_tree.h"

namespace safeinstall::runner {
namespace {

constexpr std::string_view kSchema = "safeinstall.promotion-journal/1";
constexpr std::size_t kMaxJournalBytes = 64 << 20;

constexpr std::array kStates = {std::pair{JournalState::preparing, "preparing"},
                                std::pair{JournalState::committing, "committing"},
                                std::pair{JournalState::committed, "committed"},
                                std::pair{JournalState::done, "done"},
                                std::pair{JournalState::rolled_back, "rolled-back"}};

constexpr std::array kActions = {std::pair{StepAction::exchange, "exchange"},
                                 std::pair{StepAction::create, "create"},
                                 std::pair{StepAction::remove, "remove"}};

template <typename Enum, std::size_t N>
std::optional<Enum> parse_enum(const std::array<std::pair<Enum, const char*>, N>& table,
                               std::string_view text) {
  for (const auto& [value, name] : table) {
    if (text == name) return value;
  }
  return std::nullopt;
}

nlohmann::json step_to_json(const JournalStep& step) {
  return {{"name", step.name},      {"action", to_string(step.action)},
          {"source", step.source},  {"trash", step.trash},
          {"dev", step.dev},        {"new_ino", step.new_ino},
          {"old_ino", step.old_ino}};
}

std::optional<JournalStep> step_from_json(const nlohmann::json& j) {
  JournalStep step;
  auto action = parse_enum(kActions, j.value("action", ""));
  if (!action) return std::nullopt;
  step.action = *action;
  step.name = j.value("name", "");
  step.source = j.value("source", "");
  step.trash = j.value("trash", "");
  step.dev = j.value("dev", std::uint64_t{0});
  step.new_ino = j.value("new_ino", std::uint64_t{0});
  step.old_ino = j.value("old_ino", std::uint64_t{0});
  // A step names one top-level entry; anything else would make recovery rename elsewhere.
  if (step.name.empty() || step.name == "." || step.name == ".." ||
      step.name.find('/') != std::string::npos) {
    return std::nullopt;
  }
  return step;
}

}  // namespace

std::string_view to_string(JournalState state) {
  for (const auto& [value, name] : kStates) {
    if (value == state) return name;
  }
  return "?";
}

std::string_view to_string(StepAction action) {
  for (const auto& [value, name] : kActions) {
    if (value == action) return name;
  }
  return "?";
}

bool is_unfinished(JournalState state) {
  return state == JournalState::preparing || state == JournalState::committing;
}

Result<std::optional<PromotionJournal>> load_journal(const std::string& file) {
  auto content = read_small_file(file, kMaxJournalBytes);
  if (!content) return propagate(content);
  if (!*content) return std::optional<PromotionJournal>{};
  auto damaged = [&](const std::string& why) {
    return plain_error("read promotion journal " + file + ": " + why,
                       "the journal is safeinstall's own; if it was edited, restore or remove it");
  };
  nlohmann::json j = nlohmann::json::parse(**content, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("schema", "") != kSchema) return damaged("not a promotion journal");
  PromotionJournal journal;
  auto state = parse_enum(kStates, j.value("state", ""));
  if (!state) return damaged("unknown state");
  journal.state = *state;
  journal.run_id = j.value("run_id", "");
  journal.project = j.value("project", "");
  journal.copy_based = j.value("copy_based", false);
  if (journal.project.empty() || journal.project.front() != '/')
    return damaged("no absolute project path");
  for (const auto& s : j.value("steps", nlohmann::json::array())) {
    auto step = step_from_json(s);
    if (!step) return damaged("a step is malformed");
    journal.steps.push_back(std::move(*step));
  }
  for (const auto& path : j.value("scratch", nlohmann::json::array())) {
    if (!path.is_string()) return damaged("a scratch path is malformed");
    journal.scratch.push_back(path.get<std::string>());
  }
  return std::optional<PromotionJournal>(std::move(journal));
}

Result<void> save_journal(const std::string& file, const PromotionJournal& journal, bool durable) {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& step : journal.steps) steps.push_back(step_to_json(step));
  nlohmann::json j = {{"schema", kSchema},
                      {"run_id", journal.run_id},
                      {"project", journal.project},
                      {"state", to_string(journal.state)},
                      {"copy_based", journal.copy_based},
                      {"steps", std::move(steps)},
                      {"scratch", journal.scratch}};
  return write_file_atomically(file, j.dump(1), durable);
}

}  // namespace safeinstall::runner
