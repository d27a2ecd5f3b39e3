// The archive steps of the MariaDB backend: a bin table streamed out with
// mysql_use_result as LOAD DATA text into a table archive (archive/table_archive.h),
// verifying it, and LOAD DATA LOCAL fed from it for a restore.

#include "tidemark/archive/table_archive.h"
#include "tidemark/backend/mariadb/md_steps.h"
#include "tidemark/backend/table_archive_steps.h"
#include "tidemark/util/strings.h"

namespace tidemark::backend::mariadb {

namespace {

constexpr char kDataName[] = "data.tsv.zst";
// Marks a table being loaded from an archive: not "tidemark:", so the bin never lists it.
constexpr char kRestoringComment[] =
    "tidemark-restoring: loaded from an archive; tidemark finishes the restore";

util::Result<int64_t> CountRows(const StepEnv& env, const core::TableName& table) {
  TM_TRY_ASSIGN(sql::MariaDbRows rows,
                env.conn->Query("SELECT COUNT(*) FROM " +
                                sql::QuoteMariaDbQualified(table.schema, table.name)));
  return rows.Int(0, 0);
}

// The columns rows are written and loaded with: all but generated ones, in order.
util::Result<std::vector<archive::TableColumn>> Columns(const StepEnv& env,
                                                        const core::TableName& table) {
  TM_TRY_ASSIGN(sql::MariaDbRows rows,
                env.conn->Query("SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS "
                                "WHERE TABLE_SCHEMA = BINARY " +
                                sql::QuoteMariaDbLiteral(table.schema) +
                                " AND TABLE_NAME = BINARY " + sql::QuoteMariaDbLiteral(table.name) +
                                " AND EXTRA NOT LIKE '%GENERATED%' ORDER BY ORDINAL_POSITION"));
  std::vector<archive::TableColumn> columns;
  for (int r = 0; r < rows.rows(); ++r) columns.push_back({rows.Text(r, 0), rows.Text(r, 1)});
  if (columns.empty()) return util::StepError(table.ToString() + " has no columns to archive");
  return columns;
}

std::string ColumnNames(const std::vector<archive::TableColumn>& columns) {
  std::vector<std::string> names;
  for (const archive::TableColumn& c : columns) names.push_back(sql::QuoteMariaDbIdent(c.name));
  return util::Join(names, ", ");
}

// SHOW CREATE TABLE's statement with the table named `name` instead.
util::Result<std::string> CreateStatementFor(const std::string& ddl, const core::TableName& name) {
  const size_t open = ddl.find(" (");
  if (!util::StartsWith(ddl, "CREATE TABLE ") || open == std::string::npos) {
    return util::StepError("the archive's CREATE TABLE statement is unreadable");
  }
  return "CREATE TABLE " + sql::QuoteMariaDbQualified(name.schema, name.name) + ddl.substr(open);
}

// A copy of the parent made with CREATE TABLE … LIKE becomes a plain table marked as
// being restored.
util::Status MakeStandalone(const StepEnv& env, const core::TableName& table) {
  return env.conn->Exec(AlterTable(env, table) + "COMMENT = " +
                        sql::QuoteMariaDbLiteral(kRestoringComment) + " REMOVE PARTITIONING");
}

// In place, whether an interrupted attempt exchanged the loaded rows in already (which
// leaves the loaded table empty): the partition is back, holding the archive's rows.
util::Result<bool> ExchangedBefore(const StepEnv& env, int64_t rows) {
  TM_TRY_ASSIGN(Layout layout, ReadLayout(env));
  if (layout.Find(env.step->partition) < 0) return false;
  TM_TRY_ASSIGN(
      sql::MariaDbRows counted,
      env.conn->Query("SELECT COUNT(*) FROM " +
                      sql::QuoteMariaDbQualified(env.parent.schema, env.parent.name) +
                      " PARTITION (" + sql::QuoteMariaDbIdent(env.step->partition) + ")"));
  return counted.Int(0, 0) == rows;
}

}  // namespace

util::Status CopyToArchive(const StepEnv& env) {
  const core::Step& s = *env.step;
  const core::TableName bin{kRecycleDatabase, s.Param("bin")};
  TM_TRY_ASSIGN(ArchiveAt at, OpenStepArchive(s, env.config));
  TM_TRY_ASSIGN(auto existing, archive::ReadTableManifest(at.location));
  TM_TRY_ASSIGN(TableState there, LookUp(env, bin));
  if (existing && !there.exists) return {};  // archived, and the bin entry already purged
  if (!there.exists) {
    return util::StepError(bin.ToString() + " is not in the recycle bin; nothing to archive");
  }
  if (existing) {
    // Written by an earlier attempt: done when it holds this table's rows.
    TM_TRY_ASSIGN(int64_t rows, CountRows(env, bin));
    if (existing->table && existing->table->rows == rows) return {};
  }
  const auto mark = BinMark::FromComment(there.comment);
  archive::Manifest header = TableArchiveHeader(s, env.context->run_id);
  archive::TableSection table;
  table.format = archive::kTableFormatMariadbLoadDataText;
  TM_TRY_ASSIGN(table.columns, Columns(env, bin));
  TM_TRY_ASSIGN(
      sql::MariaDbRows ddl,
      env.conn->Query("SHOW CREATE TABLE " + sql::QuoteMariaDbQualified(bin.schema, bin.name)));
  table.ddl = ddl.Text(0, 1);
  table.source_table =
      core::TableName{env.parent.schema, env.parent.name}.ToString() + " PARTITION " + s.partition;
  table.bounds = mark ? mark->bound : "";
  header.table = table;
  TM_TRY_ASSIGN(auto writer, archive::TableArchiveWriter::Open(at.location, kDataName));
  util::Progress& progress = *env.context->progress;
  progress.Begin("export " + s.partition, s.IntParam("bytes"));
  ProgressBatch batch(progress);
  std::string line;
  auto streamed = env.conn->StreamRows("SELECT " + ColumnNames(table.columns) + " FROM " +
                                           sql::QuoteMariaDbQualified(bin.schema, bin.name),
                                       [&](const sql::MariaDbRowView& row) -> util::Status {
                                         line.clear();
                                         sql::AppendLoadDataRow(line, row);
                                         batch.Add(line.size());
                                         return writer->Write(line);
                                       });
  batch.Flush();
  progress.End();
  if (!streamed) return tl::unexpected(streamed.error());
  TM_TRY_ASSIGN(archive::Manifest manifest, writer->Finish(header));
  if (manifest.table->rows != *streamed) {
    return util::Fail(util::ErrorCategory::kVerify, "the export of " + bin.ToString() + " wrote " +
                                                        std::to_string(manifest.table->rows) +
                                                        " rows but the server sent " +
                                                        std::to_string(*streamed));
  }
  return at.store->Sync("");
}

util::Status VerifyArchive(const StepEnv& env) {
  const core::Step& s = *env.step;
  TM_TRY_ASSIGN(ArchiveAt at, OpenStepArchive(s, env.config));
  TM_TRY_ASSIGN(archive::Manifest manifest,
                archive::VerifyTableArchive(at.location, *env.context->progress));
  if (!manifest.table || manifest.table->format != archive::kTableFormatMariadbLoadDataText) {
    return util::Fail(util::ErrorCategory::kVerify,
                      s.Param("archive") + " is not a MariaDB table archive");
  }
  // The rows were compared with the count the server sent when the archive was written,
  // and the bin table is counted again before it is dropped (CheckArchiveBeforeDrop).
  return {};
}

util::Status CheckArchiveBeforeDrop(const StepEnv& env) {
  const core::Step& s = *env.step;
  const core::TableName bin{kRecycleDatabase, s.Param("bin")};
  TM_TRY_ASSIGN(ArchiveAt at, OpenStepArchive(s, env.config));
  TM_TRY_ASSIGN(archive::Manifest m, ArchiveBeforeDrop(at, s, bin.ToString()));
  TM_TRY_ASSIGN(int64_t rows, CountRows(env, bin));
  if (rows != m.table->rows) {
    return util::Fail(util::ErrorCategory::kVerify,
                      "refusing to drop " + bin.ToString() + ": it has " + std::to_string(rows) +
                          " rows but its archive " + std::to_string(m.table->rows));
  }
  return at.store->Sync("");  // durable before the last database copy goes
}

util::Status RestoreFromArchive(const StepEnv& env) {
  const core::Step& s = *env.step;
  const bool to_table = !s.Param("to_table").empty();
  // In place, rows are loaded into a table beside the parent, then exchanged in.
  const core::TableName target =
      to_table ? Qualified(s.Param("to_table"), env.parent.schema)
               : core::TableName{
                     env.parent.schema,
                     core::FitIdentifier(env.parent.name + "__" + s.partition, "__restoring", 64)};
  TM_TRY_ASSIGN(TableState there, LookUp(env, target));
  if (!to_table && !there.exists) {
    TM_TRY_ASSIGN(Layout layout, ReadLayout(env));
    if (layout.Find(s.partition) >= 0) return {};  // put back before
  }
  // In place, a partitioned table of that name is the copy of the parent an interrupted
  // attempt created (the name is tidemark's).
  if (there.exists && there.comment != kRestoringComment && !(!to_table && there.partitioned)) {
    if (to_table) return {};  // loaded by an earlier attempt
    return util::StepError("a table " + target.ToString() + " stands in the way of the restore");
  }
  TM_TRY_ASSIGN(ArchiveAt at, OpenStepArchive(s, env.config));
  TM_TRY_ASSIGN(auto reader, archive::TableArchiveReader::Open(at.location, *env.context->progress,
                                                               "restore " + s.partition));
  const archive::Manifest& manifest = reader->manifest();
  if (!manifest.table || manifest.table->format != archive::kTableFormatMariadbLoadDataText) {
    return util::StepError(s.Param("archive") + " does not hold MariaDB LOAD DATA text");
  }
  const std::string qualified = sql::QuoteMariaDbQualified(target.schema, target.name);
  if (!there.exists) {
    // --to: the table as it was archived; in place: the parent's shape now, which
    // EXCHANGE PARTITION needs.
    std::string create;
    if (to_table) {
      TM_TRY_ASSIGN(create, CreateStatementFor(manifest.table->ddl, target));
      TM_TRY(env.conn->Exec(create + " COMMENT = " + sql::QuoteMariaDbLiteral(kRestoringComment)));
    } else {
      TM_TRY(env.conn->Exec("CREATE TABLE " + qualified + " LIKE " +
                            sql::QuoteMariaDbQualified(env.parent.schema, env.parent.name)));
      TM_TRY(MakeStandalone(env, target));
    }
  } else if (there.partitioned) {
    TM_TRY(MakeStandalone(env, target));  // created by an interrupted attempt
  } else {
    // Left by an interrupted attempt, whose load rolled back or committed whole.
    TM_TRY_ASSIGN(int64_t rows, CountRows(env, target));
    if (rows != manifest.table->rows) TM_TRY(env.conn->Exec("TRUNCATE TABLE " + qualified));
  }
  TM_TRY_ASSIGN(int64_t present, CountRows(env, target));
  bool exchanged = false;
  if (present == 0 && !to_table && there.exists) {
    TM_TRY_ASSIGN(exchanged, ExchangedBefore(env, manifest.table->rows));
  }
  if (present == 0 && manifest.table->rows > 0 && !exchanged) {
    auto loaded = env.conn->LoadDataLocal("LOAD DATA LOCAL INFILE 'archive' INTO TABLE " +
                                              qualified + " " + sql::kLoadDataFormat + " (" +
                                              ColumnNames(manifest.table->columns) + ")",
                                          [&]() { return reader->Next(); });
    if (!loaded) return tl::unexpected(loaded.error());
    if (*loaded != manifest.table->rows) {
      (void)env.conn->Exec("TRUNCATE TABLE " + qualified);
      return util::Fail(util::ErrorCategory::kVerify, "loaded " + std::to_string(*loaded) +
                                                          " rows but the archive holds " +
                                                          std::to_string(manifest.table->rows));
    }
  }
  if (to_table) return env.conn->Exec(AlterTable(env, target) + "COMMENT = ''");
  TM_TRY_ASSIGN(Layout layout, ReadLayout(env));
  BinMark mark;
  mark.partition = s.partition;
  mark.bound = manifest.table->bounds;
  mark.range_end = manifest.range_end;
  TM_TRY_ASSIGN(std::string less_than, MarkedLessThan(mark, layout.key, env.zone));
  return PutBack(env, target, less_than);
}

}  // namespace tidemark::backend::mariadb
