// The PostgreSQL backend end to end: the real binary against a real PostgreSQL 15, each
// test in a fresh database, with `--now` fixed. Every test states what the catalog
// holds afterwards: partitions and their bounds (pg_inherits, pg_get_expr), the marks
// tidemark leaves (obj_description), and where every row went (tableoid).

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/support/pg_env.h"
#include "tests/support/tidemark_env.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tidemark/util/strings.h"

namespace tidemark::testing {
namespace {

namespace fs = std::filesystem;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// A timestamptz table partitioned by day, with nothing in it yet.
constexpr char kEventsTable[] =
    "CREATE TABLE events (id bigint NOT NULL, created_at timestamptz NOT NULL, payload text) "
    "PARTITION BY RANGE (created_at)";

// "  NAME:\n    storage: …\n    partition_by: …\n" followed by `keys`, one per line.
std::string Dataset(const std::string& name, const std::string& table, const std::string& key,
                    const std::vector<std::string>& keys, const std::string& connection = "app") {
  std::string yaml = "  " + name + ":\n    storage: { connection: " + connection + ", table: '" +
                     table + "' }\n    partition_by: '" + key + "'\n";
  for (const std::string& line : keys) yaml += "    " + line + "\n";
  return yaml;
}

// A daily partition of `events` made by hand: "CREATE TABLE NAME PARTITION OF …".
std::string DailyPartition(const std::string& name, const std::string& day,
                           const std::string& next_day, const std::string& parent = "events") {
  return "CREATE TABLE " + name + " PARTITION OF " + parent + " FOR VALUES FROM ('" + day +
         " 00:00:00+00') TO ('" + next_day + " 00:00:00+00');";
}

// Inserts `count` rows with ids from `first_id`, spread over the day `day` (UTC).
std::string InsertRows(const std::string& table, int64_t first_id, int count,
                       const std::string& day) {
  return "INSERT INTO " + table + " SELECT g, '" + day + " 00:00:00+00'::timestamptz + (g - " +
         std::to_string(first_id) + ") * (interval '86399 seconds' / " + std::to_string(count) +
         "), 'row ' || g FROM generate_series(" + std::to_string(first_id) + ", " +
         std::to_string(first_id + count - 1) + ") g;";
}

// How Partitions() shows a range partition: "name FOR VALUES FROM ('from') TO ('to')".
std::string Range(const std::string& name, const std::string& from, const std::string& to) {
  return name + " FOR VALUES FROM ('" + from + "') TO ('" + to + "')";
}

std::vector<std::string> RunFiles(const Workspace& ws) {
  std::vector<std::string> names;
  if (!fs::exists(ws.runs())) return names;
  for (const auto& entry : fs::directory_iterator(ws.runs()))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// The server's log (scripts/pg-server writes it beside the data directory), read
// through the server from `offset` on. ctest runs tests in parallel on one server, so a
// test counts only lines that name its own schema (PgBackend::OwnSchema).
class ServerLog {
 public:
  explicit ServerLog(PgTestDatabase& db) : db_(db) {
    sql::PqRows rows = db_.Query("SELECT current_setting('data_directory') || '/../log'");
    if (rows.rows() == 1) path_ = rows.Text(0, 0);
    offset_ = Size();
  }
  int64_t Size() {
    sql::PqRows rows = db_.Query("SELECT (pg_stat_file($1)).size", {path_});
    return rows.rows() == 1 ? rows.Int(0, 0) : -1;
  }
  // Everything written since the last call (or since construction).
  std::string Read() {
    const int64_t end = Size();
    sql::PqRows rows = db_.Query("SELECT pg_read_file($1, $2, $3)",
                                 {path_, std::to_string(offset_), std::to_string(end - offset_)});
    offset_ = end;
    return rows.rows() == 1 ? rows.Text(0, 0) : "";
  }

 private:
  PgTestDatabase& db_;
  std::string path_;
  int64_t offset_ = 0;
};

int Occurrences(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Lines of `text` that hold every one of `parts`.
int LinesWith(const std::string& text, const std::vector<std::string>& parts) {
  int n = 0;
  for (const std::string& line : util::Split(text, '\n')) {
    n += std::all_of(parts.begin(), parts.end(),
                     [&](const std::string& part) { return line.find(part) != std::string::npos; });
  }
  return n;
}

class PgBackend : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(db_.ok()); }

  // A schema named like the test's database, and the shared session's search_path, so
  // that the server's log lines of this test can be told from those of others.
  std::string OwnSchema() {
    const std::string schema = db_.name();
    EXPECT_TRUE(db_.Exec("CREATE SCHEMA " + schema + "; SET search_path = " + schema));
    return schema;
  }

  // Writes tidemark.yaml: connection `app` to `db` (the test's own database unless
  // given) with the test server's password from the environment, an archive `cold`,
  // and the datasets.
  void Configure(const std::string& datasets, const std::string& timezone = "UTC",
                 const std::string& app_options = "", const std::string& more_connections = "",
                 PgTestDatabase* db = nullptr) {
    WriteFile(ws_.config(),
              "state: sqlite:.tidemark/state.db\nruns_dir: .tidemark/runs\ntimezone: " + timezone +
                  "\nconnections:\n  app: { url: \"" + (db == nullptr ? db_ : *db).url() +
                  "\", password_env: " + kTestPgPasswordEnv + app_options +
                  " }\n  cold: { url: \"file:archive\" }\n" + more_connections +
                  "archives:\n  cold: { connection: cold }\ndatasets:\n" + datasets);
  }

  // Runs tidemark -c tidemark.yaml args…, with the server's password in its variable.
  CommandResult Tidemark(const std::vector<std::string>& args,
                         std::map<std::string, std::string> env = {}) {
    env[kTestPgPasswordEnv] = TestPgServer().password;
    return ws_.Tidemark(args, env);
  }

  // Applies and expects success.
  void Apply(const std::string& now, const std::vector<std::string>& more = {}) {
    std::vector<std::string> args = {"apply", "--now", now};
    args.insert(args.end(), more.begin(), more.end());
    CommandResult apply = Tidemark(args);
    ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  }

  // "name FOR VALUES FROM (…) TO (…)" for every partition of `parent` (as regclass
  // input: quoted where needed), by name.
  std::vector<std::string> Partitions(const std::string& parent, PgTestDatabase* db = nullptr) {
    sql::PqRows rows = (db == nullptr ? db_ : *db)
                           .Query(
                               "SELECT c.relname || ' ' || pg_get_expr(c.relpartbound, c.oid) FROM "
                               "pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE "
                               "i.inhparent = $1::regclass ORDER BY c.relname",
                               {parent});
    std::vector<std::string> out;
    for (int r = 0; r < rows.rows(); ++r) out.push_back(rows.Text(r, 0));
    return out;
  }

  // Rows of `parent` per partition, "partition=count", by partition name.
  std::vector<std::string> RowsPerPartition(const std::string& parent) {
    sql::PqRows rows =
        db_.Query("SELECT c.relname || '=' || count(*) FROM " + parent +
                  " t JOIN pg_class c ON c.oid = t.tableoid GROUP BY c.relname ORDER BY c.relname");
    std::vector<std::string> out;
    for (int r = 0; r < rows.rows(); ++r) out.push_back(rows.Text(r, 0));
    return out;
  }

  int64_t Count(const std::string& sql, const sql::PqParams& params = {}) {
    sql::PqRows rows = db_.Query(sql, params);
    return rows.rows() == 1 ? rows.Int(0, 0) : -1;
  }

  std::string Text(const std::string& sql, const sql::PqParams& params = {}) {
    sql::PqRows rows = db_.Query(sql, params);
    return rows.rows() == 1 && !rows.IsNull(0, 0) ? rows.Text(0, 0) : "<none>";
  }

  // md5 of every row of `table`, in a stable order: equal content, equal hash.
  std::string RowsMd5(const std::string& table) {
    return Text(
        "SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) || ' ' || count(*) "
        "FROM " +
        table + " t");
  }

  // Whether a relation `schema.name` exists; whether it is a partition; its comment
  // ("" when none).
  bool Exists(const std::string& schema, const std::string& name) {
    return Count(
               "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
               "WHERE n.nspname = $1 AND c.relname = $2",
               {schema, name}) == 1;
  }
  bool IsPartition(const std::string& schema, const std::string& name) {
    return Count(
               "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN "
               "pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
               {schema, name}) == 1;
  }
  std::string Comment(const std::string& schema, const std::string& name) {
    return Text(
        "SELECT coalesce(obj_description(c.oid, 'pg_class'), '') FROM pg_class c JOIN pg_namespace "
        "n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
        {schema, name});
  }
  // The JSON of a "tidemark:{…}" comment; null when the comment is not one.
  nlohmann::json Mark(const std::string& schema, const std::string& name) {
    const std::string comment = Comment(schema, name);
    if (comment.rfind("tidemark:", 0) != 0) return nullptr;
    return nlohmann::json::parse(comment.substr(9), nullptr, false);
  }
  std::vector<std::string> Bin() {
    sql::PqRows rows = db_.Query(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
        "n.nspname = 'tidemark_recycle' AND c.relkind = 'r' ORDER BY 1");
    std::vector<std::string> out;
    for (int r = 0; r < rows.rows(); ++r) out.push_back(rows.Text(r, 0));
    return out;
  }

  nlohmann::json Status(const std::string& now) {
    CommandResult status = Tidemark({"status", "--now", now, "--json"});
    EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
    auto parsed = nlohmann::json::parse(status.out, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << status.out;
    return parsed;
  }

  PgTestDatabase db_;
  Workspace ws_;
};

// ---------------------------------------------------------------------------
// Partitions ahead

TEST_F(PgBackend, PremakeCreatesTheCurrentDayAndPremakeDaysWithExactBoundsOnce) {
  ASSERT_TRUE(db_.Exec(kEventsTable));
  Configure(Dataset("events", "public.events", "created_at", {"interval: 1 day", "premake: 3"}));

  CommandResult plan = Tidemark({"plan", "--now", "2024-03-01T10:30:00Z"});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_THAT(Partitions("events"), IsEmpty()) << "plan is a dry run";

  Apply("2024-03-01T10:30:00Z");
  EXPECT_THAT(
      Partitions("events"),
      ElementsAre(Range("events_p20240301", "2024-03-01 00:00:00+00", "2024-03-02 00:00:00+00"),
                  Range("events_p20240302", "2024-03-02 00:00:00+00", "2024-03-03 00:00:00+00"),
                  Range("events_p20240303", "2024-03-03 00:00:00+00", "2024-03-04 00:00:00+00"),
                  Range("events_p20240304", "2024-03-04 00:00:00+00", "2024-03-05 00:00:00+00")));
  ASSERT_EQ(RunFiles(ws_).size(), 1u);

  // Planned anew at the same instant: the catalog already has every partition.
  CommandResult again = Tidemark({"apply", "--now", "2024-03-01T10:30:00Z", "--force-run"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("events: nothing to do"));
  EXPECT_EQ(RunFiles(ws_).size(), 1u) << "no run file for nothing to do";
  // A day later only the new day at the end is missing.
  Apply("2024-03-02T00:00:00Z");
  EXPECT_EQ(Partitions("events").size(), 5u);
  EXPECT_EQ(Partitions("events").back(),
            Range("events_p20240305", "2024-03-05 00:00:00+00", "2024-03-06 00:00:00+00"));
}

TEST_F(PgBackend, PremakeAdoptsPartitionsWithPgPartmanNamesAndTheSameBounds) {
  // pg_partman 4 names daily partitions <table>_pYYYY_MM_DD.
  ASSERT_TRUE(db_.Exec(std::string(kEventsTable) + ";" +
                       DailyPartition("events_p2024_03_01", "2024-03-01", "2024-03-02") +
                       DailyPartition("events_p2024_03_02", "2024-03-02", "2024-03-03") +
                       "CREATE TABLE events_default PARTITION OF events DEFAULT;"));
  Configure(Dataset("events", "public.events", "created_at", {"interval: 1 day", "premake: 3"}));

  Apply("2024-03-01T10:30:00Z");
  // (By name: '0' sorts before '_'.)
  EXPECT_THAT(
      Partitions("events"),
      ElementsAre("events_default DEFAULT",
                  Range("events_p20240303", "2024-03-03 00:00:00+00", "2024-03-04 00:00:00+00"),
                  Range("events_p20240304", "2024-03-04 00:00:00+00", "2024-03-05 00:00:00+00"),
                  Range("events_p2024_03_01", "2024-03-01 00:00:00+00", "2024-03-02 00:00:00+00"),
                  Range("events_p2024_03_02", "2024-03-02 00:00:00+00", "2024-03-03 00:00:00+00")));
}

TEST_F(PgBackend, PremakeAdoptsTheDailyPartitionsThatPgPartmanMade) {
  ASSERT_TRUE(db_.Exec(std::string(kEventsTable) +
                       "; CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman"));
  // pg_partman works from the real clock: today and two days either side, plus its
  // default partition. tidemark is asked about the same day.
  const std::string today = Text(
      "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM "
      "partman.create_parent('public.events', 'created_at', 'native', 'daily', p_premake := 2)");
  ASSERT_EQ(today.size(), 10u) << today;
  const std::vector<std::string> made = Partitions("events");
  ASSERT_EQ(made.size(), 6u) << ::testing::PrintToString(made);
  Configure(Dataset("events", "public.events", "created_at", {"interval: 1 day", "premake: 4"}));

  CommandResult apply = Tidemark({"apply", "--now", today + "T12:00:00Z"});
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  EXPECT_THAT(apply.out, HasSubstr("create ahead 2 partitions")) << "today+3 and today+4 only";
  const std::vector<std::string> now = Partitions("events");
  ASSERT_EQ(now.size(), 8u) << ::testing::PrintToString(now);
  for (const std::string& partition : made) {
    EXPECT_NE(std::find(now.begin(), now.end(), partition), now.end()) << partition;
  }
  // No two partitions have the same bounds (PostgreSQL would refuse an overlap, but a
  // partition under a second name would show up here).
  EXPECT_EQ(Count("SELECT count(DISTINCT pg_get_expr(c.relpartbound, c.oid)) FROM pg_inherits i "
                  "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass"),
            8);
}

// ---------------------------------------------------------------------------
// Time zones: Europe/Berlin days across both DST changes of 2024

class PgBerlinDays : public PgBackend {
 protected:
  // Three tables, one per key type, each a dataset with daily partitions in
  // Europe/Berlin; applied on the day before each change of 2024.
  void CreateAndApply(PgTestDatabase& db) {
    ASSERT_TRUE(db.Exec(
        "CREATE TABLE ev_tstz (at timestamptz NOT NULL) PARTITION BY RANGE (at);"
        "CREATE TABLE ev_ts (at timestamp without time zone NOT NULL) PARTITION BY RANGE (at);"
        "CREATE TABLE ev_date (at date NOT NULL) PARTITION BY RANGE (at);"));
    std::string datasets;
    for (const char* table : {"ev_tstz", "ev_ts", "ev_date"}) {
      datasets += Dataset(table, table, "at", {"interval: 1 day", "premake: 2"});
    }
    Configure(datasets, "Europe/Berlin", "", "", &db);
    Apply("2024-03-30T12:00:00Z");
    Apply("2024-10-26T12:00:00Z");
  }

  void ExpectBerlinBounds(PgTestDatabase& db) {
    // Instants: 23 hours on 31 March, 25 hours on 27 October.
    EXPECT_THAT(
        Partitions("ev_tstz", &db),
        ElementsAre(
            Range("ev_tstz_p20240330", "2024-03-29 23:00:00+00", "2024-03-30 23:00:00+00"),
            Range("ev_tstz_p20240331", "2024-03-30 23:00:00+00", "2024-03-31 22:00:00+00"),
            Range("ev_tstz_p20240401", "2024-03-31 22:00:00+00", "2024-04-01 22:00:00+00"),
            Range("ev_tstz_p20241026", "2024-10-25 22:00:00+00", "2024-10-26 22:00:00+00"),
            Range("ev_tstz_p20241027", "2024-10-26 22:00:00+00", "2024-10-27 23:00:00+00"),
            Range("ev_tstz_p20241028", "2024-10-27 23:00:00+00", "2024-10-28 23:00:00+00")));
    // Civil midnights.
    EXPECT_THAT(
        Partitions("ev_ts", &db),
        ElementsAre(Range("ev_ts_p20240330", "2024-03-30 00:00:00", "2024-03-31 00:00:00"),
                    Range("ev_ts_p20240331", "2024-03-31 00:00:00", "2024-04-01 00:00:00"),
                    Range("ev_ts_p20240401", "2024-04-01 00:00:00", "2024-04-02 00:00:00"),
                    Range("ev_ts_p20241026", "2024-10-26 00:00:00", "2024-10-27 00:00:00"),
                    Range("ev_ts_p20241027", "2024-10-27 00:00:00", "2024-10-28 00:00:00"),
                    Range("ev_ts_p20241028", "2024-10-28 00:00:00", "2024-10-29 00:00:00")));
    EXPECT_THAT(Partitions("ev_date", &db),
                ElementsAre(Range("ev_date_p20240330", "2024-03-30", "2024-03-31"),
                            Range("ev_date_p20240331", "2024-03-31", "2024-04-01"),
                            Range("ev_date_p20240401", "2024-04-01", "2024-04-02"),
                            Range("ev_date_p20241026", "2024-10-26", "2024-10-27"),
                            Range("ev_date_p20241027", "2024-10-27", "2024-10-28"),
                            Range("ev_date_p20241028", "2024-10-28", "2024-10-29")));
  }
};

TEST_F(PgBerlinDays, DailyBoundsAcrossBothDstChangesForEveryKeyType) {
  CreateAndApply(db_);
  ExpectBerlinBounds(db_);
  // Planned again at both instants: every day is there, under the same names.
  for (const char* now : {"2024-03-30T12:00:00Z", "2024-10-26T12:00:00Z"}) {
    CommandResult again = Tidemark({"apply", "--now", now, "--force-run"});
    EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_THAT(again.out, HasSubstr("ev_tstz: nothing to do")) << now;
    EXPECT_THAT(again.out, HasSubstr("ev_ts: nothing to do")) << now;
    EXPECT_THAT(again.out, HasSubstr("ev_date: nothing to do")) << now;
  }
}

TEST_F(PgBerlinDays, TheServersOwnTimeZoneDoesNotMoveTheBounds) {
  PgTestDatabase new_york;
  ASSERT_TRUE(new_york.ok());
  ASSERT_TRUE(db_.Exec("ALTER DATABASE " + sql::QuoteIdent(new_york.name()) +
                       " SET timezone = 'America/New_York'"));
  EXPECT_EQ(
      Count("SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
            "WHERE d.datname = $1 AND 'TimeZone=America/New_York' = ANY (s.setconfig)",
            {new_york.name()}),
      1);
  CreateAndApply(new_york);
  ExpectBerlinBounds(new_york);
  // And the rows a New York session writes at Berlin midnight land on the Berlin day.
  auto session = new_york.Connect();
  ASSERT_NE(session, nullptr);
  ASSERT_TRUE(
      session->Exec("SET TimeZone = 'America/New_York';"
                    "INSERT INTO ev_tstz VALUES ('2024-03-30 19:00:00-04');"
                    "INSERT INTO ev_tstz VALUES ('2024-03-30 18:59:59-04')"));
  auto rows = session->Query("SELECT tableoid::regclass::text FROM ev_tstz ORDER BY at");
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->rows(), 2);
  EXPECT_EQ(rows->Text(0, 0), "ev_tstz_p20240330");
  EXPECT_EQ(rows->Text(1, 0), "ev_tstz_p20240331");
}

// ---------------------------------------------------------------------------
// Rows of a new range waiting in the default partition

TEST_F(PgBackend, RowsOfANewRangeMoveOutOfTheDefaultPartitionAndNoOthers) {
  ASSERT_TRUE(db_.Exec(
      std::string(kEventsTable) + ";" + "CREATE TABLE events_default PARTITION OF events DEFAULT;" +
      InsertRows("events", 1, 50, "2024-03-02") + InsertRows("events", 1001, 30, "2024-02-15") +
      InsertRows("events", 2001, 20, "2024-03-10")));
  const std::string before = RowsMd5("events");
  EXPECT_THAT(RowsPerPartition("events"), ElementsAre("events_default=100"));
  Configure(Dataset("events", "public.events", "created_at", {"interval: 1 day", "premake: 1"}));

  Apply("2024-03-02T10:00:00Z");
  EXPECT_THAT(RowsPerPartition("events"), ElementsAre("events_default=50", "events_p20240302=50"));
  EXPECT_EQ(RowsMd5("events"), before) << "every row once, unchanged";
  EXPECT_EQ(Count("SELECT count(*) FROM events_default WHERE created_at >= '2024-03-02' AND "
                  "created_at < '2024-03-04'"),
            0);
  EXPECT_THAT(
      Partitions("events"),
      ElementsAre("events_default DEFAULT",
                  Range("events_p20240302", "2024-03-02 00:00:00+00", "2024-03-03 00:00:00+00"),
                  Range("events_p20240303", "2024-03-03 00:00:00+00", "2024-03-04 00:00:00+00")));
  EXPECT_EQ(Comment("public", "events_p20240302"), "") << "no staging mark left behind";
}

TEST_F(PgBackend, MovesMoreRowsThanOneBatchInTransactionsOfTenThousandRows) {
  const std::string schema = OwnSchema();
  ASSERT_TRUE(db_.Exec(std::string(kEventsTable) + ";" +
                       "CREATE TABLE events_default PARTITION OF events DEFAULT;" +
                       InsertRows("events", 1, 25000, "2024-03-02") +
                       InsertRows("events", 100001, 300, "2024-03-03") +
                       InsertRows("events", 200001, 200, "2024-02-15")));
  const std::string before = RowsMd5("events");
  Configure(Dataset("events", schema + ".events", "created_at", {"interval: 1 day", "premake: 1"}));
  ASSERT_TRUE(db_.Exec("ALTER DATABASE " + schema + " SET log_statement = 'all'"));
  ServerLog log(db_);
  ASSERT_GE(log.Size(), 0) << "the server log cannot be read";

  Apply("2024-03-02T10:00:00Z");
  EXPECT_THAT(RowsPerPartition("events"),
              ElementsAre("events_default=200", "events_p20240302=25000", "events_p20240303=300"));
  EXPECT_EQ(RowsMd5("events"), before) << "every row once, unchanged";
  EXPECT_EQ(Count("SELECT count(*) - count(DISTINCT id) FROM events"), 0);
  // 10000 + 10000 + 5000, each in its own statement; then the rest under the lock.
  const std::string moves = log.Read();
  EXPECT_EQ(LinesWith(moves, {schema, "< '2024-03-03 00:00:00+00' LIMIT 10000"}), 3);
  EXPECT_EQ(LinesWith(moves, {schema, "< '2024-03-04 00:00:00+00' LIMIT 10000"}), 1);
}

// The last rows move and the partition is attached while tidemark holds the default
// partition's lock. An insert of a row of the new range that queued up meanwhile must
// land in the new partition once the lock is gone, not fail.
TEST_F(PgBackend, AnInsertQueuedBehindTheAttachLandsInTheNewPartition) {
  ASSERT_TRUE(db_.Exec(
      std::string(kEventsTable) + ";" + "CREATE TABLE events_default PARTITION OF events DEFAULT;" +
      InsertRows("events", 1, 10, "2024-03-02") + InsertRows("events", 1001, 5, "2024-02-15")));
  Configure(Dataset("events", "public.events", "created_at", {"interval: 1 day"}), "UTC",
            ", lock_timeout_ms: 20000");
  // A reader of the default partition makes tidemark wait for its lock there.
  auto reader = db_.Connect();
  auto writer = db_.Connect();
  ASSERT_TRUE(reader && writer);
  ASSERT_TRUE(reader->Exec("BEGIN; LOCK TABLE events_default IN ACCESS SHARE MODE").has_value());
  CommandResult apply;
  std::thread run([&] { apply = Tidemark({"apply", "--now", "2024-03-02T10:00:00Z"}); });
  auto wait_for = [&](const std::string& sql, const sql::PqParams& params) {
    for (int i = 0; i < 400; ++i) {
      if (Count(sql, params) == 1) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  };
  const bool tidemark_waits = wait_for(
      "SELECT count(*) FROM pg_locks WHERE relation = 'events_default'::regclass AND mode = "
      "'AccessExclusiveLock' AND NOT granted",
      {});
  util::Status inserted;
  std::thread insert([&] {
    inserted = writer->Exec("INSERT INTO events VALUES (5000, '2024-03-02 12:00:00+00', 'queued')");
  });
  const bool insert_waits = wait_for("SELECT count(*) FROM pg_locks WHERE pid = $1 AND NOT granted",
                                     {std::to_string(writer->BackendPid())});
  EXPECT_TRUE(reader->Exec("ROLLBACK").has_value());
  insert.join();
  run.join();
  EXPECT_TRUE(tidemark_waits) << "tidemark never waited for the default partition";
  EXPECT_TRUE(insert_waits) << "the insert never waited";
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  EXPECT_TRUE(inserted.has_value()) << inserted.error().message();
  EXPECT_THAT(RowsPerPartition("events"), ElementsAre("events_default=5", "events_p20240302=11"));
}

// ---------------------------------------------------------------------------
// Expiry

class PgExpiry : public PgBackend {
 protected:
  // events with four days of January, 10 rows a day, and an expiry of 30 days;
  // `more_sql` runs after, `app_options` go to the connection.
  void SetUpTable(const std::string& on_expire, const std::string& more_sql = "",
                  const std::string& app_options = "") {
    std::string sql = std::string(kEventsTable) + ";";
    for (int day = 1; day <= 4; ++day) {
      const std::string d = "2024-01-0" + std::to_string(day);
      const std::string next = "2024-01-0" + std::to_string(day + 1);
      sql += DailyPartition("events_p2024010" + std::to_string(day), d, next) +
             InsertRows("events", day * 100, 10, d);
    }
    ASSERT_TRUE(db_.Exec(sql + more_sql));
    Configure(Dataset("events", "public.events", "created_at",
                      {"interval: 1 day", "retention: 30 days", "on_expire: " + on_expire,
                       "recycle_days: 7"}),
              "UTC", app_options);
  }
};

TEST_F(PgExpiry, DropMovesExpiredPartitionsToTheRecycleBinThenPurgesThemAfterRecycleDays) {
  SetUpTable("drop");
  const std::string first_rows = RowsMd5("events_p20240101");

  // At 2 February the cutoff is 3 January: the first two days expire.
  Apply("2024-02-02T00:00:00Z");
  EXPECT_FALSE(IsPartition("public", "events_p20240101"));
  EXPECT_FALSE(IsPartition("public", "events_p20240102"));
  EXPECT_FALSE(Exists("public", "events_p20240101"));
  EXPECT_TRUE(IsPartition("public", "events_p20240103"));
  EXPECT_THAT(Bin(), ElementsAre("events_p20240101__until_20240209_000000",
                                 "events_p20240102__until_20240209_000000"));
  EXPECT_EQ(RowsMd5("tidemark_recycle.\"events_p20240101__until_20240209_000000\""), first_rows);
  nlohmann::json mark = Mark("tidemark_recycle", "events_p20240101__until_20240209_000000");
  ASSERT_TRUE(mark.is_object()) << Comment("tidemark_recycle",
                                           "events_p20240101__until_20240209_000000");
  EXPECT_EQ(mark["dataset"], "events");
  EXPECT_EQ(mark["parent_schema"], "public");
  EXPECT_EQ(mark["parent"], "events");
  EXPECT_EQ(mark["partition"], "events_p20240101");
  EXPECT_EQ(mark["removed_at"], "2024-02-02T00:00:00Z");
  EXPECT_EQ(mark["bound"],
            "FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2024-01-02 00:00:00+00')");
  EXPECT_EQ(mark["detached"], false);

  nlohmann::json status = Status("2024-02-02T00:00:00Z");
  ASSERT_EQ(status.size(), 1u) << status.dump();
  const nlohmann::json& bin = status[0]["storages"][0]["bin"];
  ASSERT_EQ(bin.size(), 2u) << status.dump();
  const nlohmann::json first = bin[0]["partition"] == "events_p20240101" ? bin[0] : bin[1];
  EXPECT_EQ(first["partition"], "events_p20240101");
  EXPECT_EQ(first["entry"], "events_p20240101__until_20240209_000000");
  EXPECT_EQ(first["detached"], false);
  EXPECT_EQ(first["removed_at"], "2024-02-02T00:00:00Z");

  // Within the 7 days the bin keeps them (two more days expire meanwhile).
  Apply("2024-02-05T00:00:00Z");
  EXPECT_THAT(Bin(), ElementsAre("events_p20240101__until_20240209_000000",
                                 "events_p20240102__until_20240209_000000",
                                 "events_p20240103__until_20240212_000000",
                                 "events_p20240104__until_20240212_000000"));
  // Past them, the first two are dropped; the later two stay until their time.
  Apply("2024-02-10T00:00:00Z");
  EXPECT_THAT(Bin(), ElementsAre("events_p20240103__until_20240212_000000",
                                 "events_p20240104__until_20240212_000000"));
}

TEST_F(PgExpiry, DetachLeavesTheTableDetachedInItsSchemaAndNeverDropsIt) {
  SetUpTable("detach");
  const std::string first_rows = RowsMd5("events_p20240101");
  Apply("2024-02-02T00:00:00Z");
  EXPECT_TRUE(Exists("public", "events_p20240101"));
  EXPECT_FALSE(IsPartition("public", "events_p20240101"));
  EXPECT_FALSE(IsPartition("public", "events_p20240102"));
  EXPECT_TRUE(IsPartition("public", "events_p20240103"));
  EXPECT_THAT(Bin(), IsEmpty());
  nlohmann::json mark = Mark("public", "events_p20240101");
  ASSERT_TRUE(mark.is_object()) << Comment("public", "events_p20240101");
  EXPECT_EQ(mark["detached"], true);
  EXPECT_EQ(mark["partition"], "events_p20240101");
  EXPECT_EQ(RowsMd5("public.events_p20240101"), first_rows);
  nlohmann::json status = Status("2024-02-02T00:00:00Z");
  ASSERT_EQ(status[0]["storages"][0]["bin"].size(), 2u) << status.dump();
  EXPECT_EQ(status[0]["storages"][0]["bin"][0]["detached"], true);

  // Long after recycle_days, the detached tables are still there.
  Apply("2024-03-30T00:00:00Z");
  EXPECT_TRUE(Exists("public", "events_p20240101"));
  EXPECT_TRUE(Exists("public", "events_p20240104"));
  EXPECT_FALSE(IsPartition("public", "events_p20240104"));
  EXPECT_EQ(RowsMd5("public.events_p20240101"), first_rows);
}

TEST_F(PgExpiry, KeepChangesNothingAndSaysSo) {
  SetUpTable("keep");
  CommandResult apply = Tidemark({"apply", "--now", "2024-02-02T00:00:00Z"});
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  EXPECT_THAT(
      apply.out,
      HasSubstr("2 partition(s) of main/main are past retention and kept (on_expire: keep)"));
  for (const char* name :
       {"events_p20240101", "events_p20240102", "events_p20240103", "events_p20240104"}) {
    EXPECT_TRUE(IsPartition("public", name)) << name;
    EXPECT_EQ(Comment("public", name), "") << name;
  }
  EXPECT_THAT(Bin(), IsEmpty());
}

// A reader's open transaction keeps DETACH … CONCURRENTLY from finishing: after its
// first phase the partition is hidden from new queries; the step gives up, and the next
// apply, once the reader is gone, finishes the detach and moves it to the bin.
TEST_F(PgExpiry, AnExpiryBehindALongReaderStaysHiddenAndTheNextApplyFinishesIt) {
  // (The current day exists: only the expiry waits.)
  SetUpTable("drop", DailyPartition("events_p20240201", "2024-02-01", "2024-02-02"),
             ", lock_timeout_ms: 200, ddl_attempts: 2");
  auto reader = db_.Connect();
  ASSERT_NE(reader, nullptr);
  ASSERT_TRUE(reader->Exec("BEGIN; SELECT count(*) FROM events").has_value());
  // At 1 February only the first day is past retention.
  CommandResult blocked = Tidemark({"apply", "--now", "2024-02-01T00:00:00Z"});
  EXPECT_EQ(blocked.exit_code, 1) << blocked.out << blocked.err;
  EXPECT_THAT(blocked.err, HasSubstr("waiting up to 200 ms for its locks"));
  EXPECT_LT(blocked.seconds, 10.0);
  EXPECT_EQ(Count("SELECT count(*) FROM pg_inherits WHERE inhdetachpending"
                  " AND inhrelid = 'events_p20240101'::regclass"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM events WHERE created_at < '2024-01-02'"), 0)
      << "new queries no longer see the expired day";
  EXPECT_THAT(Bin(), IsEmpty());

  ASSERT_TRUE(reader->Exec("COMMIT").has_value());
  Apply("2024-02-01T00:00:00Z");
  EXPECT_EQ(Count("SELECT count(*) FROM pg_inherits WHERE inhdetachpending"), 0);
  EXPECT_THAT(Bin(), ElementsAre("events_p20240101__until_20240208_000000"));
  EXPECT_EQ(Count("SELECT count(*) FROM events"), 30);
}

// ---------------------------------------------------------------------------
// Restore

TEST_F(PgExpiry, RestoreFromTheBinReattachesThePartitionWithItsBoundsAndEveryRow) {
  // With a default partition: a plain DETACH, and an ATTACH that checks the default.
  SetUpTable("drop", "CREATE TABLE events_default PARTITION OF events DEFAULT;" +
                         InsertRows("events", 9000, 5, "2023-12-01"));
  const std::string rows = RowsMd5("events_p20240101");
  Apply("2024-02-02T00:00:00Z");
  ASSERT_FALSE(IsPartition("public", "events_p20240101"));

  CommandResult restore =
      Tidemark({"restore", "--dataset", "events", "--partition", "events_p20240101"});
  ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
  EXPECT_TRUE(IsPartition("public", "events_p20240101"));
  EXPECT_EQ(RowsMd5("events_p20240101"), rows);
  EXPECT_EQ(Comment("public", "events_p20240101"), "") << "the bin's mark is gone";
  EXPECT_THAT(Bin(), ElementsAre("events_p20240102__until_20240209_000000"));
  EXPECT_THAT(Partitions("events"),
              ::testing::Contains(
                  Range("events_p20240101", "2024-01-01 00:00:00+00", "2024-01-02 00:00:00+00")));

  // Held: the next apply does not expire it again.
  Apply("2024-02-02T00:00:00Z", {"--force-run"});
  EXPECT_TRUE(IsPartition("public", "events_p20240101"));
  EXPECT_EQ(RowsMd5("events_p20240101"), rows);
}

TEST_F(PgExpiry, RestoreToAnotherTableMakesAStandaloneCopy) {
  SetUpTable("drop");
  ASSERT_TRUE(db_.Exec("CREATE SCHEMA other_schema"));
  const std::string rows = RowsMd5("events_p20240102");
  Apply("2024-02-02T00:00:00Z");

  CommandResult restore = Tidemark({"restore", "--dataset", "events", "--partition",
                                    "events_p20240102", "--to", "other_schema.copy"});
  ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
  EXPECT_TRUE(Exists("other_schema", "copy"));
  EXPECT_FALSE(IsPartition("other_schema", "copy"));
  EXPECT_EQ(RowsMd5("other_schema.copy"), rows);
  EXPECT_EQ(Comment("other_schema", "copy"), "");
  EXPECT_FALSE(Exists("public", "events_p20240102")) << "not put back in its place";
  EXPECT_THAT(Bin(), ElementsAre("events_p20240101__until_20240209_000000"));
}

// ---------------------------------------------------------------------------
// An interrupted DETACH … CONCURRENTLY

TEST_F(PgBackend, AHalfDetachedPartitionIsFinalizedByTheNextApply) {
  ASSERT_TRUE(db_.Exec(std::string(kEventsTable) + ";" +
                       DailyPartition("events_p20240220", "2024-02-20", "2024-02-21") +
                       DailyPartition("events_p20240221", "2024-02-21", "2024-02-22") +
                       InsertRows("events", 1, 10, "2024-02-20")));
  const std::string rows = RowsMd5("events_p20240220");
  // A reader keeps a transaction open on the table, so the detach waits in its second
  // phase, after it committed the first; then its session is killed.
  auto reader = db_.Connect();
  auto detacher = db_.Connect();
  ASSERT_TRUE(reader && detacher);
  ASSERT_TRUE(reader->Exec("BEGIN; SELECT count(*) FROM events").has_value());
  const int detacher_pid = detacher->BackendPid();
  std::thread detach([&] {
    (void)detacher->Exec("ALTER TABLE events DETACH PARTITION events_p20240220 CONCURRENTLY");
  });
  bool waiting = false;
  for (int i = 0; i < 400 && !waiting; ++i) {
    waiting = Count(
                  "SELECT count(*) FROM pg_inherits i JOIN pg_stat_activity a ON a.pid = $1 WHERE "
                  "i.inhrelid = 'events_p20240220'::regclass AND i.inhdetachpending AND "
                  "a.wait_event_type = 'Lock'",
                  {std::to_string(detacher_pid)}) == 1;
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  if (waiting) {
    EXPECT_EQ(Text("SELECT pg_terminate_backend($1)::text", {std::to_string(detacher_pid)}),
              "true");
  }
  detach.join();
  ASSERT_TRUE(waiting) << "the detach never waited in its second phase";
  ASSERT_TRUE(reader->Exec("ROLLBACK").has_value());
  ASSERT_EQ(Count("SELECT count(*) FROM pg_inherits WHERE inhdetachpending"), 1);

  Configure(Dataset("events", "public.events", "created_at", {"interval: 1 day"}));
  CommandResult apply = Tidemark({"apply", "--now", "2024-02-21T12:00:00Z"});
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  EXPECT_THAT(apply.out, HasSubstr("finish the detach of 1 partition (events_p20240220)"));
  EXPECT_EQ(Count("SELECT count(*) FROM pg_inherits WHERE inhdetachpending"), 0);
  EXPECT_FALSE(IsPartition("public", "events_p20240220"));
  EXPECT_EQ(RowsMd5("public.events_p20240220"), rows) << "detached with every row";
  EXPECT_TRUE(IsPartition("public", "events_p20240221"));
}

// ---------------------------------------------------------------------------
// DDL under load

TEST_F(PgBackend, CreateBehindALongTransactionGivesUpInBoundedTimeAndCompletesLater) {
  const std::string schema = OwnSchema();
  ASSERT_TRUE(db_.Exec(kEventsTable));
  // CREATE TABLE … PARTITION OF takes ACCESS EXCLUSIVE on the parent, which conflicts
  // with the ACCESS SHARE any reader holds until its transaction ends.
  Configure(Dataset("events", schema + ".events", "created_at", {"interval: 1 day", "premake: 1"}),
            "UTC", ", lock_timeout_ms: 200, ddl_attempts: 2");
  auto blocker = db_.Connect();
  ASSERT_NE(blocker, nullptr);
  ASSERT_TRUE(
      blocker->Exec("BEGIN; LOCK TABLE " + schema + ".events IN ACCESS SHARE MODE").has_value());
  ServerLog log(db_);
  ASSERT_GE(log.Size(), 0) << "the server log cannot be read";

  CommandResult blocked = Tidemark({"apply", "--now", "2024-03-01T10:00:00Z"});
  EXPECT_EQ(blocked.exit_code, 1) << blocked.out << blocked.err;
  EXPECT_THAT(blocked.out + blocked.err, HasSubstr("waiting up to 200 ms for its locks"));
  EXPECT_THAT(blocked.out + blocked.err, HasSubstr("lock timeout"));
  EXPECT_LT(blocked.seconds, 10.0) << blocked.out;
  EXPECT_THAT(Partitions("events"), IsEmpty());
  // docs/postgres.md: a DDL that times out is tried ddl_attempts times, then the step
  // fails. Two steps, two attempts each.
  const std::string errors = log.Read();
  EXPECT_EQ(LinesWith(errors, {"STATEMENT:  CREATE TABLE \"" + schema + "\".\"events_p2024030"}), 4)
      << "lock timeouts of the two create steps; the run took " << blocked.seconds << " s";

  ASSERT_TRUE(blocker->Exec("ROLLBACK").has_value());
  CommandResult resumed = Tidemark({"apply", "--now", "2024-03-01T10:00:00Z"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_EQ(Partitions("events").size(), 2u);
}

// ---------------------------------------------------------------------------
// Bad input

TEST_F(PgBackend, RefusesATableThatIsNotPartitioned) {
  ASSERT_TRUE(db_.Exec("CREATE TABLE events (id bigint, created_at timestamptz)"));
  Configure(Dataset("events", "public.events", "created_at", {"interval: 1 day"}));
  CommandResult plan = Tidemark({"plan", "--now", "2024-03-01T00:00:00Z"});
  EXPECT_EQ(plan.exit_code, 2) << plan.out << plan.err;
  EXPECT_THAT(plan.err, HasSubstr("table public.events on connection 'app' is not partitioned"));
  EXPECT_THAT(RunFiles(ws_), IsEmpty());
}

TEST_F(PgBackend, RefusesListAndHashPartitionedTables) {
  ASSERT_TRUE(db_.Exec(
      "CREATE TABLE by_list (region text, created_at timestamptz) PARTITION BY LIST "
      "(region);CREATE TABLE by_hash (id bigint, created_at timestamptz) PARTITION BY HASH (id);"));
  Configure(Dataset("by_list", "by_list", "region", {"interval: 1 day"}) +
            Dataset("by_hash", "by_hash", "id", {"interval: 1 day"}));
  CommandResult list = Tidemark({"plan", "--now", "2024-03-01T00:00:00Z", "--dataset", "by_list"});
  EXPECT_EQ(list.exit_code, 2) << list.out << list.err;
  EXPECT_THAT(list.err, HasSubstr("is partitioned by LIST; tidemark manages RANGE partitions"));
  CommandResult hash = Tidemark({"plan", "--now", "2024-03-01T00:00:00Z", "--dataset", "by_hash"});
  EXPECT_EQ(hash.exit_code, 2) << hash.out << hash.err;
  EXPECT_THAT(hash.err, HasSubstr("is partitioned by HASH; tidemark manages RANGE partitions"));
}

TEST_F(PgBackend, RefusesKeysWhoseTypeDoesNotFitTheInterval) {
  ASSERT_TRUE(db_.Exec(
      "CREATE TABLE int_key (id integer NOT NULL) PARTITION BY RANGE (id);CREATE TABLE "
      "ts_key (at timestamp NOT NULL) PARTITION BY RANGE (at);CREATE TABLE date_key (day "
      "date NOT NULL) PARTITION BY RANGE (day);CREATE TABLE dated_key (id bigint NOT NULL, "
      "created_at timestamptz) PARTITION BY RANGE (id);"));
  Configure(Dataset("int_key", "int_key", "id", {"interval: 1 day"}) +
            Dataset("ts_key", "ts_key", "at", {"strategy: id", "interval: 1000"}) +
            Dataset("date_key", "date_key", "day", {"interval: 1 hour"}) +
            Dataset("dated", "dated_key", "id",
                    {"strategy: id", "interval: 1000", "dated_by: created_at"}));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"int_key", "is partitioned by id of type integer, which does not fit interval 1 day"},
      {"ts_key",
       "is partitioned by at of type timestamp without time zone, which does not fit strategy id"},
      {"date_key", "is partitioned by day of type date, which cannot be split into 1 hour"},
      {"dated", "dated_by is read on MariaDB and MySQL tables only"},
  };
  for (const auto& [dataset, message] : cases) {
    CommandResult plan = Tidemark({"plan", "--now", "2024-03-01T00:00:00Z", "--dataset", dataset});
    EXPECT_EQ(plan.exit_code, 2) << dataset << ": " << plan.out << plan.err;
    EXPECT_THAT(plan.err, HasSubstr(message)) << dataset;
  }
  EXPECT_THAT(RunFiles(ws_), IsEmpty());
}

TEST_F(PgBackend, AMissingTableIsNamedWithTheTableThatDiffersOnlyByCase) {
  ASSERT_TRUE(db_.Exec(
      "CREATE TABLE \"Events\" (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)"));
  Configure(Dataset("events", "public.events", "created_at", {"interval: 1 day"}));
  CommandResult plan = Tidemark({"plan", "--now", "2024-03-01T00:00:00Z"});
  EXPECT_EQ(plan.exit_code, 2) << plan.out << plan.err;
  EXPECT_THAT(plan.err, HasSubstr("table public.events on connection 'app' does not exist"));
  EXPECT_THAT(plan.err, HasSubstr("did you mean public.Events?"));
}

TEST_F(PgBackend, ARoleThatDoesNotOwnTheTableIsToldWhatIsMissing) {
  ASSERT_TRUE(db_.Exec(kEventsTable));
  const std::string role = "tm_guest_" + util::RandomHex(6);
  const std::string password = util::RandomHex(16);
  ASSERT_TRUE(db_.Exec("CREATE ROLE " + role + " LOGIN PASSWORD " + sql::QuoteLiteral(password)));
  std::string url = db_.url();
  url.replace(url.find("://") + 3, url.find('@') - url.find("://") - 3, role);
  Configure(Dataset("events", "public.events", "created_at", {"interval: 1 day"}, "guest"), "UTC",
            "", "  guest: { url: \"" + url + "\", password_env: TM_GUEST_PASSWORD }\n");

  const std::map<std::string, std::string> env = {{"TM_GUEST_PASSWORD", password}};

  // PostgreSQL 15 gives no one CREATE on schema public.
  CommandResult no_create = Tidemark({"apply", "--now", "2024-03-01T00:00:00Z"}, env);
  EXPECT_EQ(no_create.exit_code, 1) << no_create.out << no_create.err;
  EXPECT_THAT(no_create.err, HasSubstr("permission denied for schema public"));
  // With CREATE there, the partition still needs the parent's owner.
  ASSERT_TRUE(db_.Exec("GRANT CREATE ON SCHEMA public TO " + role));
  CommandResult not_owner = Tidemark({"apply", "--now", "2024-03-01T00:00:00Z"}, env);
  EXPECT_TRUE(db_.Exec("DROP OWNED BY " + role + "; DROP ROLE " + role));
  EXPECT_EQ(not_owner.exit_code, 1) << not_owner.out << not_owner.err;
  EXPECT_THAT(not_owner.err, HasSubstr("must be owner of table events"));
  for (const CommandResult* run : {&no_create, &not_owner}) {
    EXPECT_THAT(run->out + run->err, Not(HasSubstr(password)));
  }
  EXPECT_THAT(Partitions("events"), IsEmpty());
}

TEST_F(PgBackend, QuotedSpacedUpperCaseAndNonAsciiNamesWorkEndToEnd) {
  const std::string table = "\"Sales Data\".\"Événements \"\"2024\"\"\"";
  auto partition = [](const std::string& day) { return "Événements \"2024\"_p" + day; };
  std::string sql = "CREATE SCHEMA \"Sales Data\"; CREATE TABLE " + table +
                    " (\"ID\" bigint NOT NULL, \"Créé le\" timestamptz NOT NULL) PARTITION BY "
                    "RANGE (\"Créé le\");";
  for (const char* day : {"20240101", "20240102"}) {
    const std::string d = std::string(day).substr(0, 4) + "-01-" + std::string(day).substr(6);
    const std::string next = "2024-01-0" + std::to_string(day[7] - '0' + 1);
    sql += "CREATE TABLE \"Sales Data\"." + sql::QuoteIdent(partition(day)) + " PARTITION OF " +
           table + " FOR VALUES FROM ('" + d + " 00:00:00+00') TO ('" + next + " 00:00:00+00');";
    sql += "INSERT INTO " + table + " SELECT g, '" + d +
           "'::timestamptz + g * interval '1 minute' FROM generate_series(1, 25) g;";
  }
  ASSERT_TRUE(db_.Exec(sql));
  const std::string rows = RowsMd5("\"Sales Data\"." + sql::QuoteIdent(partition("20240101")));
  Configure(Dataset("sales", table, "Créé le",
                    {"interval: 1 day", "premake: 1", "retention: 30 days", "on_expire: drop"}));

  Apply("2024-02-02T00:00:00Z");
  EXPECT_THAT(
      Partitions(table),
      ElementsAre(
          Range(partition("20240202"), "2024-02-02 00:00:00+00", "2024-02-03 00:00:00+00"),
          Range(partition("20240203"), "2024-02-03 00:00:00+00", "2024-02-04 00:00:00+00")));
  EXPECT_THAT(Bin(), ElementsAre(partition("20240101") + "__until_20240209_000000",
                                 partition("20240102") + "__until_20240209_000000"));

  CommandResult restore =
      Tidemark({"restore", "--dataset", "sales", "--partition", partition("20240101")});
  ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
  EXPECT_TRUE(IsPartition("Sales Data", partition("20240101")));
  EXPECT_EQ(RowsMd5("\"Sales Data\"." + sql::QuoteIdent(partition("20240101"))), rows);
  EXPECT_EQ(Partitions(table).front(),
            Range(partition("20240101"), "2024-01-01 00:00:00+00", "2024-01-02 00:00:00+00"));
}

// ---------------------------------------------------------------------------
// Strategy id

TEST_F(PgBackend, IdStrategyKeepsPartitionsAheadOfTheLargestId) {
  ASSERT_TRUE(
      db_.Exec("CREATE TABLE readings (id bigint NOT NULL, value double precision) PARTITION BY "
               "RANGE (id);CREATE TABLE readings_p0 PARTITION OF readings FOR VALUES FROM (0) TO "
               "(1000);CREATE TABLE readings_default PARTITION OF readings DEFAULT;INSERT INTO "
               "readings SELECT g, g / 10.0 FROM generate_series(1, 2500) g;"));
  Configure(
      Dataset("readings", "readings", "id", {"strategy: id", "interval: 1000", "premake: 2"}));

  Apply("2024-03-01T00:00:00Z");
  EXPECT_THAT(
      Partitions("readings"),
      ElementsAre("readings_default DEFAULT", Range("readings_p0", "0", "1000"),
                  Range("readings_p2000", "2000", "3000"), Range("readings_p3000", "3000", "4000"),
                  Range("readings_p4000", "4000", "5000")));
  EXPECT_THAT(RowsPerPartition("readings"),
              ElementsAre("readings_default=1000", "readings_p0=999", "readings_p2000=501"));

  // The ids grow past 4000: two more thousands ahead.
  ASSERT_TRUE(db_.Exec("INSERT INTO readings SELECT g, 0 FROM generate_series(2501, 4100) g"));
  Apply("2024-03-01T00:00:00Z", {"--force-run"});
  EXPECT_THAT(
      Partitions("readings"),
      ElementsAre("readings_default DEFAULT", Range("readings_p0", "0", "1000"),
                  Range("readings_p2000", "2000", "3000"), Range("readings_p3000", "3000", "4000"),
                  Range("readings_p4000", "4000", "5000"), Range("readings_p5000", "5000", "6000"),
                  Range("readings_p6000", "6000", "7000")));
}

// ---------------------------------------------------------------------------
// Many datasets on one connection

TEST_F(PgBackend, FourJobsOverTwentyTablesOnOneConnectionReadTheCatalogOnce) {
  const std::string schema = OwnSchema();
  std::string sql, datasets;
  for (int i = 0; i < 20; ++i) {
    const std::string name = "t" + std::to_string(100 + i).substr(1);
    sql += "CREATE TABLE " + name +
           " (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);";
    datasets += Dataset(name, schema + "." + name, "created_at", {"interval: 1 day", "premake: 2"});
  }
  ASSERT_TRUE(db_.Exec(sql));
  Configure(datasets);
  // pg_stat_statements needs shared_preload_libraries, which the test server does not
  // set; the statement log of this database counts the catalog queries instead: each
  // logs its parameters, the schemas and the names of the tables it reads.
  ASSERT_TRUE(db_.Exec("ALTER DATABASE " + schema + " SET log_statement = 'all'"));
  ServerLog log(db_);
  ASSERT_GE(log.Size(), 0) << "the server log cannot be read";
  const std::vector<std::string> catalog_query = {"parameters: $1 = '{", schema};

  CommandResult apply = Tidemark({"apply", "--now", "2024-03-01T00:00:00Z", "--jobs", "4"});
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  for (int i = 0; i < 20; ++i) {
    const std::string name = "t" + std::to_string(100 + i).substr(1);
    EXPECT_EQ(Partitions(name).size(), 3u) << name;
    EXPECT_THAT(apply.out, HasSubstr(name + ": done: 3 steps run")) << name;
  }
  // One query for all twenty, then each dataset with work is read again under its lock
  // (exec/observe.h).
  const std::string first = log.Read();
  EXPECT_EQ(LinesWith(first, catalog_query), 1 + 20);
  EXPECT_EQ(LinesWith(first, {"parameters: $1 = '{", schema, "t00", "t19"}), 1)
      << "all twenty at once";

  CommandResult again =
      Tidemark({"apply", "--now", "2024-03-01T00:00:00Z", "--jobs", "4", "--force-run"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(Occurrences(again.out, ": nothing to do"), 20) << again.out;
  EXPECT_EQ(LinesWith(log.Read(), catalog_query), 1)
      << "nothing to do for twenty tables is one catalog query";
}

}  // namespace
}  // namespace tidemark::testing
