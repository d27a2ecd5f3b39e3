// Crash tests for the MariaDB backend: the process exits at a failpoint (before, inside
// and after every step, between the statements of a CONVERT or an EXCHANGE detach, in
// the middle of each export), then the same command runs again, with both detach
// methods and with and without the recycle bin kept. At the crash and afterwards, every
// row is exactly once either live (in the table, or in a table being built beside it)
// or removed (in the recycle bin and/or a complete archive, with the same bytes); after
// the rerun nothing is left half-done, and restores from the archive and the bin,
// crashing in the middle of the load, after the split and after the exchange, give back
// exactly the rows there were.

#include <map>

#include "tests/support/mariadb_env.h"
#include "tests/support/tidemark_env.h"
#include <gtest/gtest.h>
#include <unistd.h>

#include "tidemark/archive/table_archive.h"
#include "tidemark/store/object_store.h"

namespace tidemark::testing {
namespace {

constexpr char kNow[] = "2024-03-01T10:00:00Z";  // retention 30 days: Jan 1 and 2 expire
constexpr int kFailpointExit = 86;
constexpr char kExpired[][10] = {"p20240101", "p20240102"};
constexpr char kSelectColumns[] = "SELECT id, created_at, payload, bytes FROM ";
constexpr char kAllPartitions[] = "p20240101,p20240102,p20240229,p20240301,p20240302,pmax";

struct Scenario {
  std::string failpoint;
  int recycle_days;
  bool exchange;  // detach with EXCHANGE PARTITION (TIDEMARK_MARIADB_DETACH=exchange)
};

void PrintTo(const Scenario& s, std::ostream* out) {
  *out << s.failpoint << ", recycle_days " << s.recycle_days << (s.exchange ? ", EXCHANGE" : "");
}

std::string Name(const ::testing::TestParamInfo<Scenario>& info) {
  std::string name = info.param.failpoint + "_recycle" + std::to_string(info.param.recycle_days) +
                     (info.param.exchange ? "_exchange" : "_convert");
  for (char& c : name) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

// Two expired days of 12000 rows of several MiB each, and a live day. Payloads hold
// tabs, newlines, backslashes, a literal \N, NUL bytes and emoji, or are NULL or empty;
// `bytes` holds arbitrary bytes (all of NUL, tab, newline, backslash, CR, 0xFF), or NULL.
constexpr char kTable[] = R"SQL(
CREATE TABLE events (id BIGINT NOT NULL, created_at DATETIME NOT NULL, payload TEXT,
  bytes BLOB, PRIMARY KEY (id, created_at)) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4
PARTITION BY RANGE (TO_DAYS(created_at)) (
  PARTITION p20240101 VALUES LESS THAN (TO_DAYS('2024-01-02')),
  PARTITION p20240102 VALUES LESS THAN (TO_DAYS('2024-01-03')),
  PARTITION p20240229 VALUES LESS THAN (TO_DAYS('2024-03-01')),
  PARTITION pmax VALUES LESS THAN MAXVALUE))SQL";
constexpr char kJan1[] = R"SQL(
INSERT INTO events SELECT seq, '2024-01-01' + INTERVAL seq * 7 SECOND,
  CONCAT('tab\there, new\nline, back\\slash, literal \\N, nul \0 byte, emoji 😀🐬 ', seq, ' ',
    SHA2(seq, 512), SHA2(seq + 1000000, 512), SHA2(seq + 2000000, 512)),
  IF(seq % 7 = 0, NULL, UNHEX(SHA2(seq, 256)))
FROM seq_1_to_12000)SQL";
constexpr char kJan2[] = R"SQL(
INSERT INTO events SELECT 100000 + seq, '2024-01-02' + INTERVAL seq * 7 SECOND,
  IF(seq % 5 = 0, NULL, IF(seq % 13 = 0, '', CONCAT('jan 2 row ', seq, ' 🎉\r\n',
    SHA2(seq, 512), SHA2(seq + 1000000, 512), SHA2(seq + 2000000, 512)))),
  IF(seq % 11 = 0, '', CONCAT(CHAR(0, 9, 10, 92, 13, 255), UNHEX(SHA2(seq, 256))))
FROM seq_1_to_12000)SQL";
constexpr char kFeb29[] = R"SQL(
INSERT INTO events SELECT 200000 + seq, '2024-02-29' + INTERVAL seq MINUTE,
  CONCAT('live ', seq), NULL FROM seq_1_to_500)SQL";

