#include "tidemark/cli/command.h"

#include <algorithm>
#include <cstdio>

#include <unistd.h>

#include "tidemark/util/strings.h"
#include "tidemark/util/timezone.h"

namespace tidemark::cli {

int Report(const util::Error& error) {
  std::fprintf(stderr, "tidemark: %s\n", error.message().c_str());
  return util::ExitCodeFor(error.category());
}

util::Result<config::Config> Load(const GlobalOptions& global) {
  return config::LoadConfig(global.config_path);
}

util::Result<util::Instant> ResolveNow(const std::string& text, const config::Config& config) {
  if (text.empty()) return util::Now();
  auto parsed = util::ParseTimestamp(text);
  if (!parsed) {
    return util::ConfigError("--now \"" + text +
                             "\" is not a timestamp; write YYYY-MM-DD or "
                             "YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM]");
  }
  if (auto instant = parsed->ToInstant()) return *instant;
  TM_TRY_ASSIGN(auto zone, util::TimeZone::Load(config.timezone));
  return zone.FromLocal(parsed->local);
}

util::Status CheckDatasets(const config::Config& config, const std::vector<std::string>& wanted) {
  std::vector<std::string> known;
  for (const config::Dataset& dataset : config.datasets) known.push_back(dataset.name);
  for (const std::string& name : wanted) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return util::ConfigError(
          "no dataset \"" + name + "\" in " + config.path +
          " (it has: " + (known.empty() ? std::string("none") : util::Join(known, ", ")) + ")");
    }
  }
  return {};
}

util::Result<Session> StartSession(const GlobalOptions& global,
                                   const std::vector<std::string>& datasets,
                                   const std::string& now) {
  Session session;
  TM_TRY_ASSIGN(session.config, Load(global));
  TM_TRY(CheckDatasets(session.config, datasets));
  TM_TRY_ASSIGN(session.now, ResolveNow(now, session.config));
  session.now_given = !now.empty();
  return session;
}

bool StdoutIsTerminal() { return isatty(STDOUT_FILENO) == 1; }
bool StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

}  // namespace tidemark::cli
