#include "tidemark/exec/metrics.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace tidemark::exec {

namespace {

// A label value with backslash, quote and newline escaped.
std::string Label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Number(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

double Seconds(util::Instant a, util::Instant b) { return static_cast<double>((b - a).count()); }

class Writer {
 public:
  // A metric family: its HELP and TYPE lines once, then samples.
  void Family(const char* name, const char* type, const char* help) {
    text_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    name_ = name;
  }
  void Sample(const std::string& labels, double value) {
    text_ += name_ + "{" + labels + "} " + Number(value) + "\n";
  }
  std::string text() const { return text_; }

 private:
  std::string text_;
  std::string name_;
};

struct StorageFigures {
  std::string labels;
  int partitions = 0;
  int ahead = 0;
  std::optional<double> ahead_seconds;
  std::optional<double> oldest_age;
};

std::vector<StorageFigures> Figures(const DatasetOutcome& outcome, util::Instant now) {
  std::vector<StorageFigures> figures;
  if (!outcome.observed) return figures;
  for (const core::ObservedStorage& storage : outcome.observed->storages) {
    StorageFigures f;
    f.labels = "dataset=\"" + Label(outcome.dataset) + "\",lifecycle=\"" +
               Label(storage.lifecycle) + "\",storage=\"" + Label(storage.storage) + "\"";
    std::optional<util::Instant> oldest, last;
    for (const core::Partition& p : storage.partitions) {
      if (p.state == core::PartitionState::kDefault) continue;
      ++f.partitions;
      if (p.range) {
        if (p.range->start > now) ++f.ahead;
        if (!oldest || p.range->start < *oldest) oldest = p.range->start;
        if (!last || p.range->start > *last) last = p.range->start;
      } else if (p.ids && storage.max_id && p.ids->start > *storage.max_id) {
        ++f.ahead;  // an empty id partition
      }
    }
    if (oldest) f.oldest_age = Seconds(*oldest, now);
    auto planned = outcome.ahead_until.find(storage.lifecycle + "/" + storage.storage);
    if (!outcome.error && planned != outcome.ahead_until.end()) {
      f.ahead_seconds = Seconds(now, planned->second);
    } else if (last) {
      f.ahead_seconds = Seconds(now, *last);
    }
    figures.push_back(f);
  }
  return figures;
}

}  // namespace

std::string RenderMetrics(const DatasetOutcome& outcome, util::Instant now) {
  Writer w;
  const std::vector<StorageFigures> figures = Figures(outcome, now);
  w.Family("tidemark_partitions", "gauge", "Partitions of the storage (catch-all ones aside).");
  for (const StorageFigures& f : figures) w.Sample(f.labels, f.partitions);
  w.Family("tidemark_partitions_ahead", "gauge",
           "Partitions that begin after now (empty ones, for sequential ids).");
  for (const StorageFigures& f : figures) w.Sample(f.labels, f.ahead);
  w.Family("tidemark_ahead_seconds", "gauge",
           "Seconds until the last partition ahead begins to fill (predicted for sequential "
           "ids); negative when rows already outrun the partitions.");
  for (const StorageFigures& f : figures) {
    if (f.ahead_seconds) w.Sample(f.labels, *f.ahead_seconds);
  }
  w.Family("tidemark_oldest_partition_age_seconds", "gauge",
           "Seconds since the oldest partition began.");
  for (const StorageFigures& f : figures) {
    if (f.oldest_age) w.Sample(f.labels, *f.oldest_age);
  }
  const std::string dataset = "dataset=\"" + Label(outcome.dataset) + "\"";
  w.Family("tidemark_last_run_timestamp_seconds", "gauge", "When apply last ran, Unix time.");
  w.Sample(dataset, static_cast<double>(now.time_since_epoch().count()));
  w.Family("tidemark_last_run_success", "gauge", "1 when the last apply succeeded, else 0.");
  w.Sample(dataset, outcome.error ? 0 : 1);
  w.Family("tidemark_steps", "gauge", "Steps the last apply ran, by action.");
  for (const auto& [action, tally] : outcome.tally.actions) {
    w.Sample(dataset + ",action=\"" + Label(action) + "\"", tally.executed);
  }
  w.Family("tidemark_step_failures", "gauge", "Steps of the last apply that failed, by action.");
  for (const auto& [action, tally] : outcome.tally.actions) {
    w.Sample(dataset + ",action=\"" + Label(action) + "\"", tally.failed);
  }
  w.Family("tidemark_step_seconds", "gauge",
           "Seconds the last apply's steps took, by action (retries included).");
  for (const auto& [action, tally] : outcome.tally.actions) {
    w.Sample(dataset + ",action=\"" + Label(action) + "\"", tally.seconds);
  }
  return w.text();
}

util::Status WriteMetrics(const std::string& dir, const std::vector<DatasetOutcome>& outcomes,
                          util::Instant now) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return util::Fail(util::ErrorCategory::kStep,
                      "cannot create the metrics directory " + dir + ": " + error.message());
  }
  for (const DatasetOutcome& outcome : outcomes) {
    if (outcome.dataset.empty()) continue;
    std::string name = outcome.dataset;
    for (char& c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') c = '_';
    }
    const std::string path = dir + "/tidemark_" + name + ".prom";
    // Beside the file, without the .prom ending the collector reads.
    const std::string temporary = path + ".tmp." + std::to_string(getpid());
    {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      out << RenderMetrics(outcome, now);
      out.close();
      if (!out) {
        std::filesystem::remove(temporary, error);
        return util::Fail(util::ErrorCategory::kStep, "cannot write " + temporary);
      }
    }
    std::filesystem::rename(temporary, path, error);
    if (error) {
      std::filesystem::remove(temporary, error);
      return util::Fail(util::ErrorCategory::kStep, "cannot replace " + path);
    }
  }
  return {};
}

}  // namespace tidemark::exec
