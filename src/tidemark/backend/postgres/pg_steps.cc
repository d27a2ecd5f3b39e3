#include "tidemark/backend/postgres/pg_steps.h"

#include "tidemark/backend/retry.h"
#include "tidemark/util/failpoint.h"
#include "tidemark/util/strings.h"

namespace tidemark::backend::postgres {

namespace {

// Marks a table tidemark is filling before it attaches it (rows moved out of a
// default partition). Not "tidemark:", so the bin never lists it.
constexpr char kStagingComment[] =
    "tidemark-staging: rows of a new partition being moved out of "
    "the default partition; tidemark attaches it when done";
constexpr char kBoundsConstraint[] = "tidemark_bounds";

std::string Table(const core::TableName& t) { return sql::QuoteQualified(t.schema, t.name); }

// Runs `sql` inside BEGIN … COMMIT; rolls back on failure.
util::Status InTransaction(const StepEnv& env, const std::string& sql) {
  auto done = env.conn->Exec("BEGIN; " + sql + "; COMMIT");
  if (!done) {
    if (env.conn->Healthy()) (void)env.conn->Exec("ROLLBACK");
    return done;
  }
  return {};
}

std::string Describe(const StepEnv& env, const std::string& partition) {
  return "partition " + partition + " of " + env.parent.ToString();
}

// The literal bounds of the step's range, for the parent's key kind.
struct Bounds {
  std::string from;  // SQL literal
  std::string to;
  std::string clause;  // FOR VALUES FROM (…) TO (…)
};

util::Result<Bounds> StepBounds(const StepEnv& env, KeyKind kind) {
  const core::Step& s = *env.step;
  Bounds b;
  if (!s.Param("id_start").empty()) {
    if (kind != KeyKind::kInteger) return util::StepError("an id range for a non-integer key");
    b.from = std::to_string(s.IntParam("id_start"));
    b.to = std::to_string(s.IntParam("id_end"));
  } else {
    auto start = util::ParseInstant(s.Param("range_start"));
    auto end = util::ParseInstant(s.Param("range_end"));
    if (!start || !end) return util::StepError("the step has no readable range");
    if (!IsTimeKind(kind)) return util::StepError("a time range for a non-time key");
    b.from = InstantLiteral(*start, kind, env.zone);
    b.to = InstantLiteral(*end, kind, env.zone);
  }
  b.clause = "FOR VALUES FROM (" + b.from + ") TO (" + b.to + ")";
  return b;
}

// Whether two bound expressions describe the same range for this key kind.
bool SameBounds(const std::string& a, const std::string& b, KeyKind kind,
                const util::TimeZone& zone) {
  auto pa = ParseRangeBound(a);
  auto pb = ParseRangeBound(b);
  if (!pa || !pb || pa->is_default || pb->is_default) return false;
  if (kind == KeyKind::kInteger) {
    return BoundInteger(pa->from[0]) == BoundInteger(pb->from[0]) &&
           BoundInteger(pa->to[0]) == BoundInteger(pb->to[0]);
  }
  return BoundInstant(pa->from[0], kind, zone) == BoundInstant(pb->from[0], kind, zone) &&
         BoundInstant(pa->to[0], kind, zone) == BoundInstant(pb->to[0], kind, zone);
}

// The insertable columns of the parent, quoted and joined: "a", "b", …
util::Result<std::string> ColumnList(const StepEnv& env) {
  TM_TRY_ASSIGN(std::vector<Column> columns, Columns(*env.conn, env.parent));
  std::vector<std::string> names;
  for (const Column& c : columns) {
    if (!c.generated) names.push_back(sql::QuoteIdent(c.name));
  }
  return util::Join(names, ", ");
}

// Moves the rows of [from, to) out of the default partition into `staging`, a batch
// per transaction, then attaches `staging` while holding the default partition's lock
// so that no new row of the range can slip in between.
util::Status MoveFromDefaultAndAttach(const StepEnv& env, const KeyInfo& key,
                                      const std::string& def, const Bounds& bounds) {
  const std::string staging = sql::QuoteQualified(env.parent.schema, env.step->partition);
  const std::string source = sql::QuoteQualified(env.parent.schema, def);
  TM_TRY_ASSIGN(std::string columns, ColumnList(env));
  const std::string where = sql::QuoteIdent(key.column) + " >= " + bounds.from + " AND " +
                            sql::QuoteIdent(key.column) + " < " + bounds.to;
  auto move = [&](const std::string& limit) {
    return "WITH moved AS (DELETE FROM " + source + " WHERE ctid = ANY (ARRAY(SELECT ctid FROM " +
           source + " WHERE " + where + limit + ")) RETURNING " + columns + ") INSERT INTO " +
           staging + " (" + columns + ") SELECT " + columns + " FROM moved";
  };
  const std::string batch = move(" LIMIT " + std::to_string(env.policy.batch_rows));
  int64_t moved_total = 0;
  env.context->progress->Begin("move rows of " + env.step->partition + " out of " + def, 0);
  for (;;) {
    sql::PqRows result;
    auto moved = WithRetries(env, "moving rows out of " + def, [&]() -> util::Status {
      TM_TRY_ASSIGN(result, env.conn->Query(batch));
      return {};
    });
    if (!moved) {
      env.context->progress->End();
      return moved;
    }
    const int64_t count = result.affected();
    moved_total += count;
    env.context->progress->Advance(count);
    if (count > 0) util::Failpoint("default.mid_move");
    if (count < env.policy.batch_rows) break;
  }
  env.context->progress->End();
  // The last rows and the attach, under the default partition's lock.
  // The parent is locked first (readers go on, writers wait), so that no insert is
  // routed to the default partition and then queued behind its lock: once the range
  // is attached, such a row would no longer fit there.
  return WithRetries(env, "attaching " + env.step->partition, [&]() -> util::Status {
    return InTransaction(
        env, "SET LOCAL lock_timeout = " + std::to_string(env.policy.lock_timeout_ms) +
                 "; LOCK TABLE " + Table(env.parent) + " IN SHARE ROW EXCLUSIVE MODE; LOCK TABLE " +
                 source + " IN ACCESS EXCLUSIVE MODE; " + move("") + "; COMMENT ON TABLE " +
                 staging + " IS NULL; ALTER TABLE " + Table(env.parent) + " ATTACH PARTITION " +
                 staging + " " + bounds.clause + "; ALTER TABLE " + staging +
                 " DROP CONSTRAINT IF EXISTS " + kBoundsConstraint);
  });
}

// Creates `partition` as a standalone copy of the parent's shape, marked as staging,
// with a CHECK constraint for its bounds so that ATTACH need not scan it.
util::Status CreateStaging(const StepEnv& env, const KeyInfo& key, const Bounds& bounds) {
  const std::string staging = sql::QuoteQualified(env.parent.schema, env.step->partition);
  return InTransaction(
      env, "CREATE TABLE " + staging + " (LIKE " + Table(env.parent) +
               " INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING GENERATED "
               "INCLUDING INDEXES); COMMENT ON TABLE " +
               staging + " IS " + sql::QuoteLiteral(kStagingComment) + "; ALTER TABLE " + staging +
               " ADD CONSTRAINT " + kBoundsConstraint + " CHECK (" + sql::QuoteIdent(key.column) +
               " IS NOT NULL AND " + sql::QuoteIdent(key.column) + " >= " + bounds.from + " AND " +
               sql::QuoteIdent(key.column) + " < " + bounds.to + ")");
}

util::Status EnsureRecycleSchema(const StepEnv& env) {
  TM_TRY_ASSIGN(sql::PqRows there, env.conn->Query("SELECT 1 FROM pg_namespace WHERE nspname = $1",
                                                   {std::string(kRecycleSchema)}));
  if (there.rows() > 0) return {};
  auto created = env.conn->Exec(std::string("CREATE SCHEMA IF NOT EXISTS ") + kRecycleSchema);
  // Two steps creating it at once: IF NOT EXISTS does not guard against that race.
  if (!created && env.conn->Sqlstate() == "23505") return {};
  if (!created && env.conn->Sqlstate() == "42501") {
    return util::StepError(created.error().message() +
                           "; tidemark needs CREATE on the database "
                           "to make its recycle schema, or create it for the role: CREATE SCHEMA " +
                           kRecycleSchema + " AUTHORIZATION <role>");
  }
  return created;
}

}  // namespace

core::TableName Qualified(const std::string& text) {
  auto parsed = core::ParseTableName(text);
  core::TableName name = parsed ? *parsed : core::TableName{"", text};
  if (name.schema.empty()) name.schema = "public";
  return name;
}

util::Status WithRetries(const StepEnv& env, const std::string& what,
                         const std::function<util::Status()>& attempt) {
  return backend::WithRetries(
      RetryPolicy{env.policy.lock_timeout_ms, env.policy.attempts, env.policy.backoff_ms}, what,
      attempt);
}

util::Status RunDdl(const StepEnv& env, const std::string& sql) {
  return WithRetries(env, sql.substr(0, sql.find(' ', 20)), [&] { return env.conn->Exec(sql); });
}

util::Result<KeyInfo> PartitionKey(const StepEnv& env) {
  TM_TRY_ASSIGN(sql::PqRows rows,
                env.conn->Query("SELECT a.attname, format_type(a.atttypid, a.atttypmod) "
                                "FROM pg_partitioned_table pt "
                                "JOIN pg_class c ON c.oid = pt.partrelid "
                                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                "JOIN pg_attribute a ON a.attrelid = c.oid "
                                "AND a.attnum = pt.partattrs[0] "
                                "WHERE n.nspname = $1 AND c.relname = $2",
                                {env.parent.schema, env.parent.name}));
  if (rows.rows() == 0) {
    return util::StepError(env.parent.ToString() +
                           " is no longer a table partitioned by one column");
  }
  return KeyInfo{rows.Text(0, 0), KeyKindOf(rows.Text(0, 1))};
}

util::Status CreatePartition(const StepEnv& env) {
  const core::Step& s = *env.step;
  TM_TRY_ASSIGN(KeyInfo key, PartitionKey(env));
  TM_TRY_ASSIGN(Bounds bounds, StepBounds(env, key.kind));
  TM_TRY_ASSIGN(Relation existing, LookUp(*env.conn, env.parent.schema, s.partition));
  TM_TRY_ASSIGN(auto def, DefaultPartition(*env.conn, env.parent));
  if (existing.exists) {
    if (existing.parent_schema == env.parent.schema && existing.parent_name == env.parent.name) {
      if (SameBounds(existing.bound, bounds.clause, key.kind, env.zone)) return {};
      return util::StepError(Describe(env, s.partition) + " exists with bounds " + existing.bound +
                             ", not " + bounds.clause);
    }
    if (!existing.parent_name.empty() || existing.comment != kStagingComment) {
      return util::StepError("a table " + s.partition + " already exists in schema " +
                             env.parent.schema +
                             " and is not tidemark's; rename it or choose "
                             "another partition_name");
    }
    // A staging table of an earlier attempt: go on moving rows and attach.
    if (!def) {
      TM_TRY(RunDdl(env, "COMMENT ON TABLE " + sql::QuoteQualified(env.parent.schema, s.partition) +
                             " IS NULL"));
      return AttachWithCheck(env, s.partition, bounds.clause, key.column, key.kind);
    }
    return MoveFromDefaultAndAttach(env, key, *def, bounds);
  }
  // With a default partition, CREATE … PARTITION OF would scan it holding an ACCESS
  // EXCLUSIVE lock on the parent, stopping every reader; a standalone table attached
  // under a SHARE ROW EXCLUSIVE lock lets readers go on.
  if (!def) {
    auto created =
        RunDdl(env, "CREATE TABLE " + sql::QuoteQualified(env.parent.schema, s.partition) +
                        " PARTITION OF " + Table(env.parent) + " " + bounds.clause);
    // 23514: a default partition appeared meanwhile, with rows of the range.
    if (created || env.conn->Sqlstate() != "23514") return created;
    TM_TRY_ASSIGN(def, DefaultPartition(*env.conn, env.parent));
    if (!def) return created;
  }
  TM_TRY(CreateStaging(env, key, bounds));
  util::Failpoint("default.staged");
  return MoveFromDefaultAndAttach(env, key, *def, bounds);
}

util::Status FinalizeDetach(const StepEnv& env) {
  TM_TRY_ASSIGN(Relation r, LookUp(*env.conn, env.parent.schema, env.step->partition));
  if (!r.exists || !r.detach_pending) return {};
  return RunDdl(env, "ALTER TABLE " + Table(env.parent) + " DETACH PARTITION " +
                         sql::QuoteQualified(env.parent.schema, env.step->partition) + " FINALIZE");
}

util::Status HidePartition(const StepEnv& env) {
  const core::Step& s = *env.step;
  const bool keep_detached = s.Param("detached") == "1";
  const std::string bin = s.Param("bin");
  if (!keep_detached) {
    TM_TRY_ASSIGN(Relation in_bin, LookUp(*env.conn, kRecycleSchema, bin));
    if (in_bin.exists) return {};
  }
  const std::string partition = sql::QuoteQualified(env.parent.schema, s.partition);
  TM_TRY_ASSIGN(Relation r, LookUp(*env.conn, env.parent.schema, s.partition));
  if (!r.exists) {
    return util::StepError(Describe(env, s.partition) + " is gone and is not in " + kRecycleSchema +
                           " as " + bin + "; it was removed by someone else");
  }
  auto ours = BinComment::FromComment(r.comment);
  const bool attached = r.parent_schema == env.parent.schema && r.parent_name == env.parent.name;
  if (!attached && !r.parent_name.empty()) {
    return util::StepError(Describe(env, s.partition) + " is now a partition of " +
                           r.parent_schema + "." + r.parent_name);
  }
  if (!attached && !ours) {
    return util::StepError("a table " + s.partition + " stands in schema " + env.parent.schema +
                           " without tidemark's mark; it is not the partition this step "
                           "detached, so tidemark leaves it alone");
  }
  if (attached && !ours) {
    // Mark it first: the mark keeps its bounds and origin through the detach. The bin
    // never lists a table that is still a partition.
    BinComment c;
    c.dataset = s.Param("dataset");
    c.parent_schema = env.parent.schema;
    c.parent_name = env.parent.name;
    c.partition = s.partition;
    c.removed_at = s.Param("removed_at");
    c.range_start = s.Param("range_start");
    c.range_end = s.Param("range_end");
    c.bound = r.bound;
    c.detached = keep_detached;
    TM_TRY(
        RunDdl(env, "COMMENT ON TABLE " + partition + " IS " + sql::QuoteLiteral(c.ToComment())));
  }
  if (attached) {
    TM_TRY_ASSIGN(auto def, DefaultPartition(*env.conn, env.parent));
    // DETACH … CONCURRENTLY is refused while a default partition exists (it would
    // need to scan it), so then a plain DETACH under the short lock timeout.
    const std::string detach = "ALTER TABLE " + Table(env.parent) + " DETACH PARTITION " +
                               partition + (def ? "" : " CONCURRENTLY");
    TM_TRY(WithRetries(env, "detaching " + s.partition, [&]() -> util::Status {
      TM_TRY_ASSIGN(Relation now, LookUp(*env.conn, env.parent.schema, s.partition));
      if (now.parent_name.empty()) return {};
      if (now.detach_pending) {
        return env.conn->Exec("ALTER TABLE " + Table(env.parent) + " DETACH PARTITION " +
                              partition + " FINALIZE");
      }
      auto detached = env.conn->Exec(detach);
      // 55000: another partition of this table is being detached concurrently (by a
      // parallel step); PostgreSQL allows one at a time, so wait and try again.
      if (!detached && env.conn->Sqlstate() == "55000" && env.conn->Healthy()) {
        return util::StepError(detached.error().message(), /*retryable=*/true);
      }
      return detached;
    }));
    util::Failpoint("pg.detached");
  }
  if (keep_detached) return {};
  TM_TRY(EnsureRecycleSchema(env));
  // Rename first, in its own schema, so that equal partition names of different
  // tables never collide in the recycle schema.
  return WithRetries(env, "moving " + s.partition + " into " + kRecycleSchema, [&] {
    return InTransaction(env, "ALTER TABLE " + partition + " RENAME TO " + sql::QuoteIdent(bin) +
                                  "; ALTER TABLE " + sql::QuoteQualified(env.parent.schema, bin) +
                                  " SET SCHEMA " + kRecycleSchema);
  });
}

util::Status PurgeRecycled(const StepEnv& env) {
  const std::string bin = env.step->Param("bin");
  TM_TRY_ASSIGN(Relation r, LookUp(*env.conn, kRecycleSchema, bin));
  if (!r.exists) return {};
  if (!env.step->Param("archive").empty()) TM_TRY(CheckArchiveBeforeDrop(env));
  return RunDdl(env, "DROP TABLE " + sql::QuoteQualified(kRecycleSchema, bin));
}

util::Status AttachWithCheck(const StepEnv& env, const std::string& table, const std::string& bound,
                             const std::string& key_column, KeyKind kind) {
  (void)kind;
  auto parsed = ParseRangeBound(bound);
  if (!parsed || parsed->is_default || parsed->from.size() != 1) {
    return util::StepError("cannot attach " + table + ": unreadable bounds \"" + bound + "\"");
  }
  const std::string column = sql::QuoteIdent(key_column);
  std::vector<std::string> checks = {column + " IS NOT NULL"};
  auto literal = [](const BoundValue& v) {
    return v.text.find_first_not_of("-0123456789") == std::string::npos && !v.text.empty()
               ? v.text
               : sql::QuoteLiteral(v.text);
  };
  if (parsed->from[0].kind == BoundValue::kLiteral)
    checks.push_back(column + " >= " + literal(parsed->from[0]));
  if (parsed->to[0].kind == BoundValue::kLiteral)
    checks.push_back(column + " < " + literal(parsed->to[0]));
  const std::string qualified = sql::QuoteQualified(env.parent.schema, table);
  TM_TRY_ASSIGN(sql::PqRows has,
                env.conn->Query("SELECT 1 FROM pg_constraint co JOIN pg_class c ON c.oid = "
                                "co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                                "WHERE n.nspname = $1 AND c.relname = $2 AND co.conname = $3",
                                {env.parent.schema, table, kBoundsConstraint}));
  if (has.rows() == 0) {
    TM_TRY(RunDdl(env, "ALTER TABLE " + qualified + " ADD CONSTRAINT " + kBoundsConstraint +
                           " CHECK (" + util::Join(checks, " AND ") + ")"));
  }
  // The constraint has served once ATTACH skipped its scan; it goes in the same
  // transaction, while the new partition is not yet visible to anyone.
  return WithRetries(env, "attaching " + table, [&] {
    return InTransaction(env, "ALTER TABLE " + Table(env.parent) + " ATTACH PARTITION " +
                                  qualified + " " + bound + "; ALTER TABLE " + qualified +
                                  " DROP CONSTRAINT IF EXISTS " + kBoundsConstraint);
  });
}

// Restore --to a standalone table: the bin table renamed, no attach.
util::Status RestoreBinToTable(const StepEnv& env, const std::string& bin) {
  const core::TableName target = Qualified(env.step->Param("to_table"));
  TM_TRY_ASSIGN(Relation there, LookUp(*env.conn, target.schema, target.name));
  TM_TRY_ASSIGN(Relation in_bin, LookUp(*env.conn, kRecycleSchema, bin));
  std::string source_schema = kRecycleSchema;
  if (!in_bin.exists) {
    // An entry kept detached sits in the parent's schema under its own name.
    TM_TRY_ASSIGN(in_bin, LookUp(*env.conn, env.parent.schema, bin));
    source_schema = env.parent.schema;
    if (in_bin.exists && !BinComment::FromComment(in_bin.comment)) in_bin.exists = false;
  }
  if (there.exists) {
    if (!in_bin.exists && there.parent_name.empty()) return {};  // done before
    return util::StepError("the table " + target.ToString() +
                           " already exists; choose another --to");
  }
  if (!in_bin.exists) {
    return util::StepError("nothing to restore: " + bin + " is not in the recycle bin");
  }
  return WithRetries(env, "moving " + bin + " to " + target.ToString(), [&] {
    return InTransaction(env, "COMMENT ON TABLE " + sql::QuoteQualified(source_schema, bin) +
                                  " IS NULL; ALTER TABLE " +
                                  sql::QuoteQualified(source_schema, bin) + " RENAME TO " +
                                  sql::QuoteIdent(target.name) + "; ALTER TABLE " +
                                  sql::QuoteQualified(source_schema, target.name) + " SET SCHEMA " +
                                  sql::QuoteIdent(target.schema));
  });
}

util::Status RestoreFromBin(const StepEnv& env) {
  const core::Step& s = *env.step;
  const std::string bin = s.Param("bin");
  if (!s.Param("to_table").empty()) return RestoreBinToTable(env, bin);
  TM_TRY_ASSIGN(KeyInfo key, PartitionKey(env));
  TM_TRY_ASSIGN(Relation placed, LookUp(*env.conn, env.parent.schema, s.partition));
  const bool attached = placed.exists && placed.parent_schema == env.parent.schema &&
                        placed.parent_name == env.parent.name;
  if (!placed.exists) {
    TM_TRY_ASSIGN(Relation in_bin, LookUp(*env.conn, kRecycleSchema, bin));
    if (!in_bin.exists) {
      return util::StepError("nothing to restore: " + bin + " is not in " + kRecycleSchema +
                             " and " + Describe(env, s.partition) + " is not there");
    }
    TM_TRY(WithRetries(env, "moving " + bin + " back", [&] {
      return InTransaction(env, "ALTER TABLE " + sql::QuoteQualified(kRecycleSchema, bin) +
                                    " RENAME TO " + sql::QuoteIdent(s.partition) +
                                    "; ALTER TABLE " +
                                    sql::QuoteQualified(kRecycleSchema, s.partition) +
                                    " SET SCHEMA " + sql::QuoteIdent(env.parent.schema));
    }));
    util::Failpoint("restore.moved");
    TM_TRY_ASSIGN(placed, LookUp(*env.conn, env.parent.schema, s.partition));
  } else if (!attached && !BinComment::FromComment(placed.comment)) {
    return util::StepError("a table " + s.partition + " already stands in schema " +
                           env.parent.schema + "; restore with --to another name");
  }
  const std::string partition = sql::QuoteQualified(env.parent.schema, s.partition);
  if (!attached) {
    auto comment = BinComment::FromComment(placed.comment);
    if (!comment || comment->bound.empty()) {
      return util::StepError(partition + " carries no bounds in its tidemark comment");
    }
    TM_TRY(AttachWithCheck(env, s.partition, comment->bound, key.column, key.kind));
  }
  if (!placed.comment.empty()) TM_TRY(RunDdl(env, "COMMENT ON TABLE " + partition + " IS NULL"));
  return {};
}

}  // namespace tidemark::backend::postgres
