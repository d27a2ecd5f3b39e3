// tidemark validate: checks the configuration, then that every connection answers and
// the state store opens.

#include <cstdio>

#include "tidemark/backend/backend.h"
#include "tidemark/cli/command.h"
#include "tidemark/state/state_store.h"

namespace tidemark::cli {

namespace {

struct ValidateOptions {
  bool offline = false;  // skip connectivity checks
};

int RunValidate(const GlobalOptions& global, const ValidateOptions& options) {
  auto config = Load(global);
  if (!config) return Report(config.error());
  if (!options.offline) {
    for (const config::Connection& connection : config->connections) {
      auto backend = backend::OpenBackend(*config, connection);
      if (!backend) return Report(backend.error());
      auto reached = (*backend)->CheckConnection();
      if (!reached) return Report(reached.error());
    }
    auto state = state::OpenStateStore(config->state, config->base_dir);
    if (!state) return Report(state.error());
  }
  std::printf("%s: ok: %zu dataset(s), %zu connection(s), %zu archive(s)%s\n", config->path.c_str(),
              config->datasets.size(), config->connections.size(), config->archives.size(),
              options.offline ? " (connections not checked)" : ", every connection answers");
  return kExitOk;
}

}  // namespace

void AddValidateCommand(CLI::App& app, GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<ValidateOptions>();
  CLI::App* sub = app.add_subcommand("validate", "check the configuration and connectivity");
  sub->add_flag("--offline", options->offline, "check the file only, not the connections");
  commands.push_back({sub, [&global, options] { return RunValidate(global, *options); }});
}

}  // namespace tidemark::cli
