// tidemark demo: builds a sample Hive dataset under ./tidemark-demo and walks through
// validate, plan, apply, status, restore and verify, running the real commands and
// saying what each did. Needs no server.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tidemark/cli/command.h"
#include "tidemark/util/strings.h"

namespace tidemark::cli {

namespace {

namespace fs = std::filesystem;

constexpr int kDays = 120;
constexpr int kFilesPerDay = 2;
constexpr int kEventsPerFile = 200;
constexpr char kMarker[] = ".tidemark-demo";

const char kConfig[] = R"(# The tidemark demo: a Hive-partitioned dataset on local disk.
state: sqlite:.tidemark/state.db      # the journal, locks and archive records
runs_dir: .tidemark/runs              # run files: the reviewable plans
timezone: UTC                         # partition boundaries are computed here

connections:
  lake: { url: "file:lake" }          # relative to this file
  cold: { url: "file:archive" }

archives:
  cold: { connection: cold, path: "{dataset}/{lifecycle}/{storage}/{partition}/" }

datasets:
  events:
    storage: { connection: lake, path: events, layout: hive }
    partition_by: dt
    interval: 1 day
    retention: 90 days                # by partition value, not file age
    on_expire: archive                # hide, copy, verify, then recycle
    archive_to: cold
    recycle_days: 7                   # removed partitions stay restorable this long
)";

std::string Date(std::chrono::sys_days day) {
  return util::FormatDate(std::chrono::year_month_day(day));
}

util::Status WriteEvents(const fs::path& dir, std::chrono::sys_days day, int file,
                         std::mt19937& random) {
  std::ofstream out(dir / ("part-" + std::string(4 - std::to_string(file).size(), '0') +
                           std::to_string(file) + ".jsonl"));
  for (int i = 0; i < kEventsPerFile; ++i) {
    out << "{\"event_time\":\"" << Date(day) << "T" << (i % 24 < 10 ? "0" : "") << i % 24
        << ":00:00Z\",\"device\":" << random() % 5000 << ",\"temperature\":" << 15 + random() % 20
        << "}\n";
  }
  if (!out) return util::StepError("cannot write demo data in " + dir.string());
  return {};
}

// The sample dataset: one partition per day for the last kDays days.
util::Result<int64_t> MakeDataset(const fs::path& root) {
  std::mt19937 random(20240105);
  auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  int64_t bytes = 0;
  for (int d = kDays; d >= 1; --d) {
    auto day = today - std::chrono::days(d);
    fs::path dir = root / "lake" / "events" / ("dt=" + Date(day));
    fs::create_directories(dir);
    for (int f = 0; f < kFilesPerDay; ++f) TM_TRY(WriteEvents(dir, day, f, random));
    // mtime as if written that day, as a pipeline would have.
    auto written =
        std::chrono::system_clock::to_time_t(std::chrono::sys_time<std::chrono::seconds>(day));
    for (const auto& entry : fs::directory_iterator(dir)) {
      struct timespec times[2] = {{written + 3600, 0}, {written + 3600, 0}};
      utimensat(AT_FDCWD, entry.path().c_str(), times, 0);
      bytes += static_cast<int64_t>(entry.file_size());
    }
  }
  return bytes;
}

util::Status Prepare(const fs::path& root) {
  std::error_code error;
  if (fs::exists(root)) {
    if (!fs::exists(root / kMarker)) {
      return util::ConfigError(root.string() +
                               " exists and was not made by tidemark demo; "
                               "move it away or run the demo in another directory");
    }
    fs::remove_all(root, error);
    if (error)
      return util::StepError("cannot remove the old " + root.string() + ": " + error.message());
  }
  fs::create_directories(root, error);
  if (error) return util::StepError("cannot create " + root.string() + ": " + error.message());
  std::ofstream(root / kMarker) << "made by tidemark demo; safe to delete\n";
  std::ofstream(root / "tidemark.yaml") << kConfig;
  return {};
}

void Say(const std::string& text) {
  if (StdoutIsTerminal()) {
    std::printf("\n\033[1m== %s\033[0m\n", text.c_str());
  } else {
    std::printf("\n== %s\n", text.c_str());
  }
  std::fflush(stdout);
}

// Runs this program with `args`, showing the command line first.
int Run(const std::vector<std::string>& args) {
  std::string shown = "tidemark";
  for (const std::string& arg : args)
    shown += " " + (arg.find(' ') == std::string::npos ? arg : "'" + arg + "'");
  std::printf("$ %s\n", shown.c_str());
  std::fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    std::vector<char*> argv{const_cast<char*>("tidemark")};
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

// The archival run file the demo's apply executed.
std::string ArchivalRunFile(const fs::path& runs) {
  for (const auto& entry : fs::directory_iterator(runs)) {
    if (entry.path().filename().string().find("_archival_") != std::string::npos)
      return entry.path().string();
  }
  return "";
}

int RunDemo() {
  const fs::path root = fs::absolute("tidemark-demo");
  auto prepared = Prepare(root);
  if (!prepared) return Report(prepared.error());
  auto bytes = MakeDataset(root);
  if (!bytes) return Report(bytes.error());
  const std::string config = (root / "tidemark.yaml").string();
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  const std::string oldest = "dt=" + Date(today - std::chrono::days(kDays));
  Say("A Hive dataset: " + std::to_string(kDays) + " daily partitions of events, " +
      std::to_string(kDays * kFilesPerDay) + " files, " + util::HumanBytes(*bytes) + ", in " +
      (root / "lake/events").string() + ". The configuration is " + config + ".");
  Say("validate: the configuration is checked and every connection answers");
  if (Run({"-c", config, "validate"}) != 0) return 1;
  Say("plan: the dry run. Partitions older than 90 days expire; each is hidden, copied to the "
      "archive, verified, then kept in the recycle bin for 7 days. Nothing changes yet; the run "
      "file is written for review.");
  if (Run({"-c", config, "plan"}) != 0) return 1;
  Say("apply: picks up the run file just written (within the hour) and executes it step by step, "
      "journaling each step so a crash can be resumed");
  if (Run({"-c", config, "apply"}) != 0) return 1;
  Say("status: the partition map. '#' live, 'r' in the recycle bin (and verified in the archive)");
  if (Run({"-c", config, "status"}) != 0) return 1;
  Say("restore: " + oldest +
      " comes back from the recycle bin to its place, and is held for 7 days so retention leaves "
      "it alone");
  if (Run({"-c", config, "restore", "--dataset", "events", "--partition", oldest}) != 0) return 1;
  if (Run({"-c", config, "status"}) != 0) return 1;
  Say("restore --from archive --to: a copy of the next partition from the verified archive, put "
      "elsewhere");
  const std::string second = "dt=" + Date(today - std::chrono::days(kDays - 1));
  if (Run({"-c", config, "restore", "--dataset", "events", "--partition", second, "--from",
           "archive", "--to", (root / "restored").string()}) != 0) {
    return 1;
  }
  Say("verify: does the effect of every step of the archival run still hold? (the restored "
      "partition is visible again, so its hide no longer holds)");
  Run({"-c", config, "verify", "--brief", ArchivalRunFile(root / ".tidemark/runs")});
  Say("Done. Look around in " + root.string() +
      ": lake/events/_tidemark/recycle holds the recycle bin, archive/ the verified archive with a "
      "manifest.json per partition, .tidemark/runs the run files. Run 'tidemark demo' again to "
      "start over.");
  return kExitOk;
}

}  // namespace

void AddDemoCommand(CLI::App& app, GlobalOptions& global, Commands& commands) {
  (void)global;
  CLI::App* sub =
      app.add_subcommand("demo", "a walk through tidemark on a sample dataset in ./tidemark-demo");
  commands.push_back({sub, [] { return RunDemo(); }});
}

}  // namespace tidemark::cli
