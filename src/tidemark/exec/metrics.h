// Metrics of a dataset's last apply in Prometheus's text exposition format, for
// node_exporter's textfile collector: `metrics_dir`/tidemark_DATASET.prom, one file per
// dataset so that workers applying different datasets never overwrite each other's,
// each replaced atomically (written beside, then renamed).
//
// Per storage: partitions, partitions ahead of now, seconds until the last partition
// ahead begins to fill (negative: overrun), age of the oldest partition. Per dataset:
// when the run was, whether it succeeded, and per action the steps run, failed and
// their seconds (ALTERs are the create, reorganize and hide actions).
//
// Thread-safety: pure functions, and a file write.

#ifndef TIDEMARK_EXEC_METRICS_H_
#define TIDEMARK_EXEC_METRICS_H_

#include <string>

#include "tidemark/exec/apply.h"

namespace tidemark::exec {

// The text of a dataset's metrics file.
std::string RenderMetrics(const DatasetOutcome& outcome, util::Instant now);

// Writes the file for each outcome that names a dataset into `dir` (created when
// absent).
util::Status WriteMetrics(const std::string& dir, const std::vector<DatasetOutcome>& outcomes,
                          util::Instant now);

}  // namespace tidemark::exec

#endif  // TIDEMARK_EXEC_METRICS_H_
