#include "tidemark/backend/mariadb/md_steps.h"

#include "tidemark/util/failpoint.h"
#include "tidemark/util/strings.h"

namespace tidemark::backend::mariadb {

namespace {

// Marks a table tidemark is filling before it becomes a bin entry (EXCHANGE): not
// "tidemark:", so the bin never lists it.
constexpr char kStagingComment[] =
    "tidemark-staging: a partition being moved out by EXCHANGE PARTITION; tidemark "
    "finishes the move";

std::string Table(const core::TableName& t) { return sql::QuoteMariaDbQualified(t.schema, t.name); }
std::string Ident(const std::string& name) { return sql::QuoteMariaDbIdent(name); }

std::string Describe(const StepEnv& env, const std::string& partition) {
  return "partition " + partition + " of " + env.parent.ToString();
}

util::Status RunAlter(const StepEnv& env, const std::string& what, const std::string& sql) {
  return WithRetries(env.policy, what, [&] { return env.conn->Exec(sql); });
}

// "VALUES LESS THAN (x)" for a PARTITION_DESCRIPTION ("MAXVALUE", "739255", "'2024-01-05'").
std::string LessThanClause(const std::string& description) {
  return "VALUES LESS THAN (" + description + ")";
}

// Orders two PARTITION_DESCRIPTION values of one table: <0, 0, >0; nullopt when either
// cannot be read.
std::optional<int> Compare(const std::string& a, const std::string& b, const PartitionKey& key,
                           const util::TimeZone& zone) {
  auto pa = ParseLessThan(a);
  auto pb = ParseLessThan(b);
  if (!pa || !pb) return std::nullopt;
  if (pa->maxvalue || pb->maxvalue) return int(pa->maxvalue) - int(pb->maxvalue);
  if (pa->integer && pb->integer)
    return *pa->integer < *pb->integer ? -1 : *pa->integer > *pb->integer;
  auto ta = BoundInstant(*pa, key.form, zone);
  auto tb = BoundInstant(*pb, key.form, zone);
  if (!ta || !tb) return std::nullopt;
  return *ta < *tb ? -1 : *ta > *tb;
}

// The index of the first partition whose bound is above `less_than` (the one whose range
// holds the values just below it), or -1.
util::Result<int> Covering(const StepEnv& env, const Layout& layout, const std::string& less_than) {
  for (size_t i = 0; i < layout.partitions.size(); ++i) {
    auto order = Compare(layout.partitions[i].less_than, less_than, layout.key, env.zone);
    if (!order) {
      return util::StepError("cannot compare the bound " + layout.partitions[i].less_than + " of " +
                             Describe(env, layout.partitions[i].name) + " with " + less_than);
    }
    if (*order == 0) {
      return util::StepError(Describe(env, layout.partitions[i].name) + " already ends at " +
                             less_than);
    }
    if (*order > 0) return static_cast<int>(i);
  }
  return -1;
}

// The step's new bound: "id_end", or "range_end" written for the key.
util::Result<std::string> StepLessThan(const StepEnv& env, const PartitionKey& key) {
  const core::Step& s = *env.step;
  if (!s.Param("id_end").empty()) {
    if (key.form != KeyForm::kInteger && key.form != KeyForm::kColumns) {
      return util::StepError("an id range for a table partitioned by time");
    }
    return std::to_string(s.IntParam("id_end"));
  }
  auto end = util::ParseInstant(s.Param("range_end"));
  if (!end) return util::StepError("the step has no readable range");
  if (key.form == KeyForm::kInteger || key.form == KeyForm::kOther) {
    return util::StepError("a time range for a table not partitioned by time");
  }
  return LessThanFor(*end, key.form, env.zone);
}

util::Status EnsureRecycleDatabase(const StepEnv& env) {
  // Looked up first: an account granted rights on a recycle database its DBA created
  // may not create databases, and CREATE DATABASE IF NOT EXISTS checks that right first.
  TM_TRY_ASSIGN(sql::MariaDbRows there,
                env.conn->Query(std::string("SELECT 1 FROM information_schema.SCHEMATA WHERE "
                                            "SCHEMA_NAME = '") +
                                kRecycleDatabase + "'"));
  if (there.rows() > 0) return {};
  auto created = env.conn->Exec(std::string("CREATE DATABASE IF NOT EXISTS ") + kRecycleDatabase);
  if (!created && (env.conn->ErrorNumber() == 1044 || env.conn->ErrorNumber() == 1045)) {
    return util::StepError(created.error().message() +
                           "; tidemark keeps removed partitions in the database " +
                           kRecycleDatabase +
                           ": create it, and grant the account CREATE, DROP, "
                           "ALTER, SELECT and INSERT on it (docs/mariadb.md, Privileges)");
  }
  return created;
}

util::Status SetComment(const StepEnv& env, const core::TableName& table,
                        const std::string& comment) {
  return RunAlter(env, "marking " + table.ToString(),
                  AlterTable(env, table) + "COMMENT = " + sql::QuoteMariaDbLiteral(comment));
}

util::Result<bool> TableHasRows(const StepEnv& env, const core::TableName& table) {
  TM_TRY_ASSIGN(sql::MariaDbRows rows,
                env.conn->Query("SELECT 1 FROM " + Table(table) + " LIMIT 1"));
  return rows.rows() > 0;
}

// The mark of a partition the step removes, from the step (and its bound, when known).
BinMark StepMark(const StepEnv& env, const std::string& bound) {
  const core::Step& s = *env.step;
  BinMark mark;
  mark.dataset = s.Param("dataset");
  mark.parent_schema = env.parent.schema;
  mark.parent_name = env.parent.name;
  mark.partition = s.partition;
  mark.removed_at = s.Param("removed_at");
  mark.range_start = s.Param("range_start");
  mark.range_end = s.Param("range_end");
  mark.id_start = s.Param("id_start");
  mark.id_end = s.Param("id_end");
  mark.bound = bound;
  mark.detached = s.Param("detached") == "1";
  return mark;
}

}  // namespace

std::string AlterTable(const StepEnv& env, const core::TableName& table) {
  return "ALTER TABLE " + Table(table) +
         (env.mariadb ? " WAIT " + std::to_string(env.wait_s) : "") + " ";
}

int Layout::Find(const std::string& name) const {
  for (size_t i = 0; i < partitions.size(); ++i) {
    if (partitions[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int Layout::Tail() const {
  return !partitions.empty() && partitions.back().less_than == "MAXVALUE"
             ? static_cast<int>(partitions.size()) - 1
             : -1;
}

util::Result<Layout> ReadLayout(const StepEnv& env) {
  TM_TRY_ASSIGN(std::vector<TableInfo> tables, ReadCatalog(*env.conn, {env.parent}));
  const TableInfo& t = tables.front();
  if (!t.found) return util::StepError("the table " + env.parent.ToString() + " is gone");
  if (t.partitions.empty()) {
    return util::StepError("the table " + env.parent.ToString() + " is no longer partitioned");
  }
  Layout layout;
  layout.partitions = t.partitions;
  layout.columns = t.columns;
  layout.key = ParseKey(t.partitions.front().method, t.partitions.front().expression);
  if (layout.key.form == KeyForm::kOther) {
    return util::StepError(env.parent.ToString() +
                           " is no longer partitioned by a key tidemark reads");
  }
  return layout;
}

util::Result<bool> AnyRows(const StepEnv& env, const std::vector<std::string>& partitions) {
  std::vector<std::string> quoted;
  for (const std::string& p : partitions) quoted.push_back(Ident(p));
  TM_TRY_ASSIGN(sql::MariaDbRows rows,
                env.conn->Query("SELECT 1 FROM " + Table(env.parent) + " PARTITION (" +
                                util::Join(quoted, ", ") + ") LIMIT 1"));
  return rows.rows() > 0;
}

util::Status UnderWriteLock(const StepEnv& env, const std::string& what,
                            const std::vector<core::TableName>& also,
                            const std::function<util::Status()>& body) {
  std::string tables = Table(env.parent) + " WRITE";
  for (const core::TableName& t : also) tables += ", " + Table(t) + " WRITE";
  return WithRetries(env.policy, what, [&]() -> util::Status {
    TM_TRY(env.conn->Exec("LOCK TABLES " + tables));
    util::Status status = body();
    if (env.conn->Healthy()) {
      auto unlocked = env.conn->Exec("UNLOCK TABLES");
      if (status && !unlocked) return unlocked;
    }
    return status;
  });
}

util::Result<TableState> LookUp(const StepEnv& env, const core::TableName& table) {
  TM_TRY_ASSIGN(
      sql::MariaDbRows rows,
      env.conn->Query("SELECT TABLE_COMMENT, CREATE_OPTIONS LIKE '%partitioned%', TABLE_ROWS FROM "
                      "information_schema.TABLES WHERE TABLE_SCHEMA = BINARY " +
                      sql::QuoteMariaDbLiteral(table.schema) + " AND TABLE_NAME = BINARY " +
                      sql::QuoteMariaDbLiteral(table.name)));
  TableState state;
  if (rows.rows() == 0) return state;
  state.exists = true;
  state.comment = rows.Text(0, 0);
  state.partitioned = rows.Int(0, 1) != 0;
  state.rows = rows.Int(0, 2);
  return state;
}

core::TableName Qualified(const std::string& text, const std::string& default_database) {
  auto parsed = core::ParseTableName(text);
  core::TableName name = parsed ? *parsed : core::TableName{"", text};
  if (name.schema.empty()) name.schema = default_database;
  return name;
}

util::Result<std::string> MarkedLessThan(const BinMark& mark, const PartitionKey& key,
                                         const util::TimeZone& zone) {
  if (!mark.bound.empty()) return mark.bound;
  if (!mark.id_end.empty()) return mark.id_end;
  auto end = util::ParseInstant(mark.range_end);
  if (!end || key.form == KeyForm::kInteger || key.form == KeyForm::kOther) {
    return util::StepError("the mark of " + mark.partition +
                           " records no bound to put it back with");
  }
  return LessThanFor(*end, key.form, zone);
}

util::Status CreatePartition(const StepEnv& env) {
  const core::Step& s = *env.step;
  // The layout is read under the lock: steps adding partitions to one table may run at
  // once, in any order, and each must split what is there when it runs.
  return UnderWriteLock(env, "adding " + Describe(env, s.partition), {}, [&]() -> util::Status {
    TM_TRY_ASSIGN(Layout layout, ReadLayout(env));
    TM_TRY_ASSIGN(std::string wanted, StepLessThan(env, layout.key));
    if (const int have = layout.Find(s.partition); have >= 0) {
      if (Compare(layout.partitions[have].less_than, wanted, layout.key, env.zone) == 0) return {};
      return util::StepError(Describe(env, s.partition) + " exists with VALUES LESS THAN (" +
                             layout.partitions[have].less_than + "), not (" + wanted + ")");
    }
    if (layout.Tail() < 0) {
      return util::StepError(
          env.parent.ToString() + " has no MAXVALUE partition to split; add one: ALTER TABLE " +
          Table(env.parent) + " ADD PARTITION (PARTITION pmax VALUES LESS THAN (MAXVALUE))");
    }
    TM_TRY_ASSIGN(int covering, Covering(env, layout, wanted));
    const PartitionInfo& from = layout.partitions[covering];
    TM_TRY_ASSIGN(bool rows, AnyRows(env, {from.name}));
    if (rows && covering == layout.Tail()) {
      return util::StepError(
          "the MAXVALUE partition " + from.name + " of " + env.parent.ToString() +
          " holds rows beyond the last bound" +
          (covering > 0 ? " " + layout.partitions[covering - 1].less_than : std::string()) +
          "; tidemark splits it only while it is empty, since splitting copies every row. "
          "Split it yourself once (ALTER TABLE … REORGANIZE PARTITION " +
          from.name + " INTO (…), which copies them) or move the rows, then apply again");
    }
    if (rows) {
      return util::StepError(Describe(env, from.name) + " holds rows, and " + s.partition +
                             " would be split out of it; tidemark never reorganizes a partition "
                             "that holds rows");
    }
    return env.conn->Exec(AlterTable(env, env.parent) + "REORGANIZE PARTITION " + Ident(from.name) +
                          " INTO (PARTITION " + Ident(s.partition) + " " + LessThanClause(wanted) +
                          ", PARTITION " + Ident(from.name) + " " + LessThanClause(from.less_than) +
                          ")");
  });
}

util::Status ReorganizeAhead(const StepEnv& env) {
  const core::Step& s = *env.step;
  const std::vector<std::string> from = util::Split(s.Param("reorganize"), '\n');
  std::vector<std::pair<std::string, std::string>> into;  // name, less than
  for (const std::string& line : util::Split(s.Param("into"), '\n')) {
    const size_t space = line.rfind(' ');
    if (space == std::string::npos)
      return util::StepError("unreadable layout line \"" + line + "\"");
    into.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  if (from.empty() || into.empty()) return util::StepError("the step lays out no partitions");
  TM_TRY_ASSIGN(Layout layout, ReadLayout(env));
  const auto& parts = layout.partitions;
  // Done before: the table ends with exactly the wanted partitions.
  if (parts.size() >= into.size()) {
    bool same = true;
    for (size_t i = 0; same && i < into.size(); ++i) {
      const PartitionInfo& p = parts[parts.size() - into.size() + i];
      same = p.name == into[i].first &&
             Compare(p.less_than, into[i].second, layout.key, env.zone) == 0;
    }
    if (same) return {};
  }
  // What was planned is still there: the partitions to reorganize end the table.
  bool planned = parts.size() >= from.size();
  for (size_t i = 0; planned && i < from.size(); ++i) {
    planned = parts[parts.size() - from.size() + i].name == from[i];
  }
  if (!planned || layout.Tail() < 0) {
    return util::StepError("the partitions of " + env.parent.ToString() +
                           " changed since this step was planned (it expected " +
                           util::Join(from, ", ") + " at the end); plan again");
  }
  const size_t first = parts.size() - from.size();
  if (first > 0) {
    auto order = Compare(into.front().second, parts[first - 1].less_than, layout.key, env.zone);
    if (!order || *order <= 0) {
      return util::StepError("the first new bound " + into.front().second + " is not above " +
                             parts[first - 1].less_than + ", the bound of " +
                             parts[first - 1].name);
    }
  }
  std::vector<std::string> quoted;
  for (const std::string& name : from) quoted.push_back(Ident(name));
  std::vector<std::string> defs;
  for (const auto& [name, less_than] : into) {
    defs.push_back("PARTITION " + Ident(name) + " " + LessThanClause(less_than));
  }
  return UnderWriteLock(
      env, "laying out the partitions ahead of " + env.parent.ToString(), {},
      [&]() -> util::Status {
        TM_TRY_ASSIGN(bool rows, AnyRows(env, from));
        if (rows) {
          return util::StepError("rows have reached the partitions " + util::Join(from, ", ") +
                                 " of " + env.parent.ToString() +
                                 " since this step was planned; tidemark reorganizes only empty "
                                 "partitions, so plan again");
        }
        return env.conn->Exec(AlterTable(env, env.parent) + "REORGANIZE PARTITION " +
                              util::Join(quoted, ", ") + " INTO (" + util::Join(defs, ", ") + ")");
      });
}

util::Status HidePartition(const StepEnv& env) {
  const core::Step& s = *env.step;
  const bool keep_detached = s.Param("detached") == "1";
  const core::TableName bin{keep_detached ? env.parent.schema : kRecycleDatabase, s.Param("bin")};
  TM_TRY_ASSIGN(Layout layout, ReadLayout(env));
  const int at = layout.Find(s.partition);
  TM_TRY_ASSIGN(TableState there, LookUp(env, bin));
  const bool marked = there.exists && BinMark::FromComment(there.comment).has_value();
  if (at < 0) {
    if (!there.exists) {
      return util::StepError(Describe(env, s.partition) + " is gone and is not " +
                             (keep_detached ? "kept" : "in the recycle bin") + " as " +
                             bin.ToString() + "; it was removed by someone else");
    }
    // Moved out by an earlier attempt; the mark may be missing.
    if (marked) return {};
    return SetComment(env, bin, StepMark(env, "").ToComment());
  }
  const BinMark mark = StepMark(env, layout.partitions[at].less_than);
  // A partitioned table of the bin's name is the copy an interrupted EXCHANGE attempt
  // created (the name is tidemark's).
  const bool copy = there.exists && there.partitioned && !marked;
  if (there.exists && !marked && !copy && there.comment != kStagingComment) {
    return util::StepError("a table " + bin.ToString() + " already exists and is not tidemark's; " +
                           Describe(env, s.partition) + " cannot be moved there");
  }
  if (there.exists && marked) {
    return util::StepError(Describe(env, s.partition) + " is still attached, but " +
                           bin.ToString() + " already holds a partition removed before");
  }
  if (!keep_detached) TM_TRY(EnsureRecycleDatabase(env));
  if (env.detach == DetachMethod::kConvert && !there.exists) {
    TM_TRY(RunAlter(env, "detaching " + s.partition,
                    AlterTable(env, env.parent) + "CONVERT PARTITION " + Ident(s.partition) +
                        " TO TABLE " + Table(bin)));
    util::Failpoint("md.converted");
    return SetComment(env, bin, mark.ToComment());
  }
  // EXCHANGE with an empty table of the same shape, then DROP the emptied partition.
  if (!there.exists || copy) {
    if (!there.exists) {
      TM_TRY(env.conn->Exec("CREATE TABLE " + Table(bin) + " LIKE " + Table(env.parent)));
    }
    TM_TRY(RunAlter(env, "preparing " + bin.ToString(),
                    AlterTable(env, bin) + "COMMENT = " +
                        sql::QuoteMariaDbLiteral(kStagingComment) + " REMOVE PARTITIONING"));
    util::Failpoint("md.exchange_ready");
  }
  TM_TRY_ASSIGN(bool bin_rows, TableHasRows(env, bin));
  if (!bin_rows) {
    TM_TRY(RunAlter(env, "exchanging " + s.partition,
                    AlterTable(env, env.parent) + "EXCHANGE PARTITION " + Ident(s.partition) +
                        " WITH TABLE " + Table(bin)));
    util::Failpoint("md.exchanged");
  }
  TM_TRY(UnderWriteLock(
      env, "dropping the emptied " + Describe(env, s.partition), {bin}, [&]() -> util::Status {
        TM_TRY_ASSIGN(bool rows, AnyRows(env, {s.partition}));
        if (rows) {
          return util::StepError("rows arrived in " + Describe(env, s.partition) +
                                 " after its rows were moved to " + bin.ToString() +
                                 "; they stay there, and the partition is not dropped. Move them "
                                 "(INSERT INTO " +
                                 Table(bin) + " SELECT * FROM " + Table(env.parent) +
                                 " PARTITION (" + Ident(s.partition) + ")), then apply again");
        }
        return env.conn->Exec(AlterTable(env, env.parent) + "DROP PARTITION " + Ident(s.partition));
      }));
  util::Failpoint("md.dropped");
  return SetComment(env, bin, mark.ToComment());
}

util::Status PurgeRecycled(const StepEnv& env) {
  const core::TableName bin{kRecycleDatabase, env.step->Param("bin")};
  TM_TRY_ASSIGN(TableState there, LookUp(env, bin));
  if (!there.exists) return {};
  if (!env.step->Param("archive").empty()) TM_TRY(CheckArchiveBeforeDrop(env));
  return RunAlter(env, "dropping " + bin.ToString(), "DROP TABLE " + Table(bin));
}

util::Status PutBack(const StepEnv& env, const core::TableName& source,
                     const std::string& less_than) {
  const core::Step& s = *env.step;
  TM_TRY_ASSIGN(Layout layout, ReadLayout(env));
  const int at = layout.Find(s.partition);
  if (at < 0) {
    TM_TRY_ASSIGN(int covering, Covering(env, layout, less_than));
    if (covering < 0) {
      return util::StepError(env.parent.ToString() + " has no partition above " + less_than +
                             " to split " + s.partition + " out of");
    }
    const PartitionInfo& from = layout.partitions[covering];
    // The cost docs/mariadb.md states: REORGANIZE copies every row of `from`.
    env.context->progress->Begin("split " + s.partition + " out of " + from.name, 0);
    auto split = RunAlter(env, "splitting " + from.name,
                          AlterTable(env, env.parent) + "REORGANIZE PARTITION " + Ident(from.name) +
                              " INTO (PARTITION " + Ident(s.partition) + " " +
                              LessThanClause(less_than) + ", PARTITION " + Ident(from.name) + " " +
                              LessThanClause(from.less_than) + ")");
    env.context->progress->End();
    TM_TRY(split);
    util::Failpoint("restore.split");
  } else if (Compare(layout.partitions[at].less_than, less_than, layout.key, env.zone) != 0) {
    return util::StepError(Describe(env, s.partition) + " exists with VALUES LESS THAN (" +
                           layout.partitions[at].less_than + "), not (" + less_than +
                           "); restore --to another table");
  }
  TM_TRY_ASSIGN(TableState there, LookUp(env, source));
  if (!there.exists) return {};  // exchanged and dropped before
  TM_TRY_ASSIGN(bool source_rows, TableHasRows(env, source));
  if (source_rows) {
    TM_TRY_ASSIGN(bool rows, AnyRows(env, {s.partition}));
    if (rows) {
      return util::StepError(
          "rows of the range of " + s.partition + " arrived in " + env.parent.ToString() +
          " since it was removed; tidemark does not merge them. Restore --to a table and merge "
          "by hand");
    }
    TM_TRY(RunAlter(env, "exchanging " + s.partition,
                    AlterTable(env, env.parent) + "EXCHANGE PARTITION " + Ident(s.partition) +
                        " WITH TABLE " + Table(source)));
    util::Failpoint("restore.exchanged");
  }
  return RunAlter(env, "dropping " + source.ToString(), "DROP TABLE " + Table(source));
}

util::Status RestoreFromBin(const StepEnv& env) {
  const core::Step& s = *env.step;
  const std::string bin = s.Param("bin");
  // In the recycle database, or kept detached beside the table.
  core::TableName source{kRecycleDatabase, bin};
  TM_TRY_ASSIGN(TableState there, LookUp(env, source));
  if (!there.exists) {
    source = core::TableName{env.parent.schema, bin};
    TM_TRY_ASSIGN(there, LookUp(env, source));
    if (there.exists && !BinMark::FromComment(there.comment)) there.exists = false;
  }
  if (!s.Param("to_table").empty()) {
    const core::TableName target = Qualified(s.Param("to_table"), env.parent.schema);
    TM_TRY_ASSIGN(TableState placed, LookUp(env, target));
    // Renamed by an earlier attempt, it still carries the mark, so the bin lists it
    // under its new name and the step names it as its source.
    const bool renamed =
        there.exists && source.schema == target.schema && source.name == target.name;
    if (placed.exists) {
      if (!there.exists || renamed) {
        // Renamed by an earlier attempt: clear the mark it carried along.
        if (BinMark::FromComment(placed.comment)) return SetComment(env, target, "");
        return {};
      }
      return util::StepError("the table " + target.ToString() +
                             " already exists; choose another --to");
    }
    if (!there.exists)
      return util::StepError("nothing to restore: " + bin + " is not in the recycle bin");
    TM_TRY(RunAlter(env, "moving " + bin + " to " + target.ToString(),
                    "RENAME TABLE " + Table(source) + " TO " + Table(target)));
    util::Failpoint("restore.moved");
    return SetComment(env, target, "");
  }
  TM_TRY_ASSIGN(Layout layout, ReadLayout(env));
  if (!there.exists) {
    if (layout.Find(s.partition) >= 0) return {};
    return util::StepError("nothing to restore: " + bin + " is not in the recycle bin and " +
                           Describe(env, s.partition) + " is not there");
  }
  auto mark = BinMark::FromComment(there.comment);
  if (!mark) return util::StepError(source.ToString() + " carries no tidemark mark");
  TM_TRY_ASSIGN(std::string less_than, MarkedLessThan(*mark, layout.key, env.zone));
  return PutBack(env, source, less_than);
}

}  // namespace tidemark::backend::mariadb
