// What every subcommand shares: the global options, loading the configuration, the
// --now option, and printing errors with the exit code their category asks for.
//
// Thread-safety: used from the main thread.

#ifndef TIDEMARK_CLI_COMMAND_H_
#define TIDEMARK_CLI_COMMAND_H_

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "tidemark/config/config.h"
#include "tidemark/util/error.h"
#include "tidemark/util/time.h"

namespace tidemark::cli {

// Exit codes (README, "Exit codes").
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 2;

struct GlobalOptions {
  std::string config_path = "tidemark.yaml";  // -c
  bool json = false;                          // --json: output for machines
};

// A subcommand: its CLI11 app, and what runs when it was chosen.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

using Commands = std::vector<Command>;

// Each subcommand file adds itself.
void AddValidateCommand(CLI::App& app, GlobalOptions& global, Commands& commands);
void AddPlanCommand(CLI::App& app, GlobalOptions& global, Commands& commands);
void AddApplyCommand(CLI::App& app, GlobalOptions& global, Commands& commands);
void AddStatusCommand(CLI::App& app, GlobalOptions& global, Commands& commands);
void AddVerifyCommand(CLI::App& app, GlobalOptions& global, Commands& commands);
void AddRestoreCommand(CLI::App& app, GlobalOptions& global, Commands& commands);
void AddDemoCommand(CLI::App& app, GlobalOptions& global, Commands& commands);

// Prints "tidemark: <message>" to stderr and returns the exit code of its category.
int Report(const util::Error& error);

// Loads the configuration named by the global options.
util::Result<config::Config> Load(const GlobalOptions& global);

// Parses --now (a timestamp; without an offset, in the config's time zone). Empty: now.
util::Result<util::Instant> ResolveNow(const std::string& text, const config::Config& config);

// Checks that every name in `wanted` is a dataset of `config` (a usage error if not).
util::Status CheckDatasets(const config::Config& config, const std::vector<std::string>& wanted);

// What the commands that look at datasets start with: the configuration, the
// datasets asked for checked against it, and the time to plan for.
struct Session {
  config::Config config;
  util::Instant now{};
  bool now_given = false;  // --now was given
};
util::Result<Session> StartSession(const GlobalOptions& global,
                                   const std::vector<std::string>& datasets,
                                   const std::string& now);

// Whether stdout / stderr is a terminal (colour, progress).
bool StdoutIsTerminal();
bool StderrIsTerminal();

}  // namespace tidemark::cli

#endif  // TIDEMARK_CLI_COMMAND_H_
