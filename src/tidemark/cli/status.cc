// tidemark status: the partition map of every dataset, one line each, or JSON.

#include <cstdio>

#include "tidemark/cli/command.h"
#include "tidemark/cli/status_view.h"
#include "tidemark/exec/apply.h"
#include "tidemark/state/state_store.h"

namespace tidemark::cli {

namespace {

struct StatusOptions {
  std::vector<std::string> datasets;
  std::string now;
  bool json = false;
  int width = 48;
};

int RunStatus(const GlobalOptions& global, const StatusOptions& options) {
  auto session = StartSession(global, options.datasets, options.now);
  if (!session) return Report(session.error());
  const config::Config& config = session->config;
  const util::Instant now = session->now;
  auto zone = util::TimeZone::Load(config.timezone);
  if (!zone) return Report(zone.error());
  auto state = state::OpenStateStore(config.state, config.base_dir);
  if (!state) return Report(state.error());
  exec::BackendPool backends(config);
  size_t name_width = 0;
  for (const config::Dataset& d : config.datasets) name_width = std::max(name_width, d.name.size());
  const bool colour = StdoutIsTerminal() && !options.json;
  nlohmann::json all = nlohmann::json::array();
  int code = kExitOk;
  std::vector<const config::Dataset*> wanted;
  for (const config::Dataset& dataset : config.datasets) {
    if (options.datasets.empty() || std::find(options.datasets.begin(), options.datasets.end(),
                                              dataset.name) != options.datasets.end()) {
      wanted.push_back(&dataset);
    }
  }
  const exec::Snapshot snapshot = exec::TakeSnapshot(config, wanted, *zone, state->get());
  for (const config::Dataset* wanted_dataset : wanted) {
    const config::Dataset& dataset = *wanted_dataset;
    auto observed = exec::ObserveDataset(config, dataset, backends, state->get(), *zone, &snapshot);
    if (!observed) {
      code = Report(observed.error().WithContext(dataset.name));
      continue;
    }
    DatasetStatus status = BuildStatus(dataset, *observed, now, *zone);
    if (options.json) {
      all.push_back(StatusToJson(status, *observed));
    } else {
      std::printf("%s\n",
                  RenderStatusLine(status, name_width, options.width, colour, *zone).c_str());
    }
  }
  if (options.json)
    std::printf("%s\n", all.dump(2).c_str());
  else
    std::printf("%s\n", StatusLegend(colour).c_str());
  return code;
}

}  // namespace

void AddStatusCommand(CLI::App& app, GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<StatusOptions>();
  CLI::App* sub = app.add_subcommand("status", "the partition map of each dataset");
  sub->add_option("--dataset", options->datasets, "only these datasets (repeatable)");
  sub->add_option("--now", options->now, "as if it were this time");
  sub->add_flag("--json", options->json, "JSON for machines");
  sub->add_option("--width", options->width, "cells in the timeline")->check(CLI::Range(8, 400));
  commands.push_back({sub, [&global, options] { return RunStatus(global, *options); }});
}

}  // namespace tidemark::cli
