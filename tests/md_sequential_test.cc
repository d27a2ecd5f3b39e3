// Strategy sequential on a real MariaDB 10.11, end to end: tables partitioned by
// AUTO_INCREMENT-like ids, filled by synthetic insert histories (a constant rate, a step
// change, steady growth) whose ids are known at every instant. tidemark predicts when
// each empty partition starts to fill and lays them out ahead; the tests continue the
// same history in the table and compare each predicted boundary with the id the
// history really reached at the predicted date. Every statement tidemark sends is read
// back from the server's general log: it reorganizes only partitions that were empty,
// and the partitions holding rows keep their rows and bounds.

#include <cmath>
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

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr int64_t kWeek = 7 * 86400;

// An insert history: `ids(w)` ids were used `w` weeks after 1 January 2024, 00:00 UTC.
struct History {
  std::string name;
  double (*ids)(double weeks);
  bool dated_by = false;  // partitions named part00…, dated by created_at instead
};

void PrintTo(const History& history, std::ostream* out) { *out << history.name; }

double Constant(double w) { return 100000 * w; }
// 50,000 ids a week until 5 February (week 5), then 150,000.
double StepChange(double w) { return 50000 * std::min(w, 5.0) + 150000 * std::max(0.0, w - 5); }
// 50,000 ids a week at first, 20,000 more each week.
double SteadyGrowth(double w) { return 50000 * w + 10000 * w * w; }

util::Instant At(const std::string& text) { return *util::ParseInstant(text); }
const util::Instant kStart = At("2024-01-01T00:00:00Z");
const util::Instant kNow = At("2024-02-28T12:00:00Z");

// The id the history gives the row inserted at `t`.
int64_t IdAt(const History& history, util::Instant t) {
  return 1 + static_cast<int64_t>(std::floor(history.ids((t - kStart).count() / double(kWeek))));
}

// "YYYY-MM-DD HH:MM:SS" (UTC), for DATETIME values.
std::string Civil(util::Instant t) { return util::FormatCompactUtc(t, "%Y-%m-%d %H:%M:%S"); }

// One row an hour from `from` to `to`, both included, as the history numbers them.
std::string InsertHours(const History& history, util::Instant from, util::Instant to) {
  std::string sql = "INSERT INTO orders (id, created_at) VALUES ";
  for (util::Instant t = from; t <= to; t += std::chrono::hours(1)) {
    sql += (t == from ? "(" : ", (") + std::to_string(IdAt(history, t)) + ", '" + Civil(t) + "')";
  }
  return sql;
}

// orders: eight weeks that filled (weekly partitions, each ending where the history was
// at the next week's start), the active week (begun 26 February, sized for 100,000
// ids), one empty partition ahead of the wrong size and date, the MAXVALUE tail, and a
// row every hour from 1 January to now.
std::string OrdersTable(const History& history) {
  std::string parts;
  for (int week = 0; week <= 8; ++week) {
    const util::Instant start = kStart + std::chrono::seconds(week * kWeek);
    const int64_t end = week < 8 ? IdAt(history, start + std::chrono::seconds(kWeek))
                                 : IdAt(history, start) + 100000;
    const std::string name = history.dated_by ? "part0" + std::to_string(week)
                                              : util::FormatCompactUtc(start, "p%Y%m%d");
    parts += "PARTITION " + name + " VALUES LESS THAN (" + std::to_string(end) + "), ";
  }
  return "CREATE TABLE orders (id BIGINT NOT NULL PRIMARY KEY, created_at DATETIME NOT NULL) "
         "PARTITION BY RANGE (id) (" +
         parts + "PARTITION p20240401 VALUES LESS THAN (" +
         std::to_string(IdAt(history, kStart + std::chrono::seconds(8 * kWeek)) + 400000) +
         "), PARTITION pmax VALUES LESS THAN MAXVALUE)";
}

std::string Dataset(const std::string& name, const std::string& table, const std::string& key,
                    const std::vector<std::string>& keys) {
  std::string yaml = "  " + name + ":\n    storage: { connection: db, table: '" + table +
                     "' }\n    partition_by: " + key + "\n";
  for (const std::string& line : keys) yaml += "    " + line + "\n";
  return yaml;
}

class MdBackendSequential : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(db_.ok()); }

  void Configure(const std::string& datasets) {
    WriteFile(ws_.config(), MariaDbConfigYaml(db_.url(), datasets));
  }
  CommandResult Tidemark(const std::vector<std::string>& args) {
    return ws_.Tidemark(args, {{kTestMariaDbPasswordEnv, TestMariaDbServer().password}});
  }
  // "action: about" of the only step of the only run file.
  std::string StepAbout() {
    std::vector<fs::path> runs;
    for (const auto& entry : fs::directory_iterator(ws_.runs())) runs.push_back(entry.path());
    if (runs.size() != 1) return "<" + std::to_string(runs.size()) + " run files>";
    auto run = nlohmann::json::parse(ReadFile(runs.front().string()), nullptr, false);
    if (run.is_discarded() || run["steps"].size() != 1) return "<not one step>";
    return run["steps"][0]["action"].get<std::string>() + ": " +
           run["steps"][0]["about"].get<std::string>();
  }
  // The largest id of a row created at `t` or before.
  int64_t IdReachedAt(util::Instant t) {
    sql::MariaDbRows rows =
        db_.Query("SELECT MAX(id) FROM orders WHERE created_at <= '" + Civil(t) + "'");
    return rows.rows() == 1 ? rows.Int(0, 0) : -1;
  }

  MariaDbTestDatabase db_;
  Workspace ws_;
};

