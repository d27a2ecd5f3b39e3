// The MariaDB backend end to end: the real binary against a real MariaDB 10.11, each test
// in a fresh database, with `--now` fixed. Every test states what the server holds
// afterwards: partitions and their bounds (information_schema.PARTITIONS), the tables
// of the recycle bin and their marks, the archive's files, and the rows themselves
// (digests of every column's bytes). Strategy sequential is in md_sequential_test.cc.

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "tests/support/mariadb_env.h"
#include "tests/support/tidemark_env.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tidemark/util/strings.h"
#include "tidemark/util/time.h"

namespace tidemark::testing {
namespace {

namespace fs = std::filesystem;

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

// "  NAME:\n    storage: …\n    partition_by: …\n" followed by `keys`, one per line.
std::string Dataset(const std::string& name, const std::string& table, const std::string& key,
                    const std::vector<std::string>& keys) {
  std::string yaml = "  " + name + ":\n    storage: { connection: db, table: '" + table +
                     "' }\n    partition_by: " + key + "\n";
  for (const std::string& line : keys) yaml += "    " + line + "\n";
  return yaml;
}

// TO_DAYS('YYYY-MM-DD'): days since year 0, as MariaDB counts them.
std::string ToDays(const std::string& day) {
  const auto date = util::ParseDate(day);
  return date ? std::to_string(std::chrono::sys_days(*date).time_since_epoch().count() + 719528)
              : "<bad date " + day + ">";
}

// A partition as MariaDbTestDatabase::Partitions shows it: "p20240101<739252".
std::string Part(const std::string& name, const std::string& less_than) {
  return name + "<" + less_than;
}

// "0001…FF": the bytes of `text` in hex, for X'…' literals.
std::string Hex(const std::string& text) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// The number of `statements` that contain `part`.
int Sent(const std::vector<std::string>& statements, const std::string& part) {
  return static_cast<int>(std::count_if(statements.begin(), statements.end(), [&](const auto& s) {
    return s.find(part) != std::string::npos;
  }));
}

// A table partitioned by day on TO_DAYS(created_at): p20240101 … p20240104 with 10 rows
// each, then one empty partition to 1 February (so that nothing is missing before it),
// and the MAXVALUE tail.
std::string DailyTable(const std::string& name) {
  std::string sql = "CREATE TABLE " + name +
                    " (id BIGINT NOT NULL, created_at DATETIME NOT NULL, note VARCHAR(40), "
                    "PRIMARY KEY (id, created_at)) PARTITION BY RANGE (TO_DAYS(created_at)) (";
  for (int day = 1; day <= 4; ++day) {
    sql += "PARTITION p2024010" + std::to_string(day) + " VALUES LESS THAN (TO_DAYS('2024-01-0" +
           std::to_string(day + 1) + "')), ";
  }
  return sql +
         "PARTITION p20240105 VALUES LESS THAN (TO_DAYS('2024-02-01')), PARTITION pmax VALUES "
         "LESS THAN MAXVALUE)";
}
std::string DailyRows(const std::string& name) {
  std::string sql = "INSERT INTO " + name + " VALUES ";
  for (int i = 0; i < 40; ++i) {
    sql += std::string(i ? ", " : "") + "(" + std::to_string(i + 1) + ", '2024-01-0" +
           std::to_string(i / 10 + 1) + " " + std::to_string(10 + i % 10) + ":00:00', 'row " +
           std::to_string(i + 1) + "')";
  }
  return sql;
}

class MdBackend : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(db_.ok()); }

  // Writes tidemark.yaml: connection `db` to the test's database, archive `cold`, the
  // datasets; `top` holds more top-level keys.
  void Configure(const std::string& datasets, const std::string& top = "") {
    WriteFile(ws_.config(), top + MariaDbConfigYaml(db_.url(), datasets));
  }

  // Runs tidemark -c tidemark.yaml args…, with the server's password (and env_).
  CommandResult Tidemark(const std::vector<std::string>& args,
                         std::map<std::string, std::string> env = {}) {
    env[kTestMariaDbPasswordEnv] = TestMariaDbServer().password;
    env.insert(env_.begin(), env_.end());
    return ws_.Tidemark(args, env);
  }

  void Apply(const std::string& now, const std::vector<std::string>& more = {}) {
    std::vector<std::string> args = {"apply", "--now", now};
    args.insert(args.end(), more.begin(), more.end());
    CommandResult apply = Tidemark(args);
    ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  }

