// The storage checks of Validate: each storage against its connection, the time ranges
// of a lifecycle's storages, and where data and archives live.

#include <map>
#include <optional>

#include "tidemark/config/locations.h"
#include "tidemark/config/validate.h"
#include "tidemark/core/table_name.h"
#include "tidemark/util/time.h"

namespace tidemark::config {

namespace {

using std::chrono::year_month_day;

// One storage with everything a message about it needs.
struct StorageRef {
  const Dataset* dataset;
  const Lifecycle* lifecycle;
  const Storage* storage;

  std::string What() const { return StorageWhat(*dataset, *lifecycle, *storage); }
  std::string Path() const { return StoragePath(*dataset, *lifecycle, *storage); }
  Position Where(const SourceMap& sources, const std::string& key) const {
    return sources.Find(Path() + "." + key, storage->position);
  }
};

template <typename Visit>
void ForEachStorage(const Config& config, Visit visit) {
  for (const Dataset& dataset : config.datasets) {
    for (const Lifecycle& lifecycle : dataset.lifecycles) {
      for (const Storage& storage : lifecycle.storages) visit({&dataset, &lifecycle, &storage});
    }
  }
}

void ValidateLakeStorage(const StorageRef& ref, ParseContext& context) {
  const Storage& storage = *ref.storage;
  const std::string on = ref.What() + " is on lake connection '" + storage.connection + "'";
  if (!storage.table.empty()) {
    context.problems.Add(ref.Where(context.sources, "table"),
                         on + ", which has no tables; remove table: and give path:");
  }
  if (storage.path.empty()) {
    if (!context.IsValid(ref.Path() + ".path")) return;
    context.problems.Add(storage.position, on + " and needs path: the dataset's root below "
                                                "the connection's root; add it");
  } else if (!IsRelativeBelow(storage.path)) {
    context.problems.Add(ref.Where(context.sources, "path"),
                         ref.What() +
                             " path must stay below the connection's root: no "
                             "leading '/' and no '..'");
  }
}

void ValidateDatabaseStorage(const StorageRef& ref, ParseContext& context) {
  const Storage& storage = *ref.storage;
  const std::string on = ref.What() + " is on database connection '" + storage.connection + "'";
  if (storage.table.empty() && context.IsValid(ref.Path() + ".table")) {
    context.problems.Add(storage.position, on + " and needs table: [schema.]table; add it");
  } else if (!storage.table.empty()) {
    auto name = core::ParseTableName(storage.table);
    if (!name) {
      context.problems.Add(ref.Where(context.sources, "table"),
                           ref.What() + " table \"" + storage.table + "\" cannot be read: " +
                               name.error() +
                               " (write [schema.]table; quote a part in \"…\" when it holds "
                               "a dot)");
    }
  }
  if (!storage.path.empty()) {
    context.problems.Add(ref.Where(context.sources, "path"),
                         on + ", and path applies to lakes only; remove it (the table "
                              "is given by table:)");
  }
  if (storage.layout != Layout::kNone) {
    context.problems.Add(ref.Where(context.sources, "layout"),
                         on + ", and layout applies to lakes only; remove it");
  }
}

void ValidateStorage(const StorageRef& ref, const Config& config, ParseContext& context) {
  const Storage& storage = *ref.storage;
  if (storage.from && storage.until && *storage.from >= *storage.until) {
    context.problems.Add(ref.Where(context.sources, "until"),
                         ref.What() + " has from " + util::FormatDate(*storage.from) +
                             " not before until " + util::FormatDate(*storage.until) +
                             "; until is the first day it no longer holds, after from");
  }
  if (storage.connection.empty()) return;  // reported as missing
  const Connection* connection = config.FindConnection(storage.connection);
  if (connection == nullptr) {
    context.problems.Add(ref.Where(context.sources, "connection"),
                         ref.What() + " names connection '" + storage.connection + "', " +
                             NotDefined("connections", NamesOf(config.connections)));
    return;
  }
  switch (KindOfScheme(UrlScheme(connection->url))) {
    case SystemKind::kLake: ValidateLakeStorage(ref, context); break;
    case SystemKind::kDatabase: ValidateDatabaseStorage(ref, context); break;
    case SystemKind::kUnknown: break;  // reported on the connection
  }
}

// "from 2019-06-01 to 2020-01-01", with open ends said in words.
std::string OverlapText(const Storage& a, const Storage& b) {
  std::optional<year_month_day> from =
      a.from && b.from ? std::max(*a.from, *b.from) : (a.from ? a.from : b.from);
  std::optional<year_month_day> until =
      a.until && b.until ? std::min(*a.until, *b.until) : (a.until ? a.until : b.until);
  return std::string("from ") + (from ? util::FormatDate(*from) : "the beginning") + " to " +
         (until ? util::FormatDate(*until) : "the end");
}

bool Overlap(const Storage& a, const Storage& b) {
  const bool a_before_b_ends = !a.from || !b.until || *a.from < *b.until;
  const bool b_before_a_ends = !b.from || !a.until || *b.from < *a.until;
  return a_before_b_ends && b_before_a_ends;
}

void ValidateOverlaps(const Dataset& dataset, const Lifecycle& lifecycle, ParseContext& context) {
  const std::vector<Storage>& storages = lifecycle.storages;
  for (size_t j = 1; j < storages.size(); ++j) {
    for (size_t i = 0; i < j; ++i) {
      if (!Overlap(storages[i], storages[j])) continue;
      context.problems.Add(
          storages[j].position,
          "storages '" + storages[i].name + "' and '" + storages[j].name + "' of " +
              LifecycleWhat(dataset, lifecycle) + " overlap " +
              OverlapText(storages[i], storages[j]) +
              "; each day is held by one storage, so set one's until to the other's from");
    }
  }
}

}  // namespace

void ValidateStorages(const Config& config, ParseContext& context) {
  ForEachStorage(config, [&](const StorageRef& ref) { ValidateStorage(ref, config, context); });
  for (const Dataset& dataset : config.datasets) {
    for (const Lifecycle& lifecycle : dataset.lifecycles) {
      ValidateOverlaps(dataset, lifecycle, context);
    }
  }
}

}  // namespace tidemark::config
