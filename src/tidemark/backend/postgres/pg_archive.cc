// The archive steps of the PostgreSQL backend: COPY … TO STDOUT of a table in the
// recycle bin streamed into a table archive (archive/table_archive.h), verifying it,
// and COPY … FROM STDIN out of it for a restore.

#include "tidemark/archive/table_archive.h"
#include "tidemark/backend/postgres/pg_steps.h"
#include "tidemark/backend/table_archive_steps.h"
#include "tidemark/store/object_store.h"
#include "tidemark/util/strings.h"

namespace tidemark::backend::postgres {

namespace {

constexpr char kDataName[] = "data.copy.zst";
// Marks a table being restored from an archive: loaded and counted, not yet attached.
constexpr char kRestoringComment[] =
    "tidemark-restoring: loaded from an archive; tidemark attaches it when done";

util::Result<int64_t> CountRows(const StepEnv& env, const std::string& schema,
                                const std::string& table) {
  TM_TRY_ASSIGN(sql::PqRows rows,
                env.conn->Query("SELECT count(*) FROM " + sql::QuoteQualified(schema, table)));
  return rows.Int(0, 0);
}

std::string ColumnNames(const std::vector<archive::TableColumn>& columns) {
  std::vector<std::string> names;
  for (const archive::TableColumn& c : columns) names.push_back(sql::QuoteIdent(c.name));
  return util::Join(names, ", ");
}

}  // namespace

util::Status CopyToArchive(const StepEnv& env) {
  const core::Step& s = *env.step;
  const std::string bin = s.Param("bin");
  TM_TRY_ASSIGN(ArchiveAt at, OpenStepArchive(s, env.config));
  TM_TRY_ASSIGN(auto existing, archive::ReadTableManifest(at.location));
  TM_TRY_ASSIGN(Relation r, LookUp(*env.conn, kRecycleSchema, bin));
  if (existing && !r.exists) return {};  // archived, and the bin entry already purged
  if (!r.exists) {
    return util::StepError(bin + " is not in " + kRecycleSchema + "; nothing to archive");
  }
  if (existing) {
    // Written by an earlier attempt: done when it holds this table's rows.
    TM_TRY_ASSIGN(int64_t rows, CountRows(env, kRecycleSchema, bin));
    if (existing->table && existing->table->rows == rows) return {};
  }
  auto comment = BinComment::FromComment(r.comment);
  const core::TableName source{kRecycleSchema, bin};
  TM_TRY_ASSIGN(std::vector<Column> columns, Columns(*env.conn, source));
  archive::Manifest header = TableArchiveHeader(s, env.context->run_id);
  archive::TableSection table;
  table.format = archive::kTableFormatPostgresCopyText;
  for (const Column& c : columns) {
    if (!c.generated) table.columns.push_back({c.name, c.type});
  }
  TM_TRY_ASSIGN(table.ddl,
                CreateTableDdl(*env.conn, source, core::TableName{env.parent.schema, s.partition}));
  table.source_table = core::TableName{env.parent.schema, s.partition}.ToString();
  table.bounds = comment ? comment->bound : "";
  header.table = table;
  TM_TRY_ASSIGN(auto writer, archive::TableArchiveWriter::Open(at.location, kDataName));
  util::Progress& progress = *env.context->progress;
  progress.Begin("export " + s.partition, s.IntParam("bytes"));
  ProgressBatch batch(progress);
  // A partition that is itself partitioned can only be copied through a query.
  const std::string copy = r.relkind == 'p'
                               ? "COPY (SELECT " + ColumnNames(table.columns) + " FROM " +
                                     sql::QuoteQualified(source.schema, source.name) + ") TO STDOUT"
                               : "COPY " + sql::QuoteQualified(source.schema, source.name) + " (" +
                                     ColumnNames(table.columns) + ") TO STDOUT";
  auto copied = env.conn->CopyOut(copy, [&](std::string_view piece) -> util::Status {
    batch.Add(piece.size());
    return writer->Write(piece);
  });
  batch.Flush();
  progress.End();
  if (!copied) return tl::unexpected(copied.error());
  TM_TRY_ASSIGN(archive::Manifest manifest, writer->Finish(header));
  if (manifest.table->rows != *copied) {
    return util::Fail(util::ErrorCategory::kVerify,
                      "the export of " + bin + " wrote " + std::to_string(manifest.table->rows) +
                          " rows but the server sent " + std::to_string(*copied));
  }
  return at.store->Sync("");
}

util::Status VerifyArchive(const StepEnv& env) {
  const core::Step& s = *env.step;
  const std::string bin = s.Param("bin");
  TM_TRY_ASSIGN(ArchiveAt at, OpenStepArchive(s, env.config));
  TM_TRY_ASSIGN(archive::Manifest manifest,
                archive::VerifyTableArchive(at.location, *env.context->progress));
  if (!manifest.table) {
    return util::Fail(util::ErrorCategory::kVerify, s.Param("archive") + " is not a table archive");
  }
  // The rows were compared with the count the server reported for the COPY when the
  // archive was written, and the bin table is counted again before it is dropped
  // (CheckArchiveBeforeDrop); counting it here too would read the whole table a third
  // time for nothing.
  return {};
}

util::Status CheckArchiveBeforeDrop(const StepEnv& env) {
  const core::Step& s = *env.step;
  const std::string bin = s.Param("bin");
  TM_TRY_ASSIGN(ArchiveAt at, OpenStepArchive(s, env.config));
  TM_TRY_ASSIGN(archive::Manifest m, ArchiveBeforeDrop(at, s, bin));
  TM_TRY_ASSIGN(int64_t rows, CountRows(env, kRecycleSchema, bin));
  if (rows != m.table->rows) {
    return util::Fail(util::ErrorCategory::kVerify,
                      "refusing to drop " + bin + ": it has " + std::to_string(rows) +
                          " rows but its archive " + std::to_string(m.table->rows));
  }
  return at.store->Sync("");  // durable before the last local copy goes
}

util::Status RestoreFromArchive(const StepEnv& env) {
  const core::Step& s = *env.step;
  const bool to_table = !s.Param("to_table").empty();
  const core::TableName target =
      to_table ? Qualified(s.Param("to_table")) : core::TableName{env.parent.schema, s.partition};
  TM_TRY_ASSIGN(Relation there, LookUp(*env.conn, target.schema, target.name));
  const bool attached = there.exists && there.parent_schema == env.parent.schema &&
                        there.parent_name == env.parent.name;
  if (attached) return {};
  const std::string qualified = sql::QuoteQualified(target.schema, target.name);
  TM_TRY_ASSIGN(ArchiveAt at, OpenStepArchive(s, env.config));
  if (there.exists && there.comment != kRestoringComment) {
    if (to_table && there.parent_name.empty()) return {};  // loaded by an earlier attempt
    return util::StepError("a table " + target.ToString() +
                           " already exists; restore --to another name");
  }
  if (!there.exists) {
    TM_TRY_ASSIGN(auto reader, archive::TableArchiveReader::Open(
                                   at.location, *env.context->progress, "restore " + s.partition));
    const archive::Manifest& manifest = reader->manifest();
    if (!manifest.table || manifest.table->format != archive::kTableFormatPostgresCopyText) {
      return util::StepError(s.Param("archive") + " does not hold PostgreSQL COPY text");
    }
    std::string create;
    if (to_table) {
      std::vector<std::string> columns;
      for (const archive::TableColumn& c : manifest.table->columns) {
        columns.push_back(sql::QuoteIdent(c.name) + " " + c.type);
      }
      create = "CREATE TABLE " + qualified + " (" + util::Join(columns, ", ") + ")";
    } else {
      create = "CREATE TABLE " + qualified + " (LIKE " +
               sql::QuoteQualified(env.parent.schema, env.parent.name) +
               " INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING GENERATED); "
               "COMMENT ON TABLE " +
               qualified + " IS " + sql::QuoteLiteral(kRestoringComment);
    }
    // One transaction: a crash or a bad archive leaves no table behind. FREEZE: the
    // table is new in this transaction, so its rows need no later hint-bit writes.
    TM_TRY(env.conn->Exec("BEGIN; " + create));
    auto loaded = env.conn->CopyIn(
        "COPY " + qualified + " (" + ColumnNames(manifest.table->columns) + ") FROM STDIN (FREEZE)",
        [&]() { return reader->Next(); });
    if (loaded && *loaded != manifest.table->rows) {
      loaded = util::Fail(util::ErrorCategory::kVerify, "loaded " + std::to_string(*loaded) +
                                                            " rows but the archive holds " +
                                                            std::to_string(manifest.table->rows));
    }
    if (!loaded) {
      if (env.conn->Healthy()) (void)env.conn->Exec("ROLLBACK");
      return tl::unexpected(loaded.error());
    }
    TM_TRY(env.conn->Exec("COMMIT"));
    if (to_table) return {};
  }
  TM_TRY_ASSIGN(std::optional<archive::Manifest> manifest, archive::ReadTableManifest(at.location));
  if (!manifest || !manifest->table || manifest->table->bounds.empty()) {
    return util::StepError(s.Param("archive") + " records no bounds to attach with");
  }
  TM_TRY_ASSIGN(KeyInfo key, PartitionKey(env));
  TM_TRY(AttachWithCheck(env, target.name, manifest->table->bounds, key.column, key.kind));
  return RunDdl(env, "COMMENT ON TABLE " + qualified + " IS NULL");
}

}  // namespace tidemark::backend::postgres
