// Support for Delta Lake integration tests: a Delta table written the way Spark lays
// one out (a protocol and metaData commit, then one commit of `add` actions per
// partition), with data files of distinct content. tidemark never reads rows, so the
// data files hold arbitrary bytes.

#ifndef TIDEMARK_TESTS_SUPPORT_DELTA_ENV_H_
#define TIDEMARK_TESTS_SUPPORT_DELTA_ENV_H_

#include <map>
#include <set>
#include <string>
#include <vector>

namespace tidemark::testing {

struct DeltaTableSpec {
  std::string first_day = "2024-01-01";  // partitions event_date=YYYY-MM-DD from here
  int days = 5;
  int files_per_partition = 3;
  // Table properties of the metaData action, e.g. {"delta.appendOnly", "true"}.
  std::map<std::string, std::string> configuration = {
      {"delta.deletedFileRetentionDuration", "interval 0 hours"}};
  int min_writer_version = 2;
};

// Writes the table under `root` (created). Returns the data files' paths relative to
// `root`.
std::vector<std::string> MakeDeltaTable(const std::string& root, const DeltaTableSpec& spec);

// The live files of the table under `root`, by replaying its JSON commits (a reader
// independent of tidemark's: every add and remove in version order).
std::set<std::string> LiveDeltaFiles(const std::string& root);

// The `events` entry of a configuration's `datasets:` (indented under it): the Delta
// table at `events` of connection `lake`, daily by event_date, 30 days, archived to
// `cold` and kept `recycle_days` in the bin.
std::string DeltaDatasetYaml(int recycle_days);

// Number of commits in root/_delta_log.
int DeltaCommits(const std::string& root);

}  // namespace tidemark::testing

#endif  // TIDEMARK_TESTS_SUPPORT_DELTA_ENV_H_