  // The name of a bin table of this database's `table`.
  std::string BinName(const std::string& table, const std::string& partition,
                      const std::string& until) {
    return db_.name() + "__" + table + "__" + partition + "__until_" + until;
  }
  // The tables of the recycle bin that came from this database, by name.
  std::vector<std::string> Bin() {
    sql::MariaDbRows rows = db_.Query(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
        "'tidemark_recycle' AND LEFT(TABLE_NAME, CHAR_LENGTH(DATABASE()) + 2) = "
        "CONCAT(DATABASE(), '__') ORDER BY 1");
    std::vector<std::string> out;
    for (int r = 0; r < rows.rows(); ++r) out.push_back(rows.Text(r, 0));
    return out;
  }
  std::string Comment(const std::string& schema, const std::string& table) {
    sql::MariaDbRows rows = db_.Query(
        "SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = " +
        sql::QuoteMariaDbLiteral(schema) + " AND TABLE_NAME = " + sql::QuoteMariaDbLiteral(table));
    return rows.rows() == 1 ? rows.Text(0, 0) : "<no table>";
  }
  // The JSON of a "tidemark:{…}" comment; null when the comment is not one.
  nlohmann::json Mark(const std::string& schema, const std::string& table) {
    const std::string comment = Comment(schema, table);
    if (!util::StartsWith(comment, "tidemark:")) return nullptr;
    return nlohmann::json::parse(comment.substr(9), nullptr, false);
  }
  // The files of the archive of `partition` of dataset `dataset`.
  std::vector<std::string> ArchiveFiles(const std::string& dataset, const std::string& partition) {
    std::vector<std::string> names;
    const fs::path dir = fs::path(ws_.archive()) / dataset / "main" / "main" / partition;
    if (!fs::exists(dir)) return names;
    for (const auto& entry : fs::directory_iterator(dir))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  nlohmann::json Manifest(const std::string& dataset, const std::string& partition) {
    return nlohmann::json::parse(
        ReadFile(ws_.archive() + "/" + dataset + "/main/main/" + partition + "/manifest.json"),
        nullptr, false);
  }
  std::string Digest(const std::string& table, const std::string& partition = "") {
    return db_.RowsDigest(db_.name(), table, partition);
  }

  MariaDbTestDatabase db_;
  Workspace ws_;
  std::map<std::string, std::string> env_;  // for every run of the binary
};

// ---------------------------------------------------------------------------
// Strategy time

TEST_F(MdBackend, ToDaysFillsThePastSinceTheLastBoundThenNowAndPremakeByEmptyTailSplits) {
  ASSERT_TRUE(db_.Exec(
      "CREATE TABLE ev (id BIGINT NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (id, "
      "created_at)) PARTITION BY RANGE (TO_DAYS(created_at)) (PARTITION p20240101 VALUES LESS "
      "THAN (TO_DAYS('2024-01-02')), PARTITION p20240102 VALUES LESS THAN (TO_DAYS('2024-01-03')), "
      "PARTITION pmax VALUES LESS THAN MAXVALUE)"));
  ASSERT_TRUE(
      db_.Exec("INSERT INTO ev VALUES (1, '2024-01-01 10:00:00'), (2, '2024-01-02 23:59:59')"));
  const auto before = db_.PartitionContents("ev");
  Configure(Dataset("events", "ev", "created_at",
                    {"interval: 1 day", "premake: 2", "partition_name: 'p{start}'"}));

  CommandResult plan = Tidemark({"plan", "--now", "2024-01-05T10:00:00Z"});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_EQ(db_.PartitionContents("ev"), before) << "plan is a dry run";

  MariaDbStatementLog log(db_.name());
  ASSERT_TRUE(log.ok());
  Apply("2024-01-05T10:00:00Z");
  // 3 and 4 January were missing before today; then today and two days ahead.
  EXPECT_THAT(
      db_.Partitions("ev"),
      ElementsAre(Part("p20240101", ToDays("2024-01-02")), Part("p20240102", ToDays("2024-01-03")),
                  Part("p20240103", ToDays("2024-01-04")), Part("p20240104", ToDays("2024-01-05")),
                  Part("p20240105", ToDays("2024-01-06")), Part("p20240106", ToDays("2024-01-07")),
                  Part("p20240107", ToDays("2024-01-08")), Part("pmax", "MAXVALUE")));
  // Five splits, each of an empty partition: the tail, or (the steps run in parallel,
  // in any order) a partition another step had just split off it.
  const std::vector<std::string> split = ReorganizedPartitions(log.Statements());
  EXPECT_THAT(split, SizeIs(5));
  EXPECT_THAT(split, Contains("pmax"));
  for (const std::string& name : split) {
    EXPECT_TRUE(before.count(name) == 0 || util::StartsWith(before.at(name), "0 rows ")) << name;
  }
  EXPECT_EQ(db_.PartitionContents("ev")["p20240101"], before.at("p20240101"));
  EXPECT_EQ(db_.PartitionContents("ev")["p20240102"], before.at("p20240102"));

  // Rows of a day ahead land in that day's partition.
  ASSERT_TRUE(db_.Exec("INSERT INTO ev VALUES (3, '2024-01-06 12:00:00')"));
  EXPECT_EQ(db_.CountRows("ev", "p20240106"), 1);
  CommandResult again = Tidemark({"apply", "--now", "2024-01-05T10:00:00Z", "--force-run"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("events: nothing to do"));
}

TEST_F(MdBackend, UnixTimestampHoursAndRangeColumnsDatesAndDatetimes) {
  ASSERT_TRUE(db_.Exec(
      "CREATE TABLE by_unix (id BIGINT NOT NULL, ts TIMESTAMP NOT NULL, PRIMARY KEY (id, ts)) "
      "PARTITION BY RANGE (UNIX_TIMESTAMP(ts)) (PARTITION p20240105_00 VALUES LESS THAN "
      "(UNIX_TIMESTAMP('2024-01-05 01:00:00')), PARTITION pmax VALUES LESS THAN MAXVALUE)"));
  ASSERT_TRUE(db_.Exec(
      "CREATE TABLE by_date (id BIGINT NOT NULL, day DATE NOT NULL, PRIMARY KEY (id, day)) "
      "PARTITION BY RANGE COLUMNS (day) (PARTITION p20240104 VALUES LESS THAN ('2024-01-05'), "
      "PARTITION pmax VALUES LESS THAN (MAXVALUE))"));
  ASSERT_TRUE(db_.Exec(
      "CREATE TABLE by_datetime (id BIGINT NOT NULL, at DATETIME NOT NULL, PRIMARY KEY (id, at)) "
      "PARTITION BY RANGE COLUMNS (at) (PARTITION p20240104 VALUES LESS THAN ('2024-01-05 "
      "00:00:00'), PARTITION pmax VALUES LESS THAN (MAXVALUE))"));
  const std::string name = "partition_name: 'p{start}'";
  Configure(Dataset("by_unix", "by_unix", "ts", {"interval: 1 hour", "premake: 2", name}) +
            Dataset("by_date", "by_date", "day", {"interval: 1 day", "premake: 1", name}) +
            Dataset("by_datetime", "by_datetime", "at", {"interval: 1 day", "premake: 1", name}));

  Apply("2024-01-05T03:30:00Z");
  // 2024-01-05 01:00:00 UTC is 1704416400.
  EXPECT_THAT(db_.Partitions("by_unix"),
              ElementsAre(Part("p20240105_00", "1704416400"), Part("p20240105_01", "1704420000"),
                          Part("p20240105_02", "1704423600"), Part("p20240105_03", "1704427200"),
                          Part("p20240105_04", "1704430800"), Part("p20240105_05", "1704434400"),
                          Part("pmax", "MAXVALUE")));
  EXPECT_THAT(db_.Partitions("by_date"),
              ElementsAre(Part("p20240104", "'2024-01-05'"), Part("p20240105", "'2024-01-06'"),
                          Part("p20240106", "'2024-01-07'"), Part("pmax", "MAXVALUE")));
  EXPECT_THAT(
      db_.Partitions("by_datetime"),
      ElementsAre(Part("p20240104", "'2024-01-05 00:00:00'"), Part("p20240105", "'2024-01-06'"),
                  Part("p20240106", "'2024-01-07'"), Part("pmax", "MAXVALUE")))
      << "tidemark writes midnight as a date, which a DATETIME column reads as 00:00:00";
  ASSERT_TRUE(db_.Exec("INSERT INTO by_unix VALUES (1, '2024-01-05 03:59:59')"));
  EXPECT_EQ(db_.CountRows("by_unix", "p20240105_03"), 1);
  ASSERT_TRUE(
      db_.Exec("INSERT INTO by_datetime VALUES (1, '2024-01-05 23:59:59'), (2, "
               "'2024-01-06 00:00:00')"));
  EXPECT_EQ(db_.CountRows("by_datetime", "p20240105"), 1);
  EXPECT_EQ(db_.CountRows("by_datetime", "p20240106"), 1);
}

TEST_F(MdBackend, ATailHoldingRowsFailsTheStepNamingItAndChangesNothing) {
  ASSERT_TRUE(db_.Exec(
      "CREATE TABLE ev (id BIGINT NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (id, "
      "created_at)) PARTITION BY RANGE (TO_DAYS(created_at)) (PARTITION p20240101 VALUES LESS "
      "THAN (TO_DAYS('2024-01-02')), PARTITION pmax VALUES LESS THAN MAXVALUE)"));
  ASSERT_TRUE(
      db_.Exec("INSERT INTO ev VALUES (1, '2024-01-01 10:00:00'), (2, '2024-03-01 00:00:00')"));
  const auto before = db_.PartitionContents("ev");
  Configure(Dataset("events", "ev", "created_at", {"interval: 1 day", "premake: 1"}));

  CommandResult apply = Tidemark({"apply", "--now", "2024-01-01T10:00:00Z"});
  EXPECT_EQ(apply.exit_code, 1) << apply.out << apply.err;
  EXPECT_THAT(apply.err, HasSubstr("the MAXVALUE partition pmax of " + db_.name() +
                                   ".ev holds rows beyond the last bound"));
  EXPECT_THAT(apply.err, HasSubstr("splits it only while it is empty"));
  EXPECT_EQ(db_.PartitionContents("ev"), before);
}

// ---------------------------------------------------------------------------
// Retention, by CONVERT PARTITION (MariaDB 10.7+) and by EXCHANGE PARTITION + DROP

class MdRetention : public MdBackend, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    MdBackend::SetUp();
    if (GetParam() == "exchange") env_["TIDEMARK_MARIADB_DETACH"] = "exchange";
  }