// The configuration, without the value of recycle_days.
constexpr char kConfig[] = R"(state: sqlite:.tidemark/state.db
runs_dir: .tidemark/runs
connections:
  db: { url: "URL", password_env: TIDEMARK_TEST_MARIADB_PASSWORD }
  cold: { url: "file:archive" }
archives:
  cold: { connection: cold }
datasets:
  events:
    storage: { connection: db, table: events }
    partition_by: created_at
    partition_name: "p{start}"
    interval: 1 day
    premake: 1
    retention: 30 days
    archive_to: cold
    recycle_days: )";

// Rows by id: their LOAD DATA text (id, created_at, payload, bytes), as archives hold them.
using Rows = std::map<std::string, std::string>;

// The table, its configuration and the ways to look at where its rows are.
class MdCrashBase : public ::testing::Test {
 protected:
  void Prepare(int recycle_days, bool exchange) {
    exchange_ = exchange;
    ASSERT_TRUE(db_.ok());
    for (const char* sql : {kTable, kJan1, kJan2, kFeb29}) ASSERT_TRUE(db_.Exec(sql));
    std::string config = kConfig;
    config.replace(config.find("URL"), 3, db_.url());
    WriteFile(ws_.config(), config + std::to_string(recycle_days) + "\n");
    originals_ = Live();
    ASSERT_EQ(originals_.size(), 12000u + 12000u + 500u);
  }

  void TearDown() override {
    for (const std::string& table : BinTables()) {
      db_.Exec("DROP TABLE IF EXISTS " + sql::QuoteMariaDbQualified("tidemark_recycle", table));
    }
  }

  CommandResult Tidemark(const std::vector<std::string>& args, const std::string& failpoint = "") {
    std::map<std::string, std::string> env = {
        {kTestMariaDbPasswordEnv, TestMariaDbServer().password}};
    if (exchange_) env["TIDEMARK_MARIADB_DETACH"] = "exchange";
    if (!failpoint.empty()) env["TIDEMARK_FAILPOINT"] = failpoint;
    return ws_.Tidemark(args, env);
  }

  // Runs `args`, crashing at each of `crashes` in turn, then once more to the end.
  void RunThroughCrashes(const std::vector<std::string>& args,
                         const std::vector<std::string>& crashes) {
    for (const std::string& point : crashes) {
      CommandResult crashed = Tidemark(args, point);
      ASSERT_EQ(crashed.exit_code, kFailpointExit) << point << "\n" << crashed.out << crashed.err;
      WaitForSessionsToEnd();
    }
    CommandResult done = Tidemark(args);
    ASSERT_EQ(done.exit_code, 0) << done.out << done.err;
  }

  // A statement the crashed process had sent goes on in the server (and may commit)
  // until it ends and its session notices the client is gone: wait for that first.
  void WaitForSessionsToEnd() {
    for (int i = 0; i < 300; ++i) {
      sql::MariaDbRows rows = db_.Query(
          "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'tidemark_test' "
          "AND DB = " +
          sql::QuoteMariaDbLiteral(db_.name()) + " AND ID <> CONNECTION_ID()");
      if (rows.rows() == 1 && rows.Int(0, 0) == 0) return;
      usleep(100 * 1000);
    }
    ADD_FAILURE() << "the crashed run's sessions did not end";
  }

  static void AddLine(std::string_view line, const std::string& where, Rows& rows) {
    std::string id(line.substr(0, line.find('\t')));
    EXPECT_TRUE(rows.emplace(id, line).second) << "row " << id << " twice (" << where << ")";
  }

  // Adds the rows of `table` (quoted, qualified) to `rows`, in LOAD DATA text.
  void Collect(const std::string& table, const std::string& where, Rows& rows) {
    auto conn = db_.Connect();
    ASSERT_NE(conn, nullptr);
    std::string line;
    auto streamed = conn->StreamRows(kSelectColumns + table,
                                     [&](const sql::MariaDbRowView& row) -> util::Status {
                                       line.clear();
                                       sql::AppendLoadDataRow(line, row);
                                       line.pop_back();  // the '\n'
                                       AddLine(line, where, rows);
                                       return {};
                                     });
    ASSERT_TRUE(streamed) << streamed.error().message();
  }

