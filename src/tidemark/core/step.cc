#include "tidemark/core/step.h"

#include <charconv>

#include <nlohmann/json.hpp>

namespace tidemark::core {

namespace {

using nlohmann::json;

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

// Appends `text` as a JSON string. UTF-8 passes through; quotes, backslashes and
// control characters are escaped.
void AppendQuoted(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

util::Instant InstantField(const json& j, const char* key) {
  auto instant = util::ParseInstant(j.at(key).get<std::string>());
  if (!instant) throw std::invalid_argument(std::string("bad ") + key);
  return *instant;
}

}  // namespace

// Run files can hold tens of thousands of steps; they are written as text directly
// instead of through a JSON tree, which would hold them all a second time.
const std::string& Step::Param(const std::string& name) const {
  static const std::string kNone;
  auto it = params.find(name);
  return it == params.end() ? kNone : it->second;
}

int64_t Step::IntParam(const std::string& name) const {
  int64_t value = 0;
  const std::string& text = Param(name);
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::string RunFileToJson(const RunFile& run) {
  std::string text;
  RunFileToJson(run, [&text](std::string_view piece) { text += piece; });
  return text;
}

void RunFileToJson(const RunFile& run, const std::function<void(std::string_view)>& sink) {
  std::string out;
  auto field = [&out](const char* indent, const char* key, std::string_view value,
                      bool last = false) {
    out += indent;
    AppendQuoted(out, key);
    out += ": ";
    AppendQuoted(out, value);
    out += last ? "\n" : ",\n";
  };
  out += "{\n";
  field("  ", "format", run.format);
  field("  ", "run_id", run.run_id);
  field("  ", "kind", run.kind);
  field("  ", "dataset", run.dataset);
  field("  ", "system", run.system);
  field("  ", "created_at", util::FormatInstant(run.created_at));
  field("  ", "now", util::FormatInstant(run.now));
  field("  ", "config_sha256", run.config_sha256);
  out += "  \"notes\": [";
  for (size_t i = 0; i < run.notes.size(); ++i) {
    out += i == 0 ? "\n    " : ",\n    ";
    AppendQuoted(out, run.notes[i]);
  }
  out += run.notes.empty() ? "],\n" : "\n  ],\n";
  out += "  \"steps\": [";
  for (size_t i = 0; i < run.steps.size(); ++i) {
    const Step& step = run.steps[i];
    sink(out);
    out.clear();
    out += i == 0 ? "\n    {\n" : ",\n    {\n";
    out += "      \"seq\": " + std::to_string(step.seq) + ",\n";
    field("      ", "id", step.id);
    field("      ", "lifecycle", step.lifecycle);
    field("      ", "storage", step.storage);
    field("      ", "system", step.system);
    field("      ", "action", step.action);
    field("      ", "partition", step.partition);
    out += "      \"params\": {";
    bool first = true;
    for (const auto& [key, value] : step.params) {
      out += first ? "" : ", ";
      first = false;
      AppendQuoted(out, key);
      out += ": ";
      AppendQuoted(out, value);
    }
    out += "},\n";
    field("      ", "command", step.command);
    field("      ", "about", step.about, true);
    out += "    }";
  }
  out += run.steps.empty() ? "]\n}\n" : "\n  ]\n}\n";
  sink(out);
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