  // That `partition` left `table` by the detach method of the test, and by it only.
  void ExpectDetachedBy(const std::vector<std::string>& sent, const std::string& table,
                        const std::string& partition) {
    const std::string bin = "`tidemark_recycle`.`" + db_.name() + "__" + table + "__" + partition;
    if (GetParam() == "exchange") {
      EXPECT_EQ(Sent(sent, "EXCHANGE PARTITION `" + partition + "` WITH TABLE " + bin), 1);
      EXPECT_EQ(Sent(sent, "DROP PARTITION `" + partition + "`"), 1);
      EXPECT_EQ(Sent(sent, "CONVERT PARTITION"), 0);
    } else {
      EXPECT_EQ(Sent(sent, "CONVERT PARTITION `" + partition + "` TO TABLE " + bin), 1);
      EXPECT_EQ(Sent(sent, "EXCHANGE PARTITION"), 0);
    }
  }
};

// (Named MdBackend/…, so that --gtest_filter='MdBackend*' runs every test of the backend.)
INSTANTIATE_TEST_SUITE_P(MdBackend, MdRetention, ::testing::Values("convert", "exchange"),
                         [](const auto& info) { return info.param; });

TEST_P(MdRetention, ExpiredDaysGoToTheBinMarkedAreArchivedAndPurgedAfterRecycleDays) {
  ASSERT_TRUE(db_.Exec(DailyTable("ev")));
  ASSERT_TRUE(db_.Exec(DailyRows("ev")));
  const std::string first = Digest("ev", "p20240101"), second = Digest("ev", "p20240102");
  Configure(Dataset("events", "ev", "created_at",
                    {"interval: 1 day", "premake: 1", "partition_name: 'p{start}'",
                     "retention: 30 days", "archive_to: cold", "recycle_days: 7"}));

  // At 2 February the cutoff is 3 January: the first two days expire.
  MariaDbStatementLog log(db_.name());
  ASSERT_TRUE(log.ok());
  Apply("2024-02-02T00:00:00Z");
  const std::vector<std::string> sent = log.Statements();
  ExpectDetachedBy(sent, "ev", "p20240101");
  ExpectDetachedBy(sent, "ev", "p20240102");
  EXPECT_THAT(
      db_.Partitions("ev"),
      ElementsAre(Part("p20240103", ToDays("2024-01-04")), Part("p20240104", ToDays("2024-01-05")),
                  Part("p20240105", ToDays("2024-02-01")), Part("p20240201", ToDays("2024-02-02")),
                  Part("p20240202", ToDays("2024-02-03")), Part("p20240203", ToDays("2024-02-04")),
                  Part("pmax", "MAXVALUE")));
  const std::string bin1 = BinName("ev", "p20240101", "20240209_000000");
  EXPECT_THAT(Bin(), ElementsAre(bin1, BinName("ev", "p20240102", "20240209_000000")));
  EXPECT_EQ(db_.RowsDigest("tidemark_recycle", bin1), first);
  EXPECT_EQ(db_.RowsDigest("tidemark_recycle", BinName("ev", "p20240102", "20240209_000000")),
            second);
  const nlohmann::json mark = Mark("tidemark_recycle", bin1);
  ASSERT_TRUE(mark.is_object()) << Comment("tidemark_recycle", bin1);
  EXPECT_EQ(mark["dataset"], "events");
  EXPECT_EQ(mark["parent_schema"], db_.name());
  EXPECT_EQ(mark["parent"], "ev");
  EXPECT_EQ(mark["partition"], "p20240101");
  EXPECT_EQ(mark["removed_at"], "2024-02-02T00:00:00Z");
  EXPECT_EQ(mark["bound"], ToDays("2024-01-02"));
  EXPECT_EQ(mark["detached"], false);

  EXPECT_THAT(ArchiveFiles("events", "p20240101"), ElementsAre("data.tsv.zst", "manifest.json"));
  const nlohmann::json manifest = Manifest("events", "p20240101");
  ASSERT_TRUE(manifest.is_object());
  EXPECT_EQ(manifest["table"]["rows"], 10);
  EXPECT_EQ(manifest["table"]["format"], "mariadb-load-data-text");
  EXPECT_EQ(manifest["table"]["bounds"], ToDays("2024-01-02"));
  EXPECT_THAT(manifest["table"]["ddl"].get<std::string>(), HasSubstr("`note` varchar(40)"));

  // Within 7 days the bin keeps them (two more days expire meanwhile); past them the
  // first two are dropped, their archives stay.
  Apply("2024-02-05T00:00:00Z");
  EXPECT_EQ(Bin().size(), 4u);
  Apply("2024-02-10T00:00:00Z");
  EXPECT_THAT(Bin(), ElementsAre(BinName("ev", "p20240103", "20240212_000000"),
                                 BinName("ev", "p20240104", "20240212_000000")));
  EXPECT_THAT(ArchiveFiles("events", "p20240101"), ElementsAre("data.tsv.zst", "manifest.json"));
  EXPECT_EQ(db_.CountRows("ev"), 0);
}

