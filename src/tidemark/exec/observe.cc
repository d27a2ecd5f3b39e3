#include "tidemark/exec/observe.h"

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

void Snapshot::Add(const std::string& dataset, const std::string& lifecycle,
                   const std::string& storage, util::Result<core::ObservedStorage> observed) {
  entries_.insert_or_assign(Key(dataset, lifecycle, storage), std::move(observed));
}

Snapshot TakeSnapshot(const config::Config& config,
                      const std::vector<const config::Dataset*>& datasets,
                      const util::TimeZone& zone) {
  Snapshot snapshot;
  std::map<std::string, std::vector<backend::StorageRef>> by_connection;
  for (const config::Dataset* dataset : datasets) {
    for (const config::Lifecycle& lifecycle : dataset->lifecycles) {
      for (const config::Storage& storage : lifecycle.storages) {
        by_connection[storage.connection].push_back({dataset, &lifecycle, &storage});
      }
    }
  }
  BackendPool backends(config);
  for (const auto& [connection, refs] : by_connection) {
    auto backend = backends.For(connection);
    if (!backend || !(*backend)->ObservesInBatches()) continue;
    auto observed = (*backend)->ObserveMany(refs, zone);
    for (size_t i = 0; i < refs.size(); ++i) {
      const backend::StorageRef& ref = refs[i];
      snapshot.Add(ref.dataset->name, ref.lifecycle->name, ref.storage->name,
                   observed
                       ? std::move((*observed)[i])
                       : util::Result<core::ObservedStorage>(tl::unexpected(observed.error())));
    }
  }
  return snapshot;
}

util::Result<core::ObservedDataset> ObserveDataset(const config::Config& config,
                                                   const config::Dataset& dataset,
                                                   BackendPool& backends, state::StateStore& state,
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
  TM_TRY_ASSIGN(observed.holds, state.Holds(dataset.name));
  TM_TRY_ASSIGN(observed.archived, state.Archives(dataset.name));
  return observed;
}

}  // namespace tidemark::exec