  std::string Qualified(const std::string& schema, const std::string& table) {
    return sql::QuoteMariaDbQualified(schema, table);
  }

  std::vector<std::string> Names(const std::string& query) {
    std::vector<std::string> names;
    sql::MariaDbRows rows = db_.Query(query);
    for (int r = 0; r < rows.rows(); ++r) names.push_back(rows.Text(r, 0));
    return names;
  }

  // Tables of the test database but the partitioned one: standalone tables being built.
  std::vector<std::string> OtherTables() {
    return Names("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = " +
                 sql::QuoteMariaDbLiteral(db_.name()) + " AND TABLE_NAME <> 'events' ORDER BY 1");
  }

  // This test's tables in the recycle database (bin entries, and tables being staged).
  std::vector<std::string> BinTables(const std::string& condition = "") {
    const std::string prefix = db_.name() + "__";
    return Names(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
        "'tidemark_recycle' AND LEFT(TABLE_NAME, " +
        std::to_string(prefix.size()) + ") = " + sql::QuoteMariaDbLiteral(prefix) + condition +
        " ORDER BY 1");
  }

  // Every row a reader of the table sees, plus rows in standalone tables being built.
  Rows Live() {
    Rows rows;
    Collect(Qualified(db_.name(), "events"), "live", rows);
    for (const std::string& table : OtherTables()) {
      Collect(Qualified(db_.name(), table), "standalone " + table, rows);
    }
    return rows;
  }

  // Rows removed: in the recycle bin, and in every complete archive (manifest written).
  void Removed(Rows& bin, Rows& archived) {
    for (const std::string& table : BinTables()) {
      Collect(Qualified("tidemark_recycle", table), "bin " + table, bin);
    }
    for (const char* partition : kExpired) {
      auto store = store::OpenStore("file://" + ws_.archive() + "/events/main/main/" + partition);
      ASSERT_TRUE(store);
      archive::TreeLocation at{store->get(), ""};
      auto manifest = archive::ReadTableManifest(at);
      ASSERT_TRUE(manifest) << manifest.error().message();
      if (!*manifest) continue;  // incomplete: not an archive yet
      auto reader = archive::TableArchiveReader::Open(at, util::NoProgress());
      ASSERT_TRUE(reader) << reader.error().message();
      std::string data;
      for (;;) {
        auto piece = (*reader)->Next();
        ASSERT_TRUE(piece) << piece.error().message();
        if (piece->empty()) break;
        data.append(*piece);
      }
      for (size_t start = 0; start < data.size();) {
        const size_t end = data.find('\n', start);
        AddLine(std::string_view(data).substr(start, end - start),
                std::string("archive ") + partition, archived);
        start = end + 1;
      }
    }
  }

  // Each original row exactly once: live, or else removed (bin and archive agreeing).
  void ExpectEveryRowOnce(const std::string& when) {
    SCOPED_TRACE(when);
    Rows live = Live(), bin, archived;
    Removed(bin, archived);
    size_t mismatches = 0;
    for (const auto& [id, line] : originals_) {
      const bool is_live = live.count(id) > 0;
      const bool in_bin = bin.count(id) > 0;
      const bool in_archive = archived.count(id) > 0;
      const bool ok = is_live ? !in_bin && !in_archive && live[id] == line
                              : (in_bin || in_archive) && (!in_bin || bin[id] == line) &&
                                    (!in_archive || archived[id] == line);
      if (!ok && ++mismatches <= 5) {
        ADD_FAILURE() << "row " << id << ": live " << is_live << ", bin " << in_bin << ", archive "
                      << in_archive;
      }
    }
    EXPECT_EQ(mismatches, 0u);
    for (const Rows* rows : {&live, &bin, &archived}) {
      for (const auto& [id, line] : *rows) EXPECT_TRUE(originals_.count(id)) << "new row " << id;
    }
  }

