#include "tidemark/exec/run_files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tidemark/util/strings.h"

namespace tidemark::exec {

namespace {

util::Status MakeDirectories(const std::string& path) {
  std::string dir;
  for (const std::string& part : util::Split(path, '/')) {
    dir += part + "/";
    if (part.empty()) continue;
    if (mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) {
      return util::StepError("cannot create the runs directory " + dir + ": " +
                             std::strerror(errno));
    }
  }
  return {};
}

std::string WithSuffix(const std::string& name, int n) {
  if (n == 1) return name;
  const std::string tail = "_run_file.json";
  return name.substr(0, name.size() - tail.size()) + "-" + std::to_string(n) + tail;
}

// Writes the run file under a temporary name in `directory`. No fsync: a run file lost
// to a power cut is planned again, and the journal does not depend on it.
util::Result<std::string> WriteTemporary(const std::string& directory, const core::RunFile& run) {
  std::string temporary = directory + "/.run-file.tmp-" + util::RandomHex(8);
  int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return util::StepError("cannot write " + temporary + ": " + std::strerror(errno));
  std::FILE* out = fdopen(fd, "w");
  bool ok = out != nullptr;
  if (ok) {
    core::RunFileToJson(run, [out, &ok](std::string_view piece) {
      ok = ok && std::fwrite(piece.data(), 1, piece.size(), out) == piece.size();
    });
    ok = std::fclose(out) == 0 && ok;
  } else {
    close(fd);
  }
  if (!ok) {
    unlink(temporary.c_str());
    return util::StepError("cannot write the run file " + temporary);
  }
  return temporary;
}

// Whether the hour in a run file's name ("…_2026112110_run_file.json") is this hour or
// the one before, so that a file written within the last hour may be in it.
bool NamedWithinTheHour(const std::string& name, const std::string& marker,
                        util::Instant wall_now) {
  size_t at = name.find(marker) + marker.size();
  std::string hour = name.substr(at, 10);
  return hour == util::FormatCompactUtc(wall_now, "%Y%m%d%H") ||
         hour == util::FormatCompactUtc(wall_now - std::chrono::hours(1), "%Y%m%d%H");
}

}  // namespace

util::Result<std::string> WriteRunFile(const std::string& directory, const core::RunFile& run) {
  TM_TRY(MakeDirectories(directory));
  TM_TRY_ASSIGN(std::string temporary, WriteTemporary(directory, run));
  const std::string name = core::RunFileName(run);
  // link() fails when the name exists, so two writers never overwrite each other.
  for (int n = 1; n < 1000; ++n) {
    std::string path = directory + "/" + WithSuffix(name, n);
    if (link(temporary.c_str(), path.c_str()) == 0) {
      unlink(temporary.c_str());
      return path;
    }
    if (errno != EEXIST) {
      int error = errno;
      unlink(temporary.c_str());
      return util::StepError("cannot write " + path + ": " + std::strerror(error));
    }
  }
  unlink(temporary.c_str());
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
  // Run files written within one second are told apart by their modification times.
  auto written = [&](const std::string& path) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return std::pair<int64_t, int64_t>(0, 0);
    return std::pair<int64_t, int64_t>(st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  };
  std::pair<int64_t, int64_t> best_written;
  const std::string marker = "_" + kind + "_" + dataset + "_";
  while (struct dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name.find(marker) == std::string::npos || !util::EndsWith(name, "_run_file.json")) continue;
    if (!NamedWithinTheHour(name, marker, wall_now)) continue;  // not worth reading
    auto run = ReadRunFile(directory + "/" + name);
    if (!run || run->dataset != dataset || run->kind != kind) continue;
    if (run->created_at > wall_now || wall_now - run->created_at >= std::chrono::hours(1)) continue;
    if (planned_for && run->now != *planned_for) continue;
    const std::string path = directory + "/" + name;
    const auto when = written(path);
    if (!best || run->created_at > best->run.created_at ||
        (run->created_at == best->run.created_at && when > best_written)) {
      best = ReusableRun{path, *run};
      best_written = when;
    }
  }
  closedir(dir);
  return best;
}

std::string NewRunId(util::Instant wall_now) {
  return util::FormatCompactUtc(wall_now, "%Y%m%dT%H%M%SZ") + "-" + util::RandomHex(8);
}

}  // namespace tidemark::exec
