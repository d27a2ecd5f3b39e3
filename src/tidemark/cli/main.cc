// tidemark: manages the life of partitioned data. See README.md.

#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "tidemark/cli/command.h"

int main(int argc, char** argv) {
  using namespace tidemark::cli;
  try {
    CLI::App app{
        "tidemark: partitions ahead of data, verified archives, a recycle bin and restore"};
    app.set_version_flag("--version", std::string("tidemark ") + TIDEMARK_VERSION);
    app.require_subcommand(1);
    app.fallthrough();
    GlobalOptions global;
    app.add_option("-c,--config", global.config_path, "configuration file")->capture_default_str();
    Commands commands;
    AddValidateCommand(app, global, commands);
    AddPlanCommand(app, global, commands);
    AddApplyCommand(app, global, commands);
    AddStatusCommand(app, global, commands);
    AddVerifyCommand(app, global, commands);
    AddRestoreCommand(app, global, commands);
    AddDemoCommand(app, global, commands);
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      int code = app.exit(e);
      return code == 0 ? kExitOk : kExitUsage;
    }
    for (const Command& command : commands) {
      if (command.app->parsed()) return command.run();
    }
    return kExitUsage;
  } catch (const std::exception& e) {
    // Expected failures are Results; an exception here is a bug.
    std::fprintf(stderr, "tidemark: internal error: %s\n", e.what());
    return 70;
  }
}
