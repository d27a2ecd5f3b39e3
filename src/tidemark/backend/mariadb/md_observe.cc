#include "tidemark/backend/mariadb/md_observe.h"

#include <cstdlib>
#include <map>
#include <set>

#include "tidemark/backend/bin_mark.h"
#include "tidemark/backend/mariadb/md_bounds.h"
#include "tidemark/backend/mariadb/md_catalog.h"
#include "tidemark/backend/mariadb/md_steps.h"
#include "tidemark/util/strings.h"

namespace tidemark::backend::mariadb {

namespace {

bool IsTimeType(const std::string& type) {
  return type == "date" || type == "datetime" || type == "timestamp";
}

bool IsIntegerType(const std::string& type) {
  return type == "tinyint" || type == "smallint" || type == "mediumint" || type == "int" ||
         type == "bigint";
}

// A value of a DATE, DATETIME or TIMESTAMP column as the server prints it
// ("2024-01-05 10:00:00.123"): TIMESTAMP in the session's UTC, the others civil times of
// `zone`. Fractions of a second are dropped.
std::optional<util::Instant> ColumnInstant(std::string_view text, const std::string& type,
                                           const util::TimeZone& zone) {
  LessThan literal;
  literal.literal = std::string(text.substr(0, text.find('.')));
  return BoundInstant(literal, KeyForm::kColumns,
                      type == "timestamp" ? util::TimeZone::Utc() : zone);
}

// What one table needs from the probe query, and where its answers go.
struct Probe {
  size_t index;  // of the ref
  core::TableName table;
  std::string key;                      // the id column (max), or "" for none
  std::string dated_by;                 // the column dating rows, or ""
  std::string dated_type;               // its DATA_TYPE
  std::vector<std::string> partitions;  // non-tail partitions to date
};

class Observer {
 public:
  Observer(const ObserveContext& context, const util::TimeZone& zone)
      : context_(context), zone_(zone) {}

  util::Result<std::vector<util::Result<core::ObservedStorage>>> Run(
      const std::vector<StorageRef>& refs);

 private:
  util::Result<core::ObservedStorage> Describe(const StorageRef& ref, const TableInfo& table,
                                               size_t index);
  std::string Hint(const core::TableName& table);
  util::Status ReadBin(const std::set<std::string>& databases);
  util::Status RunProbes(std::vector<util::Result<core::ObservedStorage>>& out);

