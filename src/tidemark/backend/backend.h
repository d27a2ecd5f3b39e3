// Backends: one per kind of system (lake, postgres, mariadb, …). A backend observes the
// storages it serves, renders steps for review, executes them, and says whether a
// step's effect holds now. Backends are picked by the URL scheme of a connection from
// one registry (OpenBackend).
//
// Execute is idempotent: it checks the step's postcondition first and does only what
// is missing, so re-running a step after a crash completes it.
//
// Thread-safety: a Backend is used by one thread at a time; open one per worker.

#ifndef TIDEMARK_BACKEND_BACKEND_H_
#define TIDEMARK_BACKEND_BACKEND_H_

#include <memory>
#include <string>
#include <vector>

#include "tidemark/config/config.h"
#include "tidemark/core/partition.h"
#include "tidemark/core/step.h"
#include "tidemark/util/error.h"
#include "tidemark/util/progress.h"
#include "tidemark/util/timezone.h"

namespace tidemark::backend {

struct StepContext {
  util::Progress* progress = &util::NoProgress();
  std::string run_id;
};

// One storage of a dataset, as configured.
struct StorageRef {
  const config::Dataset* dataset = nullptr;
  const config::Lifecycle* lifecycle = nullptr;
  const config::Storage* storage = nullptr;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // "lake", "postgres", …: the `system` of the steps this backend runs.
  virtual std::string system() const = 0;

  // Checks that the system can be reached; errors are kConnect.
  virtual util::Status CheckConnection() = 0;

  // Reads the partitions, bin and notes of one storage of a dataset.
  virtual util::Result<core::ObservedStorage> Observe(const config::Dataset& dataset,
                                                      const config::Lifecycle& lifecycle,
                                                      const config::Storage& storage,
                                                      const util::TimeZone& zone) = 0;

  // Observes many storages of this backend's connection at once: a database reads
  // its catalog in one query. One result per ref, in order; the outer error is for
  // failures that concern them all (the system cannot be reached). The default
  // observes them one by one.
  virtual util::Result<std::vector<util::Result<core::ObservedStorage>>> ObserveMany(
      const std::vector<StorageRef>& refs, const util::TimeZone& zone);

  // Whether ObserveMany reads many storages more cheaply than one by one.
  virtual bool ObservesInBatches() const { return false; }

  // The command a person would run to do this step, for review.
  virtual std::string Render(const core::Step& step) const = 0;

  virtual util::Status Execute(const core::Step& step, StepContext& context) = 0;

  // Whether the effect of an executed step holds now (for `tidemark verify`). An error
  // says why it does not, or that it could not be checked.
  virtual util::Status Holds(const core::Step& step) = 0;
};

// A backend that observes through a catalog read for many storages at once (the
// databases): Observe is ObserveMany of one.
class BatchBackend : public Backend {
 public:
  util::Result<core::ObservedStorage> Observe(const config::Dataset& dataset,
                                              const config::Lifecycle& lifecycle,
                                              const config::Storage& storage,
                                              const util::TimeZone& zone) final;
  util::Result<std::vector<util::Result<core::ObservedStorage>>> ObserveMany(
      const std::vector<StorageRef>& refs, const util::TimeZone& zone) override = 0;
  bool ObservesInBatches() const final { return true; }
};

// Opens the backend for a connection of `config`, by URL scheme.
util::Result<std::unique_ptr<Backend>> OpenBackend(const config::Config& config,
                                                   const config::Connection& connection);

// The system name for a connection URL ("lake" for file: and s3:), or "" when unknown.
std::string SystemOf(const std::string& url);

}  // namespace tidemark::backend

#endif  // TIDEMARK_BACKEND_BACKEND_H_
