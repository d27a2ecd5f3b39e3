#include "tidemark/exec/run_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tidemark/util/strings.h"

namespace tidemark::exec {

namespace {

util::Status MakeDirectories(const std::string& path) {
  std::string dir;
  for (const std::string& part : util::Split(path, '/')) {
    dir += part + "/";
    if (part.empty()) continue;
    if (mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) {
      return util::StepError("cannot create the runs directory " + dir + ": " + std::strerror(errno));
    }
  }
  return {};
}

std::string WithSuffix(const std::string& name, int n) {
  if (n == 1) return name;
  const std::string tail = "_run_file.json";
  return name.substr(0, name.size() - tail.size()) + "-" + std::to_string(n) + tail;
}

util::Status WriteExclusive(const std::string& path, const std::string& text) {
  std::string temporary = path + ".tmp-" + util::RandomHex(6);
  int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return util::StepError("cannot write " + temporary + ": " + std::strerror(errno));
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
  close(fd);
  // link() fails when the name exists, so two writers never overwrite each other.
  if (ok && link(temporary.c_str(), path.c_str()) != 0) {
    int error = errno;
    unlink(temporary.c_str());
    if (error == EEXIST) return util::Fail(util::ErrorCategory::kConflict, "exists");
    return util::StepError("cannot write " + path + ": " + std::strerror(error));
  }
  unlink(temporary.c_str());
  if (!ok) return util::StepError("cannot write " + path);
  return {};
}

}  // namespace

util::Result<std::string> WriteRunFile(const std::string& directory, const core::RunFile& run) {
  TM_TRY(MakeDirectories(directory));
  const std::string name = core::RunFileName(run);
  const std::string text = core::RunFileToJson(run);
  for (int n = 1; n < 1000; ++n) {
    std::string path = directory + "/" + WithSuffix(name, n);
    auto written = WriteExclusive(path, text);
    if (written) return path;
    if (written.error().category() != util::ErrorCategory::kConflict) return tl::unexpected(written.error());
  }
  return util::StepError("too many run files named like " + name + " in " + directory);
}

util::Result<core::RunFile> ReadRunFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return util::ConfigError("cannot read run file " + path + ": " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  return core::RunFileFromJson(text.str(), path);
}

std::optional<ReusableRun> FindReusableRun(const std::string& directory, const std::string& dataset,
                                           const std::string& kind, util::Instant wall_now,
                                           std::optional<util::Instant> planned_for) {
  DIR* dir = opendir(directory.c_str());
  if (dir == nullptr) return std::nullopt;
  std::optional<ReusableRun> best;
  const std::string marker = "_" + kind + "_" + dataset + "_";
  while (struct dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name.find(marker) == std::string::npos || !util::EndsWith(name, "_run_file.json")) continue;
    auto run = ReadRunFile(directory + "/" + name);
    if (!run || run->dataset != dataset || run->kind != kind) continue;
    if (run->created_at > wall_now || wall_now - run->created_at >= std::chrono::hours(1)) continue;
    if (planned_for && run->now != *planned_for) continue;
    if (!best || run->created_at > best->run.created_at) best = ReusableRun{directory + "/" + name, *run};
  }
  closedir(dir);
  return best;
}

std::string NewRunId(util::Instant wall_now) {
  return util::FormatCompactUtc(wall_now, "%Y%m%dT%H%M%SZ") + "-" + util::RandomHex(8);
}

}  // namespace tidemark::exec