  const ObserveContext& context_;
  const util::TimeZone& zone_;
  std::vector<std::pair<core::TableName, BinMark>> bin_;
  std::map<core::TableName, std::pair<int64_t, int64_t>,
           bool (*)(const core::TableName&, const core::TableName&)>
      bin_sizes_{[](const core::TableName& a, const core::TableName& b) {
        return std::tie(a.schema, a.name) < std::tie(b.schema, b.name);
      }};
  std::vector<Probe> probes_;
};

std::string Where(const ObserveContext& context, const config::Dataset& dataset,
                  const core::TableName& table) {
  return "dataset " + dataset.name + ": table " + table.ToString() + " on connection '" +
         context.connection + "'";
}

util::Result<std::vector<util::Result<core::ObservedStorage>>> Observer::Run(
    const std::vector<StorageRef>& refs) {
  std::vector<core::TableName> tables;
  std::set<std::string> databases;
  for (const StorageRef& ref : refs) {
    tables.push_back(Qualified(ref.storage->table, context_.default_database));
    if (!tables.back().schema.empty()) databases.insert(tables.back().schema);
  }
  auto catalog = ReadCatalog(*context_.conn, tables);
  if (!catalog) {
    return util::Fail(util::ErrorCategory::kConnect, "cannot read the catalog of " +
                                                         context_.conn->Describe() + ": " +
                                                         catalog.error().message());
  }
  TM_TRY(ReadBin(databases));
  std::vector<util::Result<core::ObservedStorage>> out;
  for (size_t i = 0; i < refs.size(); ++i) out.push_back(Describe(refs[i], (*catalog)[i], i));
  TM_TRY(RunProbes(out));
  return out;
}

// "; did you mean …?" for a table that is not there, or a word on privileges.
std::string Observer::Hint(const core::TableName& table) {
  // The table's own database first: other databases (the server's own among them) may
  // hold many tables of that name, and the three shown must not crowd it out.
  auto similar = context_.conn->Query(
      "SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) FROM information_schema.TABLES WHERE "
      "LOWER(TABLE_NAME) = LOWER(" +
      sql::QuoteMariaDbLiteral(table.name) +
      ") AND TABLE_SCHEMA NOT IN ('information_schema', 'performance_schema', 'mysql', 'sys') "
      "ORDER BY TABLE_SCHEMA <> " +
      sql::QuoteMariaDbLiteral(table.schema) + ", 1 LIMIT 3");
  std::vector<std::string> names;
  if (similar) {
    for (int r = 0; r < similar->rows(); ++r) names.push_back(similar->Text(r, 0));
  }
  if (!names.empty()) {
    return "; did you mean " + util::Join(names, " or ") +
           "? (names are taken as written, case included)";
  }
  return " (or the account of connection '" + context_.connection +
         "' has no privilege on it: the server shows an account only the tables it may use)";
}

util::Status Observer::ReadBin(const std::set<std::string>& databases) {
  std::string in = sql::QuoteMariaDbLiteral(kRecycleDatabase);
  for (const std::string& db : databases) in += ", " + sql::QuoteMariaDbLiteral(db);
  TM_TRY_ASSIGN(sql::MariaDbRows rows,
                context_.conn->Query(
                    "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_COMMENT, TABLE_ROWS, "
                    "DATA_LENGTH + INDEX_LENGTH FROM information_schema.TABLES WHERE TABLE_SCHEMA "
                    "IN (" +
                    in + ") AND TABLE_COMMENT LIKE 'tidemark:%'"));
  for (int r = 0; r < rows.rows(); ++r) {
    auto mark = BinMark::FromComment(rows.Text(r, 2));
    if (!mark) continue;
    core::TableName name{rows.Text(r, 0), rows.Text(r, 1)};
    bin_sizes_[name] = {rows.Int(r, 3), rows.Int(r, 4)};
    bin_.emplace_back(std::move(name), std::move(*mark));
  }
  return {};
}

util::Result<core::ObservedStorage> Observer::Describe(const StorageRef& ref,
                                                       const TableInfo& table, size_t index) {
  const config::Dataset& dataset = *ref.dataset;
  const std::string name = table.table.ToString();
  const std::string where = Where(context_, dataset, table.table);
  if (table.table.schema.empty()) {
    return util::ConfigError("dataset " + dataset.name + ": table " + ref.storage->table +
                             " names no database, and the URL of connection '" +
                             context_.connection + "' names none either; write database.table");
  }
  if (!table.found) return util::ConfigError(where + " does not exist" + Hint(table.table));
  if (table.partitions.empty()) {
    return util::ConfigError(
        where +
        " is not partitioned; tidemark manages RANGE-partitioned tables, e.g. PARTITION BY "
        "RANGE (TO_DAYS(created_at)) (…, PARTITION pmax VALUES LESS THAN (MAXVALUE))");
  }
  const PartitionInfo& first = table.partitions.front();
  if (first.method != "RANGE" && first.method != "RANGE COLUMNS") {
    return util::ConfigError(where + " is partitioned by " + first.method +
                             "; tidemark manages RANGE and RANGE COLUMNS partitions, whose "
                             "ranges can expire one by one");
  }
  if (first.subpartitioned) {
    return util::ConfigError(where + " has subpartitions, which tidemark does not manage");
  }
  const PartitionKey key = ParseKey(first.method, first.expression);
  if (key.form == KeyForm::kOther) {
    return util::ConfigError(where + " is partitioned by " + first.method + " (" +
                             first.expression +
                             "); tidemark reads RANGE (TO_DAYS(col)), RANGE "
                             "(UNIX_TIMESTAMP(col)), RANGE COLUMNS (col) and RANGE (col) on one "
                             "column");
  }
  if (!dataset.partition_by.empty() && dataset.partition_by.front() != key.column) {
    return util::ConfigError(where + " is partitioned by " + key.column +
                             ", but the dataset says partition_by: " +
                             dataset.partition_by.front() + "; make them agree");
  }
  if (table.partitions.back().less_than != "MAXVALUE") {
    return util::ConfigError(
        where +
        " has no MAXVALUE partition at its end; without one, a row beyond the last "
        "bound " +
        table.partitions.back().less_than + " fails its INSERT. Add one: ALTER TABLE " +
        sql::QuoteMariaDbQualified(table.table.schema, table.table.name) +
        " ADD PARTITION (PARTITION pmax VALUES LESS THAN (MAXVALUE))");
  }
  auto type_of = [&](const std::string& column) {
    auto it = table.columns.find(column);
    return it == table.columns.end() ? std::string() : it->second;
  };
  const std::string key_type = type_of(key.column);
  const bool time_key = key.form == KeyForm::kToDays || key.form == KeyForm::kUnixTimestamp ||
                        (key.form == KeyForm::kColumns && IsTimeType(key_type));
  const bool id_key =
      key.form == KeyForm::kInteger || (key.form == KeyForm::kColumns && IsIntegerType(key_type));
  const std::string interval = core::FormatSpan(dataset.interval);
  if (dataset.strategy == config::Strategy::kTime) {
    if (!time_key) {
      return util::ConfigError(where + " is partitioned by " + key.column + " of type " + key_type +
                               ", which does not fit strategy time: it needs "
                               "TO_DAYS(col), UNIX_TIMESTAMP(col) or RANGE COLUMNS on "
                               "a DATE, DATETIME or TIMESTAMP column (use strategy id "
                               "or sequential for ids)");
    }
    const bool hourly = dataset.interval.unit == core::SpanUnit::kHour;
    if (hourly && (key.form == KeyForm::kToDays || key_type == "date")) {
      return util::ConfigError(where + " is partitioned by " +
                               (key.form == KeyForm::kToDays ? "TO_DAYS(" + key.column + ")"
                                                             : key.column + " of type date") +
                               ", which counts whole days and cannot be split into " + interval +
                               " partitions");
    }
    if (hourly && key_type == "datetime") {
      const util::Instant probe = util::Now();
      if (zone_.OffsetAt(probe) != zone_.OffsetAt(probe + std::chrono::days(182))) {
        return util::ConfigError(where + " is partitioned by " + key.column +
                                 " of type datetime, whose civil hours repeat or vanish in " +
                                 zone_.name() +
                                 " when clocks change; use UNIX_TIMESTAMP on a TIMESTAMP "
                                 "column, or timezone: UTC");
      }
    }
  } else if (!id_key) {
    return util::ConfigError(where + " is partitioned by " + key.column + " of type " + key_type +
                             ", which does not fit strategy " +
                             (dataset.strategy == config::Strategy::kId ? "id" : "sequential") +
                             ": it needs RANGE (col) or RANGE COLUMNS (col) on an integer column");
  }
  std::string dated_type;
  if (!dataset.dated_by.empty()) {
    dated_type = type_of(dataset.dated_by);
    if (dated_type.empty()) {
      return util::ConfigError(where + " has no column " + dataset.dated_by +
                               " (named by dated_by)");
    }
    if (!IsTimeType(dated_type)) {
      return util::ConfigError(where + ": dated_by " + dataset.dated_by + " is of type " +
                               dated_type + "; it must be a DATE, DATETIME or TIMESTAMP column");
    }
  } else if (!time_key && dataset.retention) {
    return util::ConfigError(where +
                             " is partitioned by ids, so retention needs dated_by: the "
                             "column that dates a partition's rows (e.g. dated_by: "
                             "created_at)");
  }
  core::ObservedStorage observed;
  observed.lifecycle = ref.lifecycle->name;
  observed.storage = ref.storage->name;
  observed.location = LocationOf(context_.url, table.table);
  Probe probe{index, table.table, id_key ? key.column : "", dataset.dated_by, dated_type, {}};
  std::optional<LessThan> previous;
  for (const PartitionInfo& info : table.partitions) {
    core::Partition p;
    p.name = info.name;
    p.rows = info.rows;
    p.bytes = info.bytes;
    auto bound = ParseLessThan(info.less_than);
    if (bound && bound->maxvalue) {
      p.state = core::PartitionState::kDefault;
      if (info.rows > 0) {
        observed.notes.push_back("the MAXVALUE partition " + info.name + " of " + name +
                                 " holds about " + std::to_string(info.rows) +
                                 " rows beyond its last bound; tidemark splits it only while "
                                 "it is empty");
      }
    } else if (bound && id_key && bound->integer) {
      p.ids = core::IdRange{previous && previous->integer ? *previous->integer : INT64_MIN,
                            *bound->integer};
      probe.partitions.push_back(info.name);
    } else if (auto end = bound ? BoundInstant(*bound, key.form, zone_) : std::nullopt;
               end && time_key) {
      std::optional<util::Instant> start =
          previous ? BoundInstant(*previous, key.form, zone_) : std::nullopt;
      // The first partition holds everything below its bound; it is taken to be one
      // interval wide.
      if (!start) start = core::AddSpan(*end, dataset.interval, -1, zone_);
      p.range = core::TimeRange{*start, *end};
    } else {
      p.state = core::PartitionState::kUnparsed;
      p.problem = "the bound VALUES LESS THAN (" + info.less_than + "), which is not " +
                  (id_key ? "an integer" : "a whole-second time");
      observed.notes.push_back("partition " + info.name + " of " + name + " has " + p.problem +
                               "; left alone");
    }
    previous = bound;
    observed.partitions.push_back(std::move(p));
  }
  for (const auto& [bin_table, mark] : bin_) {
    if (mark.parent_schema != table.table.schema || mark.parent_name != table.table.name) continue;
    if (!mark.dataset.empty() && mark.dataset != dataset.name) continue;
    core::BinEntry entry;
    entry.partition = mark.partition;
    entry.entry = bin_table.name;
    entry.detached = mark.detached;
    auto size = bin_sizes_.find(bin_table);
    if (size != bin_sizes_.end()) {
      entry.rows = size->second.first;
      entry.bytes = size->second.second;
    }
    if (auto removed = util::ParseInstant(mark.removed_at)) entry.removed_at = *removed;
    auto start = util::ParseInstant(mark.range_start);
    auto end = util::ParseInstant(mark.range_end);
    if (start && end) entry.range = core::TimeRange{*start, *end};
    if (!mark.id_start.empty() && !mark.id_end.empty()) {
      entry.ids = core::IdRange{std::strtoll(mark.id_start.c_str(), nullptr, 10),
                                std::strtoll(mark.id_end.c_str(), nullptr, 10)};
    }
    observed.bin.push_back(std::move(entry));
  }
  if (!probe.key.empty() || !probe.dated_by.empty()) probes_.push_back(std::move(probe));
  return observed;
}

// One query for every table's largest id and each id partition's first and last
// dated_by value (by id, through the index on the key: no scan).
util::Status Observer::RunProbes(std::vector<util::Result<core::ObservedStorage>>& out) {
  std::vector<std::string> parts;
  for (size_t p = 0; p < probes_.size(); ++p) {
    const Probe& probe = probes_[p];
    if (!out[probe.index]) continue;
    const std::string table = sql::QuoteMariaDbQualified(probe.table.schema, probe.table.name);
    const std::string tag = std::to_string(p);
    if (!probe.key.empty()) {
      parts.push_back("(SELECT " + tag + ", '', 'max', CAST(MAX(" +
                      sql::QuoteMariaDbIdent(probe.key) + ") AS CHAR) FROM " + table + ")");
    }
    if (probe.dated_by.empty() || probe.key.empty()) continue;
    for (const std::string& partition : probe.partitions) {
      for (const char* order : {"ASC", "DESC"}) {
        parts.push_back("(SELECT " + tag + ", " + sql::QuoteMariaDbLiteral(partition) + ", '" +
                        order + "', CAST(" + sql::QuoteMariaDbIdent(probe.dated_by) +
                        " AS CHAR) FROM " + table + " PARTITION (" +
                        sql::QuoteMariaDbIdent(partition) + ") ORDER BY " +
                        sql::QuoteMariaDbIdent(probe.key) + " " + order + " LIMIT 1)");
      }
    }
  }
  if (parts.empty()) return {};
  TM_TRY_ASSIGN(sql::MariaDbRows rows, context_.conn->Query(util::Join(parts, " UNION ALL ")));
  std::map<std::pair<size_t, std::string>, std::pair<std::string, std::string>> dated;
  for (int r = 0; r < rows.rows(); ++r) {
    const Probe& probe = probes_[static_cast<size_t>(rows.Int(r, 0))];
    core::ObservedStorage& observed = *out[probe.index];
    const std::string kind = rows.Text(r, 2);
    if (kind == "max") {
      if (!rows.IsNull(r, 3)) observed.max_id = rows.Int(r, 3);
      continue;
    }
    auto& [oldest, newest] = dated[{probe.index, rows.Text(r, 1)}];
    (kind == "ASC" ? oldest : newest) = rows.Text(r, 3);
  }
  for (const Probe& probe : probes_) {
    if (!out[probe.index]) continue;
    for (core::Partition& p : out[probe.index]->partitions) {
      auto it = dated.find({probe.index, p.name});
      if (it == dated.end()) continue;
      auto oldest = ColumnInstant(it->second.first, probe.dated_type, zone_);
      auto newest = ColumnInstant(it->second.second, probe.dated_type, zone_);
      // Expires once its newest row is past retention; began to fill with its oldest.
      if (oldest && newest) p.range = core::TimeRange{*oldest, *newest + std::chrono::seconds(1)};
    }
  }
  return {};
}

}  // namespace

std::string LocationOf(const std::string& url, const core::TableName& table) {
  return url.substr(0, url.find('?')) + "#" + table.ToString();
}

util::Result<std::vector<util::Result<core::ObservedStorage>>> ObserveTables(
    const ObserveContext& context, const std::vector<StorageRef>& refs,
    const util::TimeZone& zone) {
  Observer observer(context, zone);
  return observer.Run(refs);
}

}  // namespace tidemark::backend::mariadb
