// Support for integration tests: a temporary directory with a configuration and a Hive
// dataset, and a way to run the real tidemark binary in it.

#ifndef TIDEMARK_TESTS_SUPPORT_TIDEMARK_ENV_H_
#define TIDEMARK_TESTS_SUPPORT_TIDEMARK_ENV_H_

#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

namespace tidemark::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
  double seconds = 0;
};

// Runs `binary args…` with extra environment variables, capturing both streams.
CommandResult RunCommand(const std::string& binary, const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env = {},
                         const std::string& cwd = "");

// A process started in the background; killed (SIGKILL) and reaped when destroyed.
class Background {
 public:
  Background(const std::string& binary, const std::vector<std::string>& args,
             const std::map<std::string, std::string>& env, const std::string& stderr_path);
  ~Background();
  pid_t pid() const { return pid_; }
  void Kill();

 private:
  pid_t pid_ = -1;
};

// A temporary directory that removes itself.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// sha256 of every regular file under `root`, by path relative to it.
std::map<std::string, std::string> HashTree(const std::string& root);

void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);
bool Exists(const std::string& path);
void CopyTree(const std::string& from, const std::string& to);

// A workspace: dir/tidemark.yaml, dir/lake/<dataset>/…, dir/archive/.
class Workspace {
 public:
  Workspace();
  const std::string& dir() const { return temp_.path(); }
  std::string config() const { return dir() + "/tidemark.yaml"; }
  std::string lake() const { return dir() + "/lake"; }
  std::string archive() const { return dir() + "/archive"; }
  std::string runs() const { return dir() + "/.tidemark/runs"; }

  // Writes the configuration: the standard header (state, runs_dir, timezone,
  // connections lake/cold, archive cold) followed by `datasets_yaml`.
  void Configure(const std::string& datasets_yaml, const std::string& timezone = "UTC");
  // Daily partitions dt=YYYY-MM-DD for `days` days from `first` (YYYY-MM-DD) under
  // lake/<dataset>, `files` files each with distinct content.
  void MakeDailyPartitions(const std::string& dataset, const std::string& first, int days,
                           int files);

  // Runs tidemark -c config args…
  CommandResult Tidemark(const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env = {}) const;

 private:
  TempDir temp_;
};

// The path of the tidemark binary under test.
std::string TidemarkBinary();

}  // namespace tidemark::testing

#endif  // TIDEMARK_TESTS_SUPPORT_TIDEMARK_ENV_H_
