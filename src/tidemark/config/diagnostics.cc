#include "tidemark/config/diagnostics.h"

#include <algorithm>
#include <utility>

namespace tidemark::config {

void Problems::Add(const Position& position, std::string message) {
  problems_.push_back({position, std::move(message)});
}

std::string Problems::Format() const {
  std::vector<Problem> sorted = problems_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Problem& a, const Problem& b) {
    return std::pair(a.position.line, a.position.column) <
           std::pair(b.position.line, b.position.column);
  });
  std::string text;
  for (const Problem& problem : sorted) {
    if (!text.empty()) text += '\n';
    text += problem.position.ToString() + ": " + problem.message;
  }
  return text;
}

void SourceMap::Record(const std::string& key_path, const Position& position) {
  positions_.emplace(key_path, position);  // the first wins, as for duplicate keys
}

Position SourceMap::Find(const std::string& key_path, const Position& fallback) const {
  std::string path = key_path;
  while (!path.empty()) {
    auto it = positions_.find(path);
    if (it != positions_.end()) return it->second;
    size_t dot = path.rfind('.');
    if (dot == std::string::npos) break;
    path.resize(dot);
  }
  return fallback;
}

std::string DatasetPath(const Dataset& dataset) { return "datasets." + dataset.name; }

std::string StoragePath(const Dataset& dataset, const Lifecycle& lifecycle,
                        const Storage& storage) {
  return DatasetPath(dataset) + ".lifecycles." + lifecycle.name + ".storages." + storage.name;
}

std::string LifecycleWhat(const Dataset& dataset, const Lifecycle& lifecycle) {
  const std::string of_dataset = "dataset '" + dataset.name + "'";
  if (dataset.short_form) return of_dataset;
  return "lifecycle '" + lifecycle.name + "' of " + of_dataset;
}

std::string StorageWhat(const Dataset& dataset, const Lifecycle& lifecycle,
                        const Storage& storage) {
  if (dataset.short_form) return "the storage of dataset '" + dataset.name + "'";
  return "storage '" + storage.name + "' of " + LifecycleWhat(dataset, lifecycle);
}

}  // namespace tidemark::config