// Ids expire once the newest row of their partition (by dated_by) is past retention.
TEST_P(MdRetention, IdPartitionsExpireByTheirNewestDatedByRow) {
  ASSERT_TRUE(db_.Exec(
      "CREATE TABLE rd (id BIGINT NOT NULL PRIMARY KEY, created_at DATETIME NOT NULL) PARTITION "
      "BY RANGE (id) (PARTITION p0 VALUES LESS THAN (1000), PARTITION p1000 VALUES LESS THAN "
      "(2000), PARTITION p2000 VALUES LESS THAN (3000), PARTITION pmax VALUES LESS THAN "
      "MAXVALUE)"));
  // p0: 1-5 January; p1000: 10 January and one row on the 25th; p2000: February.
  ASSERT_TRUE(db_.Exec(
      "INSERT INTO rd VALUES (1, '2024-01-01 00:00:00'), (999, '2024-01-05 00:00:00'), (1000, "
      "'2024-01-10 00:00:00'), (1998, '2024-01-10 06:00:00'), (1999, '2024-01-25 00:00:00'), "
      "(2000, '2024-02-01 00:00:00'), (2500, '2024-02-19 00:00:00')"));
  const std::string p0 = Digest("rd", "p0");
  Configure(Dataset("readings", "rd", "id",
                    {"strategy: id", "interval: 1000", "premake: 1", "dated_by: created_at",
                     "retention: 30 days", "archive_to: cold", "recycle_days: 7"}));

  // Cutoff 21 January: p0 is past it; p1000's newest row (the 25th) is not.
  MariaDbStatementLog log(db_.name());
  ASSERT_TRUE(log.ok());
  Apply("2024-02-20T00:00:00Z");
  ExpectDetachedBy(log.Statements(), "rd", "p0");
  EXPECT_THAT(db_.Partitions("rd"),
              ElementsAre(Part("p1000", "2000"), Part("p2000", "3000"), Part("rd_p3000", "4000"),
                          Part("pmax", "MAXVALUE")));
  const std::string bin = BinName("rd", "p0", "20240227_000000");
  EXPECT_THAT(Bin(), ElementsAre(bin));
  EXPECT_EQ(db_.RowsDigest("tidemark_recycle", bin), p0);
  const nlohmann::json mark = Mark("tidemark_recycle", bin);
  ASSERT_TRUE(mark.is_object()) << Comment("tidemark_recycle", bin);
  EXPECT_EQ(mark["bound"], "1000");
  EXPECT_EQ(Manifest("readings", "p0")["table"]["rows"], 2);

  // A week later p1000 follows; p0 is purged after its recycle days.
  Apply("2024-02-28T00:00:00Z");
  EXPECT_THAT(Bin(), ElementsAre(BinName("rd", "p1000", "20240306_000000")));
  EXPECT_EQ(db_.Partitions("rd").front(), Part("p2000", "3000"));
  EXPECT_EQ(Manifest("readings", "p1000")["table"]["rows"], 3);
}

