// tidemark restore: puts one partition back from the recycle bin or the archive, in its
// place or --to another location of the same storage family.

#include "tidemark/exec/restore.h"

#include <climits>
#include <cstdio>

#include <unistd.h>

#include "tidemark/cli/command.h"
#include "tidemark/cli/console.h"
#include "tidemark/config/storage_urls.h"
#include "tidemark/util/strings.h"

namespace tidemark::cli {

namespace {

struct RestoreCommandOptions {
  std::string dataset;
  std::string partition;
  std::string lifecycle;
  std::string to;
  std::string from = "auto";
  std::string hold = "7 days";
};

// A plain path given to --to is a local directory: make it a file:// URL.
std::string LocationUrl(const std::string& to) {
  if (to.empty() || to.find(':') != std::string::npos) return to;
  if (to[0] == '/') return "file://" + to;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == nullptr) return to;
  return "file://" + std::string(cwd) + "/" + to;
}

bool IsDatabaseDataset(const config::Config& config, const std::string& name) {
  const config::Dataset* dataset = config.FindDataset(name);
  if (dataset == nullptr) return false;
  for (const config::Lifecycle& lifecycle : dataset->lifecycles) {
    for (const config::Storage& storage : lifecycle.storages) {
      const config::Connection* connection = config.FindConnection(storage.connection);
      const std::string family =
          connection == nullptr ? "" : config::StorageFamily(connection->url);
      if (family == "postgres" || family == "mariadb") return true;
    }
  }
  return false;
}

int RunRestore(const GlobalOptions& global, const RestoreCommandOptions& options) {
  auto config = Load(global);
  if (!config) return Report(config.error());
  auto hold = core::ParseSpan(options.hold, false);
  if (!hold) return Report(util::Error(util::ErrorCategory::kConfig, "--keep-for " + hold.error()));
  exec::RestoreOptions restore;
  restore.dataset = options.dataset;
  restore.partition = options.partition;
  restore.lifecycle = options.lifecycle;
  // Databases restore --to a table name of the same connection; lakes to a location.
  restore.to = IsDatabaseDataset(*config, options.dataset) ? options.to : LocationUrl(options.to);
  restore.hold = *hold;
  restore.source = options.from == "bin"       ? plan::RestoreSource::kBin
                   : options.from == "archive" ? plan::RestoreSource::kArchive
                                               : plan::RestoreSource::kAuto;
  ConsoleReporter reporter(true);
  exec::DatasetOutcome outcome = exec::RestorePartition(*config, restore, reporter);
  int code = PrintOutcomes({outcome}, true);
  if (code == kExitOk) {
    const core::Step& step = outcome.run.steps.front();
    const std::string target =
        step.Param("to_table").empty() ? step.Param("target") : "table " + step.Param("to_table");
    std::printf("%s: restored %s to %s%s\n", outcome.dataset.c_str(), options.partition.c_str(),
                target.c_str(),
                restore.to.empty() ? (", held from expiry for " + options.hold).c_str() : "");
  }
  return code;
}

}  // namespace

void AddRestoreCommand(CLI::App& app, GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<RestoreCommandOptions>();
  CLI::App* sub =
      app.add_subcommand("restore", "put a partition back from the recycle bin or the archive");
  sub->add_option("--dataset", options->dataset, "the dataset")->required();
  sub->add_option("--partition", options->partition, "the partition, e.g. dt=2024-01-05")
      ->required();
  sub->add_option("--lifecycle", options->lifecycle,
                  "the lifecycle to restore (when several have it)");
  sub->add_option("--to", options->to,
                  "another place instead of its own: a location (file:///path) for lakes, a "
                  "[schema.]table of the same connection for databases");
  sub->add_option("--from", options->from, "where to take it from")
      ->check(CLI::IsMember({"auto", "bin", "archive"}))
      ->capture_default_str();
  sub->add_option("--keep-for", options->hold, "how long retention leaves it alone")
      ->capture_default_str();
  commands.push_back({sub, [&global, options] { return RunRestore(global, *options); }});
}

}  // namespace tidemark::cli
