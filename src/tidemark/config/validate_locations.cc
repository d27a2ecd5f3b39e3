// The location checks of Validate: two lifecycles on one location, and archives inside
// the data they would archive (or data inside an archive).

#include <map>
#include <optional>

#include "tidemark/config/locations.h"
#include "tidemark/config/validate.h"

namespace tidemark::config {

namespace {

// Where one storage's partitions live.
struct Located {
  const Dataset* dataset;
  const Lifecycle* lifecycle;
  const Storage* storage;
  std::string location;     // comparable: a lake directory, or the table on a server
  std::string description;  // for messages; never holds a URL (which might hold a user)
  bool lake = false;
};

std::optional<Located> Locate(const Dataset& dataset, const Lifecycle& lifecycle,
                              const Storage& storage, const Config& config) {
  const Connection* connection = config.FindConnection(storage.connection);
  if (connection == nullptr) return std::nullopt;
  Located located{&dataset, &lifecycle, &storage};
  switch (KindOfScheme(UrlScheme(connection->url))) {
    case SystemKind::kLake: {
      auto root = LakeRoot(connection->url, config);
      if (!root || storage.path.empty() || !IsRelativeBelow(storage.path)) return std::nullopt;
      located.location = JoinLocation(*root, storage.path);
      located.description = located.location;
      located.lake = true;
      return located;
    }
    case SystemKind::kDatabase: {
      if (storage.table.empty()) return std::nullopt;
      // Keyed by the URL, so that two connection names for one server still collide.
      const std::string server = connection->url.substr(0, connection->url.find('?'));
      located.location = server + " table " + storage.table;
      located.description = "table " + storage.table + " on connection '" + connection->name + "'";
      return located;
    }
    case SystemKind::kUnknown: return std::nullopt;
  }
  return std::nullopt;
}

std::vector<Located> LocateAll(const Config& config) {
  std::vector<Located> all;
  for (const Dataset& dataset : config.datasets) {
    for (const Lifecycle& lifecycle : dataset.lifecycles) {
      for (const Storage& storage : lifecycle.storages) {
        if (auto located = Locate(dataset, lifecycle, storage, config)) all.push_back(*located);
      }
    }
  }
  return all;
}

void ValidateSharedLocations(const std::vector<Located>& all, ParseContext& context) {
  std::map<std::string, const Located*> first_by_location;
  for (const Located& located : all) {
    auto [it, inserted] = first_by_location.emplace(located.location, &located);
    const Located& first = *it->second;
    // One lifecycle may come back to a location in a later storage; two may never share.
    if (inserted || (first.dataset == located.dataset && first.lifecycle == located.lifecycle)) {
      continue;
    }
    context.problems.Add(located.storage->position,
                         StorageWhat(*located.dataset, *located.lifecycle, *located.storage) +
                             " uses the same location as " +
                             StorageWhat(*first.dataset, *first.lifecycle, *first.storage) +
                             " (line " + std::to_string(first.storage->position.line) +
                             "): " + located.description +
                             "; two lifecycles may never share a location, so point one elsewhere");
  }
}

void ValidateArchiveAgainst(const Archive& archive, const std::string& archive_location,
                            const Located& located, ParseContext& context) {
  const std::string storage_what =
      StorageWhat(*located.dataset, *located.lifecycle, *located.storage);
  if (IsInside(archive_location, located.location)) {
    context.problems.Add(
        context.sources.Find("archives." + archive.name + ".path", archive.position),
        "archive '" + archive.name + "' (" + archive_location + ") lies inside the data of " +
            storage_what + " (" + located.location +
            "); archived files would be read as data, so move the archive elsewhere");
  } else if (IsInside(located.location, archive_location)) {
    const std::string path =
        StoragePath(*located.dataset, *located.lifecycle, *located.storage) + ".path";
    context.problems.Add(context.sources.Find(path, located.storage->position),
                         storage_what + " (" + located.location + ") lies inside archive '" +
                             archive.name + "' (" + archive_location +
                             "); archives would be written among its data, so "
                             "move one of them elsewhere");
  }
}

void ValidateArchiveLocations(const Config& config, const std::vector<Located>& all,
                              ParseContext& context) {
  for (const Archive& archive : config.archives) {
    const Connection* connection = config.FindConnection(archive.connection);
    if (connection == nullptr) continue;
    auto root = LakeRoot(connection->url, config);
    if (!root || !IsRelativeBelow(archive.path)) continue;
    const std::string location = JoinLocation(*root, StaticPrefix(archive.path));
    for (const Located& located : all) {
      if (located.lake) ValidateArchiveAgainst(archive, location, located, context);
    }
  }
}

}  // namespace

void ValidateLocations(const Config& config, ParseContext& context) {
  const std::vector<Located> all = LocateAll(config);
  ValidateSharedLocations(all, context);
  ValidateArchiveLocations(config, all, context);
}

}  // namespace tidemark::config