// ---------------------------------------------------------------------------
// Restore: every byte back, from the bin and from the archive, in place and --to

class MdBackendRestore : public MdBackend {
 protected:
  // nt: three days of rows whose text and bytes are every kind LOAD DATA text must
  // escape; 1 and 2 January expire at 2 February.
  void SetUp() override {
    MdBackend::SetUp();
    std::string all_bytes, tricky =
                               "emoji \xF0\x9F\xA6\x80 and \xF0\x9F\x91\xA9\xE2\x80\x8D"
                               "\xF0\x9F\x91\xA7, tab\there, newline\nthere, CR\r, "
                               "backslash \\ and \\N and \\\\, NUL ";
    tricky += '\0';
    tricky += " byte, quotes ' \" and a trailing backslash \\";
    for (int b = 0; b < 256; ++b) all_bytes += static_cast<char>(b);
    std::string reversed(all_bytes.rbegin(), all_bytes.rend());
    ASSERT_TRUE(db_.Exec(
        "CREATE TABLE nt (id BIGINT NOT NULL, created_at DATETIME NOT NULL, body TEXT, raw "
        "BLOB, tag VARBINARY(300), PRIMARY KEY (id, created_at)) DEFAULT CHARSET = utf8mb4 "
        "PARTITION BY RANGE (TO_DAYS(created_at)) (PARTITION p20240101 VALUES LESS THAN "
        "(TO_DAYS('2024-01-02')), PARTITION p20240102 VALUES LESS THAN (TO_DAYS('2024-01-03')), "
        "PARTITION p20240103 VALUES LESS THAN (TO_DAYS('2024-02-03')), PARTITION pmax VALUES "
        "LESS THAN MAXVALUE)"));
    const std::string text = "_utf8mb4 X'" + Hex(tricky) + "'";
    const std::string bytes = "X'" + Hex(all_bytes) + "'", back = "X'" + Hex(reversed) + "'";
    for (const char* day : {"2024-01-01", "2024-01-02", "2024-01-03"}) {
      const std::string id = std::string(day).substr(9) + "0", at = std::string("'") + day;
      ASSERT_TRUE(db_.Exec("INSERT INTO nt VALUES (" + id + "1, " + at + " 01:00:00', " + text +
                           ", " + bytes + ", " + back + "), (" + id + "2, " + at +
                           " 02:00:00', NULL, NULL, NULL), (" + id + "3, " + at +
                           " 03:00:00', '', X'', X''), (" + id + "4, " + at +
                           " 04:00:00', '\\\\N', X'5C4E', 'NULL')"));
    }
    first_ = Digest("nt", "p20240101");
    second_ = Digest("nt", "p20240102");
    ASSERT_EQ(first_.substr(0, 2), "4 ");
    Configure(Dataset("notes", "nt", "created_at",
                      {"interval: 1 day", "premake: 1", "partition_name: 'p{start}'",
                       "retention: 30 days", "archive_to: cold", "recycle_days: 7"}));
    Apply("2024-02-02T00:00:00Z");
    ASSERT_THAT(db_.Partitions("nt").front(), Part("p20240103", ToDays("2024-02-03")));
  }

  // Restores `partition` and expects success.
  void Restore(const std::vector<std::string>& more) {
    std::vector<std::string> args = {"restore", "--dataset", "notes"};
    args.insert(args.end(), more.begin(), more.end());
    CommandResult restore = Tidemark(args);
    ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
  }

