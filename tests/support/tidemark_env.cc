#include "tests/support/tidemark_env.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tidemark/util/sha256.h"
#include "tidemark/util/time.h"

namespace tidemark::testing {

namespace fs = std::filesystem;

namespace {

std::vector<char*> Argv(const std::string& binary, const std::vector<std::string>& args) {
  std::vector<char*> argv{const_cast<char*>(binary.c_str())};
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  return argv;
}

void SetEnvironment(const std::map<std::string, std::string>& env) {
  for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
}

}  // namespace

CommandResult RunCommand(const std::string& binary, const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env, const std::string& cwd) {
  TempDir capture;
  const std::string out_path = capture.path() + "/out", err_path = capture.path() + "/err";
  auto argv = Argv(binary, args);
  auto started = std::chrono::steady_clock::now();
  pid_t child = fork();
  if (child == 0) {
    SetEnvironment(env);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = open("/dev/null", O_RDONLY);
    dup2(out, 1), dup2(err, 2), dup2(in, 0);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(child, &status, 0);
  CommandResult result;
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  return result;
}

Background::Background(const std::string& binary, const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env,
                       const std::string& stderr_path) {
  auto argv = Argv(binary, args);
  pid_ = fork();
  if (pid_ == 0) {
    SetEnvironment(env);
    int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int out = open("/dev/null", O_WRONLY);
    dup2(out, 1), dup2(err, 2);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
}

Background::~Background() { Kill(); }

void Background::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

TempDir::TempDir() {
  char pattern[] = "/tmp/tidemark-test-XXXXXX";
  if (mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ignored);
  for (auto it = fs::recursive_directory_iterator(path_, ignored);
       it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_directory(ignored))
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ignored);
  }
  fs::remove_all(path_, ignored);
}

std::map<std::string, std::string> HashTree(const std::string& root) {
  std::map<std::string, std::string> hashes;
  if (!fs::exists(root)) return hashes;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    hashes[fs::relative(entry.path(), root).string()] =
        util::Sha256Hex(ReadFile(entry.path().string()));
  }
  return hashes;
}

void WriteFile(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool Exists(const std::string& path) { return fs::exists(path); }

void CopyTree(const std::string& from, const std::string& to) {
  fs::copy(from, to, fs::copy_options::recursive);
}

Workspace::Workspace() {}

void Workspace::Configure(const std::string& datasets_yaml, const std::string& timezone) {
  WriteFile(
      config(),
      "state: sqlite:.tidemark/state.db\n"
      "runs_dir: .tidemark/runs\n"
      "timezone: " +
          timezone +
          "\n"
          "connections:\n"
          "  lake: { url: \"file:lake\" }\n"
          "  cold: { url: \"file:archive\" }\n"
          "archives:\n"
          "  cold: { connection: cold, path: \"{dataset}/{lifecycle}/{storage}/{partition}/\" }\n"
          "datasets:\n" +
          datasets_yaml);
}

void Workspace::MakeDailyPartitions(const std::string& dataset, const std::string& first, int days,
                                    int files) {
  auto start = std::chrono::sys_days(*util::ParseDate(first));
  for (int d = 0; d < days; ++d) {
    std::string date = util::FormatDate(std::chrono::year_month_day(start + std::chrono::days(d)));
    for (int f = 0; f < files; ++f) {
      std::string content;
      for (int line = 0; line < 50 + f * 10 + d; ++line) {
        content +=
            dataset + "," + date + "," + std::to_string(f) + "," + std::to_string(line) + "\n";
      }
      WriteFile(lake() + "/" + dataset + "/dt=" + date + "/part-" + std::to_string(f) + ".csv",
                content);
    }
  }
}

CommandResult Workspace::Tidemark(const std::vector<std::string>& args,
                                  const std::map<std::string, std::string>& env) const {
  std::vector<std::string> full{"-c", config()};
  full.insert(full.end(), args.begin(), args.end());
  return RunCommand(TidemarkBinary(), full, env, dir());
}

std::string TidemarkBinary() { return TIDEMARK_BINARY; }

}  // namespace tidemark::testing
