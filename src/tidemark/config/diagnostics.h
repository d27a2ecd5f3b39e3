// What the parser and the validator found wrong, and where each value was written.
//
// Problems collects every problem of a file so that the user fixes them all in one
// round; Format renders them one per line, in file order, each as
// "file:line:col: what is wrong; what to do".
//
// SourceMap remembers the position of every value by its key path
// ("datasets.orders.lifecycles.raw.storages.landing.until"), so that checks which run
// on the parsed structs can still point at the line that needs the fix. The short form
// of a dataset is recorded under its canonical path (lifecycles.main.storages.main).
//
// Thread-safety: plain values; not shared between threads.

#ifndef TIDEMARK_CONFIG_DIAGNOSTICS_H_
#define TIDEMARK_CONFIG_DIAGNOSTICS_H_

#include <map>
#include <string>
#include <vector>

#include "tidemark/config/config.h"

namespace tidemark::config {

struct Problem {
  Position position;    // where the fix goes
  std::string message;  // what is wrong; what to do
};

class Problems {
 public:
  void Add(const Position& position, std::string message);
  bool empty() const { return problems_.empty(); }
  const std::vector<Problem>& all() const { return problems_; }
  // One problem per line, sorted by position (stable for equal positions).
  std::string Format() const;

 private:
  std::vector<Problem> problems_;
};

class SourceMap {
 public:
  void Record(const std::string& key_path, const Position& position);
  bool Has(const std::string& key_path) const { return positions_.contains(key_path); }
  // The position of `key_path`, else of its nearest recorded ancestor, else `fallback`.
  Position Find(const std::string& key_path, const Position& fallback) const;

 private:
  std::map<std::string, Position> positions_;
};

// "datasets.orders.lifecycles.raw.storages.landing": where a storage's keys are recorded,
// whichever form the dataset was written in.
std::string StoragePath(const Dataset& dataset, const Lifecycle& lifecycle, const Storage& storage);
std::string DatasetPath(const Dataset& dataset);

// How messages name a storage or a lifecycle: "the storage of dataset 'events'" in the
// short form, "storage 'pg' of lifecycle 'bronze' of dataset 'orders'" in the full form.
std::string StorageWhat(const Dataset& dataset, const Lifecycle& lifecycle, const Storage& storage);
std::string LifecycleWhat(const Dataset& dataset, const Lifecycle& lifecycle);

}  // namespace tidemark::config

#endif  // TIDEMARK_CONFIG_DIAGNOSTICS_H_