  // p20240101 back in its place: split out of p20240103, with every row.
  void ExpectFirstDayInPlace() {
    EXPECT_THAT(db_.Partitions("nt"),
                ElementsAre(Part("p20240101", ToDays("2024-01-02")),
                            Part("p20240103", ToDays("2024-02-03")),
                            Part("p20240203", ToDays("2024-02-04")), Part("pmax", "MAXVALUE")));
    EXPECT_EQ(Digest("nt", "p20240101"), first_);
    EXPECT_EQ(db_.CountRows("nt", "p20240103"), 4);
  }

  std::string first_, second_;
};

TEST_F(MdBackendRestore, FromTheBinInPlaceAndToATableGivesBackEveryByte) {
  Restore({"--partition", "p20240101", "--from", "bin"});
  ExpectFirstDayInPlace();
  Restore({"--partition", "p20240102", "--to", db_.name() + ".second_day"});
  EXPECT_EQ(Digest("second_day"), second_);
  EXPECT_EQ(Comment(db_.name(), "second_day"), "") << "the bin's mark is gone";
  EXPECT_THAT(Bin(), IsEmpty());
  // Held: the next apply does not expire the day put back again.
  Apply("2024-02-02T00:00:00Z", {"--force-run"});
  EXPECT_EQ(Digest("nt", "p20240101"), first_);
}

TEST_F(MdBackendRestore, FromTheArchiveInPlaceAndToATableGivesBackEveryByte) {
  Restore({"--partition", "p20240101", "--from", "archive"});
  ExpectFirstDayInPlace();
  Restore({"--partition", "p20240102", "--from", "archive", "--to", "second_day"});
  EXPECT_EQ(Digest("second_day"), second_);
  EXPECT_EQ(Comment(db_.name(), "second_day"), "");
  EXPECT_THAT(db_.Partitions("second_day"), IsEmpty()) << "a plain table, as archived";
  // The archive was read; the bin still holds both days.
  EXPECT_EQ(Bin().size(), 2u);
}

// ---------------------------------------------------------------------------
// Bad input

TEST_F(MdBackend, RefusesTablesThatAreNotRangePartitionedOrHaveNoMaxvalueTail) {
  ASSERT_TRUE(db_.Exec("CREATE TABLE plain (id BIGINT PRIMARY KEY, created_at DATETIME)"));
  ASSERT_TRUE(db_.Exec(
      "CREATE TABLE by_hash (id BIGINT NOT NULL PRIMARY KEY, created_at DATETIME) PARTITION BY "
      "HASH (id) PARTITIONS 3"));
  ASSERT_TRUE(db_.Exec(
      "CREATE TABLE by_key (id BIGINT NOT NULL PRIMARY KEY, created_at DATETIME) PARTITION BY "
      "KEY (id) PARTITIONS 2"));
  ASSERT_TRUE(db_.Exec(
      "CREATE TABLE no_tail (id BIGINT NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (id, "
      "created_at)) PARTITION BY RANGE (TO_DAYS(created_at)) (PARTITION p20240101 VALUES LESS "
      "THAN (TO_DAYS('2024-01-02')))"));
  std::string datasets;
  for (const char* table : {"plain", "by_hash", "by_key", "no_tail"})
    datasets += Dataset(table, table, "created_at", {"interval: 1 day"});
  Configure(datasets);
  const std::string where = "table " + db_.name() + ".";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"plain", where + "plain on connection 'db' is not partitioned; tidemark manages "
                        "RANGE-partitioned tables"},
      {"by_hash", where + "by_hash on connection 'db' is partitioned by HASH; tidemark manages "
                          "RANGE and RANGE COLUMNS partitions"},
      {"by_key", where + "by_key on connection 'db' is partitioned by KEY; tidemark manages "
                         "RANGE and RANGE COLUMNS partitions"},
      {"no_tail", where + "no_tail on connection 'db' has no MAXVALUE partition at its end"},
  };
  for (const auto& [dataset, message] : cases) {
    CommandResult apply =
        Tidemark({"apply", "--now", "2024-01-01T00:00:00Z", "--dataset", dataset});
    EXPECT_EQ(apply.exit_code, 2) << dataset << ": " << apply.out << apply.err;
    EXPECT_THAT(apply.err, HasSubstr(message)) << dataset;
  }
  EXPECT_THAT(Tidemark({"plan", "--now", "2024-01-01T00:00:00Z", "--dataset", "no_tail"}).err,
              HasSubstr("ADD PARTITION (PARTITION pmax VALUES LESS THAN (MAXVALUE))"));
  EXPECT_THAT(db_.Partitions("no_tail"), ElementsAre(Part("p20240101", ToDays("2024-01-02"))));
  EXPECT_FALSE(fs::exists(ws_.runs()) && !fs::is_empty(ws_.runs())) << "no run file";
}

TEST_F(MdBackend, AMissingTableIsNamedWithTheTableThatDiffersOnlyByCase) {
  ASSERT_TRUE(db_.Exec(
      "CREATE TABLE Events (id BIGINT NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (id, "
      "created_at)) PARTITION BY RANGE (TO_DAYS(created_at)) (PARTITION pmax VALUES LESS THAN "
      "MAXVALUE)"));
  Configure(Dataset("events", "events", "created_at", {"interval: 1 day"}));
  CommandResult plan = Tidemark({"plan", "--now", "2024-01-01T00:00:00Z"});
  EXPECT_EQ(plan.exit_code, 2) << plan.out << plan.err;
  EXPECT_THAT(plan.err,
              HasSubstr("table " + db_.name() + ".events on connection 'db' does not exist"));
  EXPECT_THAT(plan.err, HasSubstr("did you mean " + db_.name() + ".Events"));
  EXPECT_THAT(plan.err, HasSubstr("names are taken as written, case included"));
}