class MdSequentialHistory : public MdBackendSequential,
                            public ::testing::WithParamInterface<History> {};

// (Named MdBackend/…, so that --gtest_filter='MdBackend*' runs every test of the backend.)
INSTANTIATE_TEST_SUITE_P(MdBackend, MdSequentialHistory,
                         ::testing::Values(History{"constant_rate", Constant},
                                           History{"step_change", StepChange},
                                           History{"steady_growth", SteadyGrowth},
                                           History{"steady_growth_dated_by", SteadyGrowth, true}),
                         [](const auto& info) { return info.param.name; });

TEST_P(MdSequentialHistory, PredictedBoundariesMeetTheIdsTheHistoryReachesAtTheirDates) {
  const History& history = GetParam();
  ASSERT_TRUE(db_.Exec(OrdersTable(history)));
  ASSERT_TRUE(db_.Exec(InsertHours(history, kStart, kNow)));
  const std::string active = history.dated_by ? "part08" : "p20240226";
  const int64_t largest = IdAt(history, kNow);
  Configure(Dataset("orders", "orders", "id",
                    {"strategy: sequential", "interval: 7 days", "premake: 3",
                     history.dated_by ? "dated_by: created_at" : ""}));
  const std::map<std::string, std::string> before = db_.PartitionContents("orders");

  MariaDbStatementLog log(db_.name());
  ASSERT_TRUE(log.ok());
  CommandResult apply = Tidemark({"apply", "--now", util::FormatInstant(kNow)});
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  const std::vector<std::string> sent = log.Statements();

  // On the SQL: one REORGANIZE, of partitions that were empty (counted exactly).
  EXPECT_THAT(ReorganizedPartitions(sent), ElementsAre("p20240401", "pmax"))
      << ::testing::PrintToString(sent);
  for (const std::string& name : ReorganizedPartitions(sent)) {
    EXPECT_TRUE(util::StartsWith(before.at(name), "0 rows ")) << name << ": " << before.at(name);
  }
  // On information_schema: every partition that held rows is there as it was.
  const std::map<std::string, std::string> after = db_.PartitionContents("orders");
  for (const auto& [name, contents] : before) {
    if (util::StartsWith(contents, "0 rows ")) continue;
    EXPECT_EQ(after.count(name) ? after.at(name) : "<gone>", contents) << name;
  }

  // Three empty partitions after the active one, then the tail; each named for the day
  // it is predicted to start filling, a week after the one before.
  const std::vector<std::string> layout = db_.Partitions("orders");
  ASSERT_THAT(layout, SizeIs(9 + 3 + 1)) << ::testing::PrintToString(layout);
  EXPECT_EQ(layout[8].substr(0, layout[8].find('<')), active);
  EXPECT_EQ(layout.back(), "pmax<MAXVALUE");
  const std::string about = StepAbout();
  EXPECT_TRUE(util::StartsWith(about, "reorganize_ahead: lay out 3 empty partition(s)")) << about;
  const size_t at = about.find("starts filling about ");
  ASSERT_NE(at, std::string::npos) << about;
  const auto first_starts = util::ParseInstant(about.substr(at + 21, 20));
  ASSERT_TRUE(first_starts) << about;
  // The end of the active partition is reached when the first empty one starts; the
  // end of each empty one when the next starts, a week later.
  std::vector<std::pair<int64_t, util::Instant>> boundaries;  // an id and its predicted date
  for (int k = 0; k <= 3; ++k) {
    const std::string& part = layout[8 + k];
    const util::Instant ends = *first_starts + std::chrono::seconds(k * kWeek);
    if (k > 0) {
      const util::Instant starts = ends - std::chrono::seconds(kWeek);
      EXPECT_EQ(part.substr(0, 10), util::FormatCompactUtc(starts, "p%Y%m%d<")) << part;
    }
    boundaries.emplace_back(std::stoll(part.substr(part.find('<') + 1)), ends);
  }

  // The layout was close enough: planned again at once, nothing is to change.
  CommandResult again = Tidemark({"apply", "--now", util::FormatInstant(kNow), "--force-run"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("orders: nothing to do"));

  // The history goes on; each boundary is met within 5% of the ids used since now.
  ASSERT_TRUE(db_.Exec(InsertHours(history, kNow + std::chrono::hours(1),
                                   boundaries.back().second + std::chrono::hours(24))));
  for (const auto& [id, date] : boundaries) {
    const int64_t reached = IdReachedAt(date);
    EXPECT_NEAR(static_cast<double>(id), static_cast<double>(reached), 0.05 * (reached - largest))
        << "the boundary predicted for " << util::FormatInstant(date);
  }
}

// Ids that reached the MAXVALUE tail leave nothing empty to lay out: that dataset fails,
// saying so, and the others are applied.
TEST_F(MdBackendSequential, NoEmptyPartitionLeftFailsThatDatasetAndTheOthersAreApplied) {
  ASSERT_TRUE(db_.Exec(
      "CREATE TABLE orders (id BIGINT NOT NULL PRIMARY KEY, created_at DATETIME NOT NULL) "
      "PARTITION BY RANGE (id) (PARTITION p20240101 VALUES LESS THAN (1000), PARTITION p20240108 "
      "VALUES LESS THAN (2000), PARTITION pmax VALUES LESS THAN MAXVALUE)"));
  ASSERT_TRUE(db_.Exec(
      "INSERT INTO orders VALUES (1, '2024-01-01 00:00:00'), (1000, '2024-01-08 00:00:00'), "
      "(2500, '2024-01-16 00:00:00')"));
  ASSERT_TRUE(db_.Exec(
      "CREATE TABLE ev (id BIGINT NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (id, "
      "created_at)) PARTITION BY RANGE (TO_DAYS(created_at)) (PARTITION p20240115 VALUES LESS "
      "THAN (TO_DAYS('2024-01-16')), PARTITION pmax VALUES LESS THAN MAXVALUE)"));
  Configure(Dataset("orders", "orders", "id",
                    {"strategy: sequential", "interval: 7 days", "premake: 2"}) +
            Dataset("events", "ev", "created_at",
                    {"interval: 1 day", "premake: 1", "partition_name: 'p{start}'"}));
  const auto before = db_.PartitionContents("orders");

  CommandResult apply = Tidemark({"apply", "--now", "2024-01-16T12:00:00Z"});
  EXPECT_EQ(apply.exit_code, 1) << apply.out << apply.err;
  EXPECT_THAT(apply.err, HasSubstr("orders: "));
  EXPECT_THAT(apply.err, HasSubstr("no empty partition is left: the largest id, 2500, is in the "
                                   "MAXVALUE partition"));
  EXPECT_THAT(apply.err, HasSubstr("split it by hand"));
  EXPECT_EQ(db_.PartitionContents("orders"), before);
  EXPECT_THAT(db_.Partitions("ev"), ElementsAre("p20240115<739266", "p20240116<739267",
                                                "p20240117<739268", "pmax<MAXVALUE"));
}

// With dated_by, sequential ids expire by their newest row, in the same run that lays
// out the partitions ahead.
TEST_F(MdBackendSequential, DatedByPartitionsExpireWhileTheEmptyOnesAreLaidOutAhead) {
  const History history{"constant_rate", Constant, true};
  ASSERT_TRUE(db_.Exec(OrdersTable(history)));
  ASSERT_TRUE(db_.Exec(InsertHours(history, kStart, kNow)));
  const std::string part00 = db_.RowsDigest(db_.name(), "orders", "part00");
  Configure(
      Dataset("orders", "orders", "id",
              {"strategy: sequential", "interval: 7 days", "premake: 2", "dated_by: created_at",
               "retention: 40 days", "archive_to: cold", "recycle_days: 7"}));

  // Cutoff 19 January: the weeks of 1 and 8 January are past it (their newest rows are
  // the hours before the 8th and the 15th); the week of the 15th is not.
  CommandResult apply = Tidemark({"apply", "--now", util::FormatInstant(kNow)});
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  const std::vector<std::string> layout = db_.Partitions("orders");
  ASSERT_THAT(layout, SizeIs(7 + 2 + 1)) << ::testing::PrintToString(layout);
  EXPECT_EQ(layout.front().substr(0, 7), "part02<");
  EXPECT_EQ(layout[6].substr(0, 7), "part08<");
  const std::string bin = db_.name() + "__orders__part00__until_20240306_120000";
  sql::MariaDbRows binned = db_.Query(
      "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'tidemark_recycle' "
      "AND TABLE_NAME LIKE " +
      sql::QuoteMariaDbLiteral(db_.name() + "\\_\\_orders\\_\\_part0%") + " ORDER BY 1");
  ASSERT_EQ(binned.rows(), 2);
  EXPECT_EQ(binned.Text(0, 0), bin);
  EXPECT_EQ(db_.RowsDigest("tidemark_recycle", bin), part00);
  EXPECT_TRUE(fs::exists(ws_.archive() + "/orders/main/main/part00/data.tsv.zst"));
  EXPECT_EQ(db_.Query("SELECT 1 FROM orders WHERE created_at < '2024-01-15'").rows(), 0);
}

}  // namespace
}  // namespace tidemark::testing