  std::string Partitions() {
    sql::MariaDbRows rows = db_.Query(
        "SELECT GROUP_CONCAT(PARTITION_NAME ORDER BY PARTITION_ORDINAL_POSITION) FROM "
        "information_schema.PARTITIONS WHERE TABLE_SCHEMA = " +
        sql::QuoteMariaDbLiteral(db_.name()) + " AND TABLE_NAME = 'events'");
    return rows.rows() == 1 ? rows.Text(0, 0) : "";
  }

  // The rows of the original table whose ids are in [low, high).
  Rows Originals(int64_t low, int64_t high) {
    Rows rows;
    for (const auto& [id, line] : originals_) {
      if (std::stoll(id) >= low && std::stoll(id) < high) rows.emplace(id, line);
    }
    return rows;
  }

  MariaDbTestDatabase db_;
  Workspace ws_;
  Rows originals_;
  bool exchange_ = false;
};

class MdCrash : public MdCrashBase, public ::testing::WithParamInterface<Scenario> {
 protected:
  void SetUp() override { Prepare(GetParam().recycle_days, GetParam().exchange); }
};

TEST_P(MdCrash, RerunningAfterACrashLosesAndDuplicatesNothing) {
  const bool keep_bin = GetParam().recycle_days > 0;
  // Step boundaries are counted in plan order, one step at a time. The other points
  // are reached with steps in parallel, so that the crash may come while the other
  // thread's statement still runs in the server.
  std::vector<std::string> apply = {"apply", "--now", kNow};
  if (GetParam().failpoint.starts_with("step.")) apply.insert(apply.end(), {"--step-jobs", "1"});
  CommandResult crashed = Tidemark(apply, GetParam().failpoint);
  ASSERT_EQ(crashed.exit_code, kFailpointExit) << crashed.out << crashed.err;
  WaitForSessionsToEnd();
  ExpectEveryRowOnce("at the crash");

  CommandResult rerun = Tidemark({"apply", "--now", kNow});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
  ExpectEveryRowOnce("after the rerun");

  // Nothing half-done: the new partitions exist, nothing is being built or staged, and
  // the bin holds marked tables only, when it keeps them.
  EXPECT_EQ(Partitions(), "p20240229,p20240301,p20240302,pmax");
  EXPECT_TRUE(OtherTables().empty());
  EXPECT_EQ(BinTables().size(), keep_bin ? 2u : 0u);
  EXPECT_TRUE(BinTables(" AND (TABLE_COMMENT NOT LIKE 'tidemark:%' OR CREATE_OPTIONS LIKE "
                        "'%partitioned%')")
                  .empty());
  Rows bin, archived;
  Removed(bin, archived);
  EXPECT_EQ(archived.size(), 24000u);
  EXPECT_EQ(bin.size(), keep_bin ? 24000u : 0u);

  // Restores in place from the archive, crashing in the middle of the load and run
  // again, give back exactly the rows there were. With the bin kept, the first
  // partition comes back from the bin.
  for (const char* partition : kExpired) {
    const bool from_bin = keep_bin && partition == kExpired[0];
    RunThroughCrashes(
        {"restore", "--dataset", "events", "--partition", partition, "--from",
         from_bin ? "bin" : "archive"},
        from_bin ? std::vector<std::string>{} : std::vector<std::string>{"restore.mid_stream"});
  }
  Rows after;
  Collect(Qualified(db_.name(), "events"), "restored", after);
  EXPECT_EQ(after.size(), originals_.size());
  EXPECT_TRUE(after == originals_) << "the restored rows differ from the rows before";
  EXPECT_EQ(Partitions(), kAllPartitions);
  EXPECT_TRUE(OtherTables().empty());
  EXPECT_EQ(BinTables().size(), keep_bin ? 1u : 0u);
}

// A restore of p20240101, crashing at a point of putting it back, then run again.
struct RestoreScenario {
  std::string from;  // bin | archive
  std::string failpoint;
  std::string to;  // "": in place
};

class MdCrashRestore : public MdCrashBase, public ::testing::WithParamInterface<RestoreScenario> {
 protected:
  void SetUp() override { Prepare(7, false); }
};

void PrintTo(const RestoreScenario& s, std::ostream* out) {
  *out << "from " << s.from << ", " << s.failpoint << (s.to.empty() ? "" : ", --to " + s.to);
}