TEST_F(MdBackend, RetentionOnIdsWithoutDatedByIsRefused) {
  ASSERT_TRUE(db_.Exec(
      "CREATE TABLE rd (id BIGINT NOT NULL PRIMARY KEY) PARTITION BY RANGE (id) (PARTITION p0 "
      "VALUES LESS THAN (1000), PARTITION pmax VALUES LESS THAN MAXVALUE)"));
  Configure(
      Dataset("readings", "rd", "id", {"strategy: id", "interval: 1000", "retention: 30 days"}));
  CommandResult apply = Tidemark({"apply", "--now", "2024-01-01T00:00:00Z"});
  EXPECT_EQ(apply.exit_code, 2) << apply.out << apply.err;
  EXPECT_THAT(apply.err, HasSubstr("is partitioned by ids, so retention needs dated_by"));
  EXPECT_THAT(db_.Partitions("rd"), ElementsAre(Part("p0", "1000"), Part("pmax", "MAXVALUE")));
}

// A throwaway account on the test server with only the grants a test gives it, dropped
// at the end; ConfigureAs writes the configuration so that tidemark connects as it.
class Account {
 public:
  Account(MariaDbTestDatabase& db, const std::string& prefix)
      : db_(db),
        user_(prefix + util::RandomHex(6)),
        password_(util::RandomHex(16)),
        account_(sql::QuoteMariaDbLiteral(user_) + "@'%'") {
    created_ = db_.Exec("CREATE USER " + account_ + " IDENTIFIED BY " +
                        sql::QuoteMariaDbLiteral(password_));
  }
  ~Account() { db_.Exec("DROP USER IF EXISTS " + account_); }
  bool ok() const { return created_; }
  const std::string& user() const { return user_; }
  const std::string& password() const { return password_; }

  // GRANT `privileges` ON `database`.* (the test's database when empty).
  bool Grant(const std::string& privileges, const std::string& database = "") {
    return db_.Exec("GRANT " + privileges + " ON " +
                    sql::QuoteMariaDbIdent(database.empty() ? db_.name() : database) + ".* TO " +
                    account_);
  }
  // tidemark.yaml with connection `db` logging in as this account (password in
  // kPasswordEnv), and `datasets`.
  void ConfigureAs(const Workspace& ws, const std::string& datasets) const {
    std::string url = db_.url();
    url.replace(url.find("://") + 3, url.find('@') - url.find("://") - 3, user_);
    std::string yaml = MariaDbConfigYaml(url, datasets);
    yaml.replace(yaml.find(kTestMariaDbPasswordEnv), std::string(kTestMariaDbPasswordEnv).size(),
                 kPasswordEnv);
    WriteFile(ws.config(), yaml);
  }
  std::map<std::string, std::string> Env() const { return {{kPasswordEnv, password_}}; }

  static constexpr char kPasswordEnv[] = "TM_ACCOUNT_PASSWORD";

 private:
  MariaDbTestDatabase& db_;
  std::string user_, password_, account_;
  bool created_ = false;
};

// An account that may only read is told, at the statement that needs more, which
// privilege the server refused and what tidemark needs.
TEST_F(MdBackend, AMissingPrivilegeIsNamedWithWhatTheAccountNeeds) {
  ASSERT_TRUE(db_.Exec(
      "CREATE TABLE ev (id BIGINT NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (id, "
      "created_at)) PARTITION BY RANGE (TO_DAYS(created_at)) (PARTITION p20240101 VALUES LESS "
      "THAN (TO_DAYS('2024-01-02')), PARTITION pmax VALUES LESS THAN MAXVALUE)"));
  Account guest(db_, "tm_ro_");
  ASSERT_TRUE(guest.ok());
  ASSERT_TRUE(guest.Grant("SELECT"));
  guest.ConfigureAs(ws_, Dataset("events", "ev", "created_at", {"interval: 1 day", "premake: 1"}));
  const std::string user = guest.user(), password = guest.password();
  const std::map<std::string, std::string> env = guest.Env();
  const std::string needs =
      "the account of connection 'db' needs SELECT, INSERT, ALTER, DROP, "
      "CREATE and LOCK TABLES on " +
      db_.name();

  CommandResult no_lock = Tidemark({"apply", "--now", "2024-01-01T10:00:00Z"}, env);
  EXPECT_EQ(no_lock.exit_code, 1) << no_lock.out << no_lock.err;
  EXPECT_THAT(no_lock.err, HasSubstr("LOCK TABLES `" + db_.name() + "`.`ev` WRITE: Access denied"));
  EXPECT_THAT(no_lock.err, HasSubstr(needs));
  ASSERT_TRUE(guest.Grant("LOCK TABLES"));
  CommandResult no_alter = Tidemark({"apply", "--now", "2024-01-01T10:00:00Z", "--force-run"}, env);
  EXPECT_EQ(no_alter.exit_code, 1) << no_alter.out << no_alter.err;
  EXPECT_THAT(no_alter.err, HasSubstr("ALTER command denied to user '" + user + "'"));
  EXPECT_THAT(no_alter.err, HasSubstr(needs));
  for (const CommandResult* run : {&no_lock, &no_alter})
    EXPECT_THAT(run->out + run->err, Not(HasSubstr(password)));
  EXPECT_THAT(db_.Partitions("ev"),
              ElementsAre(Part("p20240101", ToDays("2024-01-02")), Part("pmax", "MAXVALUE")));
}

