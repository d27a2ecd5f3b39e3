#include "tidemark/exec/observe.h"

#include <thread>

namespace tidemark::exec {

namespace {

std::string Key(const std::string& dataset, const std::string& lifecycle,
                const std::string& storage) {
  return dataset + '\0' + lifecycle + '\0' + storage;
}

}  // namespace

const util::Result<core::ObservedStorage>* Snapshot::Find(const std::string& dataset,
                                                          const std::string& lifecycle,
                                                          const std::string& storage) const {
  auto it = entries_.find(Key(dataset, lifecycle, storage));
  return it == entries_.end() ? nullptr : &it->second;
}

const std::vector<core::Hold>& Snapshot::Holds(const std::string& dataset) const {
  static const std::vector<core::Hold> kNone;
  auto it = holds_.find(dataset);
  return it == holds_.end() ? kNone : it->second;
}

const std::vector<core::ArchivedPartition>& Snapshot::Archives(const std::string& dataset) const {
  static const std::vector<core::ArchivedPartition> kNone;
  auto it = archives_.find(dataset);
  return it == archives_.end() ? kNone : it->second;
}

void Snapshot::SetState(std::map<std::string, std::vector<core::Hold>> holds,
                        std::map<std::string, std::vector<core::ArchivedPartition>> archives) {
  holds_ = std::move(holds);
  archives_ = std::move(archives);
  has_state_ = true;
}

void Snapshot::Add(const std::string& dataset, const std::string& lifecycle,
                   const std::string& storage, util::Result<core::ObservedStorage> observed) {
  entries_.insert_or_assign(Key(dataset, lifecycle, storage), std::move(observed));
}

Snapshot TakeSnapshot(const config::Config& config,
                      const std::vector<const config::Dataset*>& datasets,
                      const util::TimeZone& zone, state::StateStore* state) {
  Snapshot snapshot;
  std::map<std::string, std::vector<backend::StorageRef>> by_connection;
  for (const config::Dataset* dataset : datasets) {
    for (const config::Lifecycle& lifecycle : dataset->lifecycles) {
      for (const config::Storage& storage : lifecycle.storages) {
        by_connection[storage.connection].push_back({dataset, &lifecycle, &storage});
      }
    }
  }
  // One backend per connection, each read on its own thread.
  struct Read {
    backend::Backend* backend;
    const std::vector<backend::StorageRef>* refs;
    util::Result<std::vector<util::Result<core::ObservedStorage>>> observed;
  };
  BackendPool backends(config);
  std::vector<Read> reads;
  for (const auto& [connection, refs] : by_connection) {
    auto backend = backends.For(connection);
    if (!backend || !(*backend)->ObservesInBatches()) continue;
    reads.push_back({*backend, &refs, {}});
  }
  std::vector<std::thread> threads;
  for (Read& read : reads) {
    threads.emplace_back(
        [&read, &zone] { read.observed = read.backend->ObserveMany(*read.refs, zone); });
  }
  if (state != nullptr) {
    auto holds = state->AllHolds();
    auto archives = holds ? state->AllArchives() : tl::unexpected(holds.error());
    if (holds && archives) snapshot.SetState(std::move(*holds), std::move(*archives));
  }
  for (std::thread& thread : threads) thread.join();
  for (Read& read : reads) {
    const std::vector<backend::StorageRef>& refs = *read.refs;
    for (size_t i = 0; i < refs.size(); ++i) {
      const backend::StorageRef& ref = refs[i];
      snapshot.Add(ref.dataset->name, ref.lifecycle->name, ref.storage->name,
                   read.observed ? std::move((*read.observed)[i])
                                 : util::Result<core::ObservedStorage>(
                                       tl::unexpected(read.observed.error())));
    }
  }
  return snapshot;
}

util::Result<core::ObservedDataset> ObserveDataset(const config::Config& config,
                                                   const config::Dataset& dataset,
                                                   BackendPool& backends, state::StateStore* state,
                                                   const util::TimeZone& zone,
                                                   const Snapshot* snapshot) {
  (void)config;
  core::ObservedDataset observed;
  observed.dataset = dataset.name;
  for (const config::Lifecycle& lifecycle : dataset.lifecycles) {
    for (const config::Storage& storage : lifecycle.storages) {
      const util::Result<core::ObservedStorage>* cached =
          snapshot == nullptr ? nullptr
                              : snapshot->Find(dataset.name, lifecycle.name, storage.name);
      if (cached != nullptr) {
        if (!*cached) return tl::unexpected(cached->error());
        observed.storages.push_back(**cached);
        continue;
      }
      TM_TRY_ASSIGN(backend::Backend * backend, backends.For(storage.connection));
      TM_TRY_ASSIGN(auto seen, backend->Observe(dataset, lifecycle, storage, zone));
      observed.storages.push_back(std::move(seen));
    }
  }
  if (snapshot != nullptr && snapshot->has_state()) {
    observed.holds = snapshot->Holds(dataset.name);
    observed.archived = snapshot->Archives(dataset.name);
    return observed;
  }
  TM_TRY_ASSIGN(observed.holds, state->Holds(dataset.name));
  TM_TRY_ASSIGN(observed.archived, state->Archives(dataset.name));
  return observed;
}

}  // namespace tidemark::exec
