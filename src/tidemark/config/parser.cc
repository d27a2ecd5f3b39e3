#include "tidemark/config/parser.h"

#include <string>

namespace tidemark::config {

namespace {

constexpr const char* kTopKeysHint =
    "write a mapping of the top-level keys state, runs_dir, metrics_dir, timezone, connections, archives "
    "and datasets (see docs/configuration.md)";

std::string Quoted(const std::string& name) { return "'" + name + "'"; }

void Assign(std::optional<std::string> value, std::string& field) {
  if (value) field = std::move(*value);
}

Layout LayoutFromName(const std::string& name) {
  return name == "delta" ? Layout::kDelta : Layout::kHive;
}

Strategy StrategyFromName(const std::string& name) {
  if (name == "id") return Strategy::kId;
  if (name == "sequential") return Strategy::kSequential;
  return Strategy::kTime;
}

OnExpire OnExpireFromName(const std::string& name) {
  if (name == "archive") return OnExpire::kArchive;
  if (name == "detach") return OnExpire::kDetach;
  if (name == "keep") return OnExpire::kKeep;
  return OnExpire::kDrop;
}

Connection ReadConnection(const YamlEntry& entry, ParseContext& context) {
  Connection connection{.name = entry.key.scalar, .position = entry.key.position};
  Fields fields(entry.value, Section::kConnection, "connection " + Quoted(connection.name),
                "connections." + connection.name, context);
  Assign(fields.String("url"), connection.url);
  Assign(fields.String("password_env"), connection.password_env);
  Assign(fields.String("password_file"), connection.password_file);
  Assign(fields.String("access_key_env"), connection.access_key_env);
  Assign(fields.String("access_key_file"), connection.access_key_file);
  Assign(fields.String("secret_key_env"), connection.secret_key_env);
  Assign(fields.String("secret_key_file"), connection.secret_key_file);
  Assign(fields.String("session_token_env"), connection.session_token_env);
  Assign(fields.String("profile"), connection.profile);
  Assign(fields.String("region"), connection.region);
  Assign(fields.String("endpoint"), connection.endpoint);
  Assign(fields.Choice("addressing"), connection.addressing);
  Assign(fields.String("ca_file"), connection.ca_file);
  if (auto mib = fields.Integer("part_size_mib", 5, 5120)) connection.part_size_mib = *mib;
  if (auto mib = fields.Integer("multipart_threshold_mib", 5, 5120)) {
    connection.multipart_threshold_mib = *mib;
  }
  if (auto parts = fields.Integer("parts_in_flight", 1, 64)) connection.parts_in_flight = *parts;
  if (auto ms = fields.Integer("lock_timeout_ms", 1)) connection.lock_timeout_ms = *ms;
  if (auto attempts = fields.Integer("ddl_attempts", 1)) connection.ddl_attempts = *attempts;
  return connection;
}

Archive ReadArchive(const YamlEntry& entry, ParseContext& context) {
  Archive archive{.name = entry.key.scalar, .position = entry.key.position};
  Fields fields(entry.value, Section::kArchive, "archive " + Quoted(archive.name),
                "archives." + archive.name, context);
  Assign(fields.String("connection"), archive.connection);
  Assign(fields.String("path"), archive.path);
  return archive;
}

Storage ReadStorage(const YamlNode& node, Storage storage, const std::string& what,
                    const std::string& path, ParseContext& context) {
  context.sources.Record(path, storage.position);
  Fields fields(node, Section::kStorage, what, path, context);
  Assign(fields.String("connection"), storage.connection);
  Assign(fields.String("table"), storage.table);
  Assign(fields.String("path"), storage.path);
  if (auto layout = fields.Choice("layout")) storage.layout = LayoutFromName(*layout);
  storage.from = fields.Date("from");
  storage.until = fields.Date("until");
  return storage;
}

Lifecycle ReadLifecycle(const YamlEntry& entry, const Dataset& dataset, ParseContext& context) {
  Lifecycle lifecycle{.name = entry.key.scalar, .position = entry.key.position};
  const std::string path = DatasetPath(dataset) + ".lifecycles." + lifecycle.name;
  context.sources.Record(path, lifecycle.position);
  Fields fields(entry.value, Section::kLifecycle, LifecycleWhat(dataset, lifecycle), path, context);
  if (auto order = fields.Integer("order", 1)) lifecycle.order = *order;
  if (const YamlNode* storages = fields.Mapping("storages", false)) {
    for (const YamlEntry* item : NamedEntries(*storages, "storage", "storages", true, context)) {
      Storage storage{.name = item->key.scalar, .position = item->key.position};
      lifecycle.storages.push_back(ReadStorage(item->value, storage,
                                               StorageWhat(dataset, lifecycle, storage),
                                               StoragePath(dataset, lifecycle, storage), context));
    }
  }
  return lifecycle;
}

void ReadShortForm(const Fields& fields, Dataset& dataset, ParseContext& context) {
  const YamlNode* node = fields.Mapping("storage", false);
  if (node == nullptr) return;
  Lifecycle lifecycle{.name = "main", .position = node->position};
  Storage storage{.name = "main", .position = node->position};
  context.sources.Record(DatasetPath(dataset) + ".lifecycles.main", node->position);
  lifecycle.storages.push_back(ReadStorage(*node, storage, StorageWhat(dataset, lifecycle, storage),
                                           StoragePath(dataset, lifecycle, storage), context));
  dataset.lifecycles.push_back(std::move(lifecycle));
}

void ReadFullForm(const Fields& fields, Dataset& dataset, ParseContext& context) {
  const YamlNode* node = fields.Mapping("lifecycles", false);
  if (node == nullptr) return;
  for (const YamlEntry* entry : NamedEntries(*node, "lifecycle", "lifecycles", true, context)) {
    dataset.lifecycles.push_back(ReadLifecycle(*entry, dataset, context));
  }
}

void ReadRetention(const Fields& fields, Dataset& dataset) {
  if (fields.Has("retention") && fields.Has("archive_before")) {
    fields.Report("archive_before", "dataset " + Quoted(dataset.name) +
                                        " gives both retention and archive_before, which "
                                        "mean the same; keep one of them");
    return;
  }
  dataset.retention = fields.Duration("retention", false);
  if (!dataset.retention) dataset.retention = fields.Duration("archive_before", false);
}

void ReadLateData(const Fields& fields, Dataset& dataset, ParseContext& context) {
  const YamlNode* node = fields.Mapping("late_data", false);
  if (node == nullptr) return;
  Fields late(*node, Section::kLateData, "late_data of dataset " + Quoted(dataset.name),
              fields.path() + ".late_data", context);
  if (auto consumers = late.StringList("consumers", false)) {
    dataset.late_data.consumers = std::move(*consumers);
  }
}

void ReadPolicy(const Fields& fields, Dataset& dataset, ParseContext& context) {
  if (auto strategy = fields.Choice("strategy")) dataset.strategy = StrategyFromName(*strategy);
  // A bare integer is an id range; whether it suits the strategy is validated later,
  // with a message about the strategy rather than about the syntax.
  if (auto interval = fields.Duration("interval", dataset.strategy != Strategy::kTime)) {
    dataset.interval = *interval;
  }
  dataset.interval_given = fields.Has("interval");
  if (auto premake = fields.Integer("premake", 0)) dataset.premake = *premake;
  if (auto days = fields.Integer("recycle_days", 0)) dataset.recycle_days = *days;
  if (auto columns = fields.StringList("partition_by", true)) dataset.partition_by = *columns;
  ReadRetention(fields, dataset);
  Assign(fields.String("archive_to"), dataset.archive_to);
  dataset.on_expire = dataset.archive_to.empty() ? OnExpire::kDrop : OnExpire::kArchive;
  if (auto on_expire = fields.Choice("on_expire")) dataset.on_expire = OnExpireFromName(*on_expire);
  dataset.tablespace_after = fields.Duration("tablespace_after", false);
  Assign(fields.String("tablespace"), dataset.tablespace);
  Assign(fields.String("partition_name"), dataset.partition_name);
  Assign(fields.String("dated_by"), dataset.dated_by);
  ReadLateData(fields, dataset, context);
}

bool HasKey(const YamlNode& mapping, std::string_view key) {
  for (const YamlEntry& entry : mapping.entries) {
    if (entry.key.IsScalar() && entry.key.scalar == key) return true;
  }
  return false;
}

// Reports a dataset written in both forms or in neither; true when it has exactly one.
bool CheckForm(const YamlEntry& entry, bool has_storage, bool has_lifecycles,
               ParseContext& context) {
  const std::string name = Quoted(entry.key.scalar);
  if (has_storage && has_lifecycles) {
    context.problems.Add(entry.key.position, "dataset " + name +
                                                 " has both storage and lifecycles; use storage "
                                                 "for one storage, or lifecycles for several");
    return false;
  }
  if (!has_storage && !has_lifecycles) {
    context.problems.Add(entry.key.position, "dataset " + name +
                                                 " has neither storage nor lifecycles; add "
                                                 "storage: { connection: NAME, table: ... } or "
                                                 "lifecycles:");
  }
  return true;
}

Dataset ReadDataset(const YamlEntry& entry, ParseContext& context) {
  Dataset dataset{.name = entry.key.scalar, .position = entry.key.position};
  context.sources.Record(DatasetPath(dataset), dataset.position);
  const bool has_storage = HasKey(entry.value, "storage");
  const bool has_lifecycles = HasKey(entry.value, "lifecycles");
  if (!CheckForm(entry, has_storage, has_lifecycles, context)) return dataset;
  dataset.short_form = !has_lifecycles;
  Fields fields(entry.value, has_lifecycles ? Section::kDatasetFull : Section::kDatasetShort,
                "dataset " + Quoted(dataset.name), DatasetPath(dataset), context,
                has_storage || has_lifecycles);
  ReadPolicy(fields, dataset, context);
  if (has_lifecycles) {
    ReadFullForm(fields, dataset, context);
  } else {
    ReadShortForm(fields, dataset, context);
  }
  return dataset;
}

// The entries of a top-level mapping of names; an empty section is allowed.
std::vector<const YamlEntry*> NamedSection(const Fields& top, std::string_view key,
                                           std::string_view kind, bool check_names,
                                           ParseContext& context) {
  const YamlNode* node = top.Mapping(key, true);
  if (node == nullptr) return {};
  return NamedEntries(*node, kind, key, check_names, context);
}

}  // namespace

void ReadConfig(const YamlNode& root, Config& config, ParseContext& context) {
  if (root.IsNull()) {
    context.problems.Add(root.position, std::string("the config file is empty; ") + kTopKeysHint);
    return;
  }
  if (!root.IsMapping()) {
    context.problems.Add(root.position, std::string("the config file is ") + KindName(root.kind) +
                                            ", not a mapping; " + kTopKeysHint);
    return;
  }
  Fields top(root, Section::kTop, "the top-level mapping", "", context);
  Assign(top.String("state"), config.state);
  Assign(top.String("runs_dir"), config.runs_dir);
  Assign(top.String("metrics_dir"), config.metrics_dir);
  Assign(top.String("timezone"), config.timezone);
  for (const YamlEntry* entry : NamedSection(top, "connections", "connection", false, context)) {
    config.connections.push_back(ReadConnection(*entry, context));
  }
  for (const YamlEntry* entry : NamedSection(top, "archives", "archive", false, context)) {
    config.archives.push_back(ReadArchive(*entry, context));
  }
  for (const YamlEntry* entry : NamedSection(top, "datasets", "dataset", true, context)) {
    config.datasets.push_back(ReadDataset(*entry, context));
  }
}

}  // namespace tidemark::config