TEST_F(MdBackend, TheGrantsTheDocsListAreEnoughForEveryStep) {
  // docs/mariadb.md, Privileges: with exactly these grants (and tidemark_recycle made by
  // the DBA), partitions are added, expire into the bin, are archived, purged, and
  // restored in place and --to.
  ASSERT_TRUE(db_.Exec(
      "CREATE TABLE ev (id BIGINT NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (id, "
      "created_at)) PARTITION BY RANGE (TO_DAYS(created_at)) (PARTITION p20240101 VALUES LESS "
      "THAN (TO_DAYS('2024-01-02')), PARTITION p20240102 VALUES LESS THAN "
      "(TO_DAYS('2024-01-03')), PARTITION pmax VALUES LESS THAN MAXVALUE)"));
  ASSERT_TRUE(
      db_.Exec("INSERT INTO ev VALUES (1, '2024-01-01 10:00:00'), (2, '2024-01-02 "
               "10:00:00')"));
  ASSERT_TRUE(db_.Exec("CREATE DATABASE IF NOT EXISTS tidemark_recycle"));
  Account ops(db_, "tm_ops_");
  ASSERT_TRUE(ops.ok());
  for (const char* database : {"", "tidemark_recycle"}) {
    ASSERT_TRUE(ops.Grant("SELECT, INSERT, CREATE, ALTER, DROP, LOCK TABLES", database));
  }
  ops.ConfigureAs(ws_, Dataset("events", "ev", "created_at",
                               {"interval: 1 day", "premake: 1", "partition_name: 'p{start}'",
                                "retention: 2 days", "archive_to: cold", "recycle_days: 0"}));
  const std::map<std::string, std::string> env = ops.Env();
  auto run = [&](const std::vector<std::string>& args) {
    CommandResult result = ws_.Tidemark(args, env);
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  };
  run({"apply", "--now", "2024-01-05T10:00:00Z"});
  EXPECT_EQ(db_.CountRows("ev"), 0);
  run({"restore", "--dataset", "events", "--partition", "p20240101"});
  run({"restore", "--dataset", "events", "--partition", "p20240102", "--to", "jan2"});
  EXPECT_EQ(db_.CountRows("ev"), 1);
  EXPECT_EQ(db_.CountRows("jan2"), 1);
}

// ---------------------------------------------------------------------------
// Metrics

TEST_F(MdBackend, MetricsDirHoldsThePrometheusFileOfTheDataset) {
  ASSERT_TRUE(db_.Exec(DailyTable("ev")));
  Configure(Dataset("events", "ev", "created_at",
                    {"interval: 1 day", "premake: 2", "partition_name: 'p{start}'"}),
            "metrics_dir: metrics\n");
  const std::string path = ws_.dir() + "/metrics/tidemark_events.prom";
  const std::string labels = "{dataset=\"events\",lifecycle=\"main\",storage=\"main\"}";
  Apply("2024-02-01T10:00:00Z");
  const std::string applied = ReadFile(path);
  EXPECT_THAT(applied, HasSubstr("\ntidemark_last_run_success{dataset=\"events\"} 1\n"));
  EXPECT_THAT(applied,
              HasSubstr("\ntidemark_steps{dataset=\"events\",action=\"create_partition\"} 3\n"));
  EXPECT_THAT(
      applied,
      HasSubstr("\ntidemark_step_failures{dataset=\"events\",action=\"create_partition\"} 0\n"));
  EXPECT_THAT(applied, HasSubstr("# TYPE tidemark_step_seconds gauge"));
  // The table as the steps left it: eight partitions, the tail aside; ages and times
  // by --now.
  EXPECT_THAT(applied, HasSubstr("\ntidemark_partitions" + labels + " 8\n")) << applied;
  EXPECT_THAT(applied, HasSubstr("\ntidemark_last_run_timestamp_seconds{dataset=\"events\"} " +
                                 std::to_string(1706781600) + "\n"))
      << applied;
  // The same after a run with nothing to do, and after a run file planned before.
  Apply("2024-02-01T10:00:00Z", {"--force-run"});
  const std::string idle = ReadFile(path);
  EXPECT_THAT(idle, HasSubstr("\ntidemark_partitions" + labels + " 8\n")) << idle;
  EXPECT_THAT(idle, HasSubstr("\ntidemark_oldest_partition_age_seconds" + labels + " ")) << idle;
  ASSERT_TRUE(
      db_.Exec("ALTER TABLE ev REORGANIZE PARTITION p20240203, pmax INTO "
               "(PARTITION pmax VALUES LESS THAN MAXVALUE)"));
  ASSERT_EQ(Tidemark({"plan", "--now", "2024-02-01T10:00:00Z"}).exit_code, 0);
  Apply("2024-02-01T10:00:00Z");
  EXPECT_THAT(ReadFile(path), HasSubstr("\ntidemark_partitions" + labels + " 8\n"));
}

}  // namespace
}  // namespace tidemark::testing
