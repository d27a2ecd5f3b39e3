#include "tidemark/core/step.h"

#include <nlohmann/json.hpp>

namespace tidemark::core {

namespace {

using nlohmann::json;

json StepToJson(const Step& step) {
  json j = {{"seq", step.seq},         {"id", step.id},
            {"lifecycle", step.lifecycle}, {"storage", step.storage},
            {"system", step.system},   {"action", step.action},
            {"partition", step.partition}, {"params", step.params},
            {"command", step.command}, {"about", step.about}};
  return j;
}

Step StepFromJson(const json& j) {
  Step step;
  step.seq = j.at("seq").get<int>();
  step.id = j.at("id").get<std::string>();
  step.lifecycle = j.value("lifecycle", "");
  step.storage = j.value("storage", "");
  step.system = j.at("system").get<std::string>();
  step.action = j.at("action").get<std::string>();
  step.partition = j.value("partition", "");
  step.params = j.value("params", std::map<std::string, std::string>{});
  step.command = j.value("command", "");
  step.about = j.value("about", "");
  return step;
}

util::Instant InstantField(const json& j, const char* key) {
  auto parsed = util::ParseTimestamp(j.at(key).get<std::string>());
  if (!parsed || !parsed->offset) throw std::invalid_argument(std::string("bad ") + key);
  return util::Instant(parsed->local.time_since_epoch()) - *parsed->offset;
}

}  // namespace

std::string RunFileToJson(const RunFile& run) {
  json steps = json::array();
  for (const Step& step : run.steps) steps.push_back(StepToJson(step));
  json j = {{"format", run.format},
            {"run_id", run.run_id},
            {"kind", run.kind},
            {"dataset", run.dataset},
            {"system", run.system},
            {"created_at", util::FormatInstant(run.created_at)},
            {"now", util::FormatInstant(run.now)},
            {"config_sha256", run.config_sha256},
            {"notes", run.notes},
            {"steps", steps}};
  return j.dump(2) + "\n";
}

util::Result<RunFile> RunFileFromJson(const std::string& text, const std::string& name) {
  try {
    json j = json::parse(text);
    RunFile run;
    run.format = j.at("format").get<std::string>();
    if (run.format != kRunFormat) {
      return util::ConfigError(name + ": run file format \"" + run.format +
                               "\" is not one this tidemark reads (it reads " + kRunFormat + ")");
    }
    run.run_id = j.at("run_id").get<std::string>();
    run.kind = j.value("kind", "archival");
    run.dataset = j.at("dataset").get<std::string>();
    run.system = j.value("system", "");
    run.created_at = InstantField(j, "created_at");
    run.now = InstantField(j, "now");
    run.config_sha256 = j.value("config_sha256", "");
    run.notes = j.value("notes", std::vector<std::string>{});
    for (const json& step : j.at("steps")) run.steps.push_back(StepFromJson(step));
    return run;
  } catch (const std::exception& e) {
    return util::ConfigError(name + ": not a readable tidemark run file (" + e.what() + ")");
  }
}

std::string RunFileName(const RunFile& run) {
  return run.system + "_" + run.kind + "_" + run.dataset + "_" +
         util::FormatCompactUtc(run.created_at, "%Y%m%d%H") + "_run_file.json";
}

}  // namespace tidemark::core