std::string RestoreName(const ::testing::TestParamInfo<RestoreScenario>& info) {
  std::string name = info.param.from + "_" + info.param.failpoint +
                     (info.param.to.empty() ? "_in_place" : "_to_table");
  for (char& c : name) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

TEST_P(MdCrashRestore, RerunningAfterACrashGivesBackExactlyTheRows) {
  CommandResult applied = Tidemark({"apply", "--now", kNow});
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  std::vector<std::string> args = {"restore",   "--dataset", "events",       "--partition",
                                   kExpired[0], "--from",    GetParam().from};
  if (!GetParam().to.empty()) args.insert(args.end(), {"--to", GetParam().to});
  CommandResult crashed = Tidemark(args, GetParam().failpoint);
  ASSERT_EQ(crashed.exit_code, kFailpointExit) << crashed.out << crashed.err;
  WaitForSessionsToEnd();
  // An apply before the rerun leaves the restore in progress alone: the partition is
  // held from the start, so it is not expired again nor its archive rewritten.
  CommandResult between = Tidemark({"apply", "--force-run", "--now", kNow});
  ASSERT_EQ(between.exit_code, 0) << between.out << between.err;
  Rows bin, archived;
  Removed(bin, archived);
  EXPECT_EQ(archived.size(), 24000u) << "an apply rewrote the archive of a restore in progress";
  CommandResult done = Tidemark(args);
  ASSERT_EQ(done.exit_code, 0) << done.out << done.err;

  Rows restored;
  const std::string table = GetParam().to.empty() ? "events" : GetParam().to;
  Collect(Qualified(db_.name(), table), "restored", restored);
  Rows wanted = Originals(0, 100000);  // Jan 1, and the live day when in place
  if (GetParam().to.empty()) wanted.merge(Originals(200000, 300000));
  EXPECT_EQ(restored.size(), wanted.size());
  EXPECT_TRUE(restored == wanted) << "the restored rows differ from the rows before";
  EXPECT_EQ(Partitions(), GetParam().to.empty() ? "p20240101,p20240229,p20240301,p20240302,pmax"
                                                : "p20240229,p20240301,p20240302,pmax");
  // Nothing half-done: no table being built, the bin entry gone when it was used.
  EXPECT_EQ(OtherTables(), GetParam().to.empty() ? std::vector<std::string>{}
                                                 : std::vector<std::string>{GetParam().to});
  EXPECT_EQ(BinTables().size(), GetParam().from == "bin" ? 1u : 2u);
}

INSTANTIATE_TEST_SUITE_P(PuttingBack, MdCrashRestore,
                         ::testing::Values(RestoreScenario{"bin", "restore.split", ""},
                                           RestoreScenario{"bin", "restore.exchanged", ""},
                                           RestoreScenario{"bin", "restore.moved", "events_jan1"},
                                           RestoreScenario{"archive", "restore.mid_stream", ""},
                                           RestoreScenario{"archive", "restore.split", ""},
                                           RestoreScenario{"archive", "restore.exchanged", ""},
                                           RestoreScenario{"archive", "restore.mid_stream",
                                                           "events_jan1"}),
                         RestoreName);

std::vector<Scenario> Scenarios() {
  std::vector<Scenario> out;
  for (bool exchange : {false, true}) {
    // recycle_days 0: create ×2, check, hide ×2, copy ×2, verify ×2, purge ×2 = 11
    // steps; recycle_days 7 keeps the bin copies: 9 steps.
    for (int recycle_days : {0, 7}) {
      const int steps = recycle_days == 0 ? 11 : 9;
      for (const char* point : {"step.before", "step.executed", "step.after"}) {
        for (int n = 1; n <= steps; ++n) {
          out.push_back({std::string(point) + ":" + std::to_string(n), recycle_days, exchange});
        }
      }
      std::vector<std::string> points = {"export.mid_stream:1", "export.mid_stream:2"};
      for (const char* point :
           exchange ? std::vector<const char*>{"md.exchange_ready", "md.exchanged", "md.dropped"}
                    : std::vector<const char*>{"md.converted"}) {
        for (const char* n : {":1", ":2"}) points.push_back(std::string(point) + n);
      }
      for (const std::string& point : points) out.push_back({point, recycle_days, exchange});
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(EveryStep, MdCrash, ::testing::ValuesIn(Scenarios()), Name);

}  // namespace
}  // namespace tidemark::testing
