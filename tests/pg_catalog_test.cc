// Reading PostgreSQL's catalog against a real PostgreSQL 15: bounds decoded from the
// node tree equal the ones the server deparses, odd bounds fall back to the deparsed
// text, the catalog read in many pipelined queries equals the read in one, and a
// pipeline stops at its first error with the connection still usable.

#include "tidemark/backend/postgres/pg_catalog.h"

#include "tests/support/pg_env.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tidemark/backend/postgres/pg_bounds.h"

namespace tidemark::testing {
namespace {

using backend::postgres::Catalog;
using backend::postgres::ChildInfo;
using backend::postgres::DecodeNodeBound;
using backend::postgres::KeyBound;
using backend::postgres::KeyKind;
using backend::postgres::KeyKindOf;
using backend::postgres::ParseRangeBound;
using backend::postgres::ReadCatalog;
using backend::postgres::TextKeyBound;
using ::testing::HasSubstr;

// One table per key type, with partitions on both sides of 2000-01-01 (PostgreSQL's
// epoch), far in the past and future, negative ids, and a default partition.
constexpr char kTables[] = R"SQL(
CREATE TABLE tz (k timestamptz) PARTITION BY RANGE (k);
CREATE TABLE tz_a PARTITION OF tz FOR VALUES FROM ('1901-12-13 20:45:52+00') TO ('1999-12-31 23:00:00+00');
CREATE TABLE tz_b PARTITION OF tz FOR VALUES FROM ('1999-12-31 23:00:00+00') TO ('2000-01-01 01:00:00+00');
CREATE TABLE tz_c PARTITION OF tz FOR VALUES FROM ('2024-03-31 01:00:00+00') TO ('9999-12-31 00:00:00+00');
CREATE TABLE tz_d PARTITION OF tz DEFAULT;
CREATE TABLE ts (k timestamp) PARTITION BY RANGE (k);
CREATE TABLE ts_a PARTITION OF ts FOR VALUES FROM ('0001-01-01 00:00:00') TO ('1970-01-01 00:00:01');
CREATE TABLE ts_b PARTITION OF ts FOR VALUES FROM ('2024-10-27 02:00:00') TO ('2024-10-27 03:00:00');
CREATE TABLE d (k date) PARTITION BY RANGE (k);
CREATE TABLE d_a PARTITION OF d FOR VALUES FROM ('1600-02-29') TO ('2000-01-01');
CREATE TABLE d_b PARTITION OF d FOR VALUES FROM ('2000-01-01') TO ('2400-02-29');
CREATE TABLE i2 (k smallint) PARTITION BY RANGE (k);
CREATE TABLE i2_a PARTITION OF i2 FOR VALUES FROM (-32768) TO (32767);
CREATE TABLE i4 (k integer) PARTITION BY RANGE (k);
CREATE TABLE i4_a PARTITION OF i4 FOR VALUES FROM (-2147483648) TO (-1);
CREATE TABLE i4_b PARTITION OF i4 FOR VALUES FROM (-1) TO (2147483647);
CREATE TABLE i8 (k bigint) PARTITION BY RANGE (k);
CREATE TABLE i8_a PARTITION OF i8 FOR VALUES FROM (-9223372036854775807) TO (0);
CREATE TABLE i8_b PARTITION OF i8 FOR VALUES FROM (0) TO (9223372036854775807);
)SQL";

const std::vector<std::string> kTableNames = {"tz", "ts", "d", "i2", "i4", "i8"};

std::vector<core::TableName> Names(const std::vector<std::string>& names) {
  std::vector<core::TableName> tables;
  for (const std::string& name : names) tables.push_back({"public", name});
  return tables;
}

// "name [from, to)" or "name DEFAULT" or "name ? text": what a read found.
std::string Show(const ChildInfo& child) {
  if (!child.key_bound) return child.name + " ? " + child.bound;
  if (child.key_bound->is_default) return child.name + " DEFAULT";
  return child.name + " [" + std::to_string(child.key_bound->from) + ", " +
         std::to_string(child.key_bound->to) + ")";
}

std::vector<std::string> Show(const Catalog& catalog) {
  std::vector<std::string> lines;
  for (const auto& table : catalog.tables) {
    for (const ChildInfo& child : table.children) lines.push_back(Show(child));
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

class PgCatalog : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok());
    conn_ = db_.Connect();
    ASSERT_NE(conn_, nullptr);
  }

  PgTestDatabase db_;
  std::unique_ptr<sql::PqConnection> conn_;
};

TEST_F(PgCatalog, EveryBoundDecodedFromTheNodeTreeEqualsTheDeparsedOne) {
  ASSERT_TRUE(db_.Exec(kTables));
  sql::PqRows rows = db_.Query(
      "SELECT c.relname, format_type(a.atttypid, a.atttypmod), ch.relname, "
      "ch.relpartbound::text, pg_get_expr(ch.relpartbound, 0) "
      "FROM pg_class c JOIN pg_partitioned_table pt ON pt.partrelid = c.oid "
      "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = pt.partattrs[0] "
      "JOIN pg_inherits i ON i.inhparent = c.oid JOIN pg_class ch ON ch.oid = i.inhrelid "
      "ORDER BY 3");
  ASSERT_EQ(rows.rows(), 13);
  for (int r = 0; r < rows.rows(); ++r) {
    const KeyKind kind = KeyKindOf(rows.View(r, 1));
    auto decoded = DecodeNodeBound(rows.View(r, 3), kind);
    auto parsed = ParseRangeBound(rows.View(r, 4));
    ASSERT_TRUE(parsed) << rows.Text(r, 4);
    auto from_text = TextKeyBound(*parsed, kind);
    ASSERT_TRUE(decoded) << rows.Text(r, 2) << ": " << rows.Text(r, 3);
    ASSERT_TRUE(from_text) << rows.Text(r, 2) << ": " << rows.Text(r, 4);
    EXPECT_EQ(*decoded, *from_text) << rows.Text(r, 2) << ": " << rows.Text(r, 4);
  }
  // And the read that tidemark makes gives the same, in one query or one per table.
  auto whole = ReadCatalog(*conn_, Names(kTableNames));
  ASSERT_TRUE(whole) << whole.error().message();
  EXPECT_THAT(
      Show(*whole),
      ::testing::ElementsAre(
          "d_a [-11670998400, 946684800)", "d_b [946684800, 13574563200)", "i2_a [-32768, 32767)",
          "i4_a [-2147483648, -1)", "i4_b [-1, 2147483647)", "i8_a [-9223372036854775807, 0)",
          "i8_b [0, 9223372036854775807)", "ts_a [-62135596800, 1)",
          "ts_b [1729994400, 1729998000)", "tz_a [-2147483648, 946681200)",
          "tz_b [946681200, 946688400)", "tz_c [1711846800, 253402214400)", "tz_d DEFAULT"));
  for (const auto& table : whole->tables) {
    EXPECT_TRUE(table.found) << table.table.ToString();
    for (const ChildInfo& child : table.children) EXPECT_EQ(child.schema, "public");
  }
}

TEST_F(PgCatalog, ManyPipelinedQueriesReadWhatOneQueryReads) {
  ASSERT_TRUE(db_.Exec(kTables));
  std::vector<std::string> names = kTableNames;
  names.insert(names.begin() + 2, "missing");  // not found, in the middle of a chunk
  auto one = ReadCatalog(*conn_, Names(names), 100);
  auto many = ReadCatalog(*conn_, Names(names), 2);
  ASSERT_TRUE(one) << one.error().message();
  ASSERT_TRUE(many) << many.error().message();
  ASSERT_EQ(many->tables.size(), names.size());
  EXPECT_EQ(Show(*many), Show(*one));
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(many->tables[i].table.name, names[i]);
    EXPECT_EQ(many->tables[i].found, names[i] != "missing") << names[i];
    EXPECT_EQ(many->tables[i].children.size(), one->tables[i].children.size()) << names[i];
  }
}

TEST_F(PgCatalog, BoundsThatAreNotOneWholeValueEachSideAreReadDeparsed) {
  ASSERT_TRUE(db_.Exec(R"SQL(
CREATE TABLE odd (k timestamptz) PARTITION BY RANGE (k);
CREATE TABLE odd_a PARTITION OF odd FOR VALUES FROM (MINVALUE) TO ('2000-01-01 00:00:00.5+00');
CREATE TABLE odd_b PARTITION OF odd FOR VALUES FROM ('2000-01-01 00:00:00.5+00') TO ('2024-01-01 00:00:00+00');
CREATE TABLE odd_c PARTITION OF odd FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('infinity');
CREATE TABLE plain (k bigint) PARTITION BY RANGE (k);
CREATE TABLE plain_a PARTITION OF plain FOR VALUES FROM (1) TO (MAXVALUE);
CREATE TABLE plain_b PARTITION OF plain FOR VALUES FROM (MINVALUE) TO (1);
)SQL"));
  auto catalog = ReadCatalog(*conn_, Names({"odd", "plain", "i8"}), 1);
  ASSERT_TRUE(catalog) << catalog.error().message();
  EXPECT_THAT(
      Show(*catalog),
      ::testing::ElementsAre("odd_a ? FOR VALUES FROM (MINVALUE) TO ('2000-01-01 00:00:00.5+00')",
                             "odd_b ? FOR VALUES FROM ('2000-01-01 00:00:00.5+00') TO ('2024-01-01 "
                             "00:00:00+00')",
                             "odd_c ? FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('infinity')",
                             "plain_a ? FOR VALUES FROM ('1') TO (MAXVALUE)",
                             "plain_b ? FOR VALUES FROM (MINVALUE) TO ('1')"));
}

TEST_F(PgCatalog, APipelineHandsResultsInOrderAndStopsAtTheFirstError) {
  std::vector<std::pair<size_t, std::string>> seen;
  auto status = conn_->QueryEach({{"SELECT 'zero'", {}},
                                  {"SELECT $1::text || ' one'", {std::string("and")}},
                                  {"SELECT 1 / 0", {}},
                                  {"SELECT 'three'", {}}},
                                 [&](size_t index, const sql::PqRows& rows) -> util::Status {
                                   seen.emplace_back(index, rows.Text(0, 0));
                                   return {};
                                 });
  ASSERT_FALSE(status);
  EXPECT_THAT(status.error().message(), HasSubstr("division by zero"));
  EXPECT_THAT(seen, ::testing::ElementsAre(std::pair<size_t, std::string>{0, "zero"},
                                           std::pair<size_t, std::string>{1, "and one"}));
  // The connection is out of pipeline mode and usable.
  auto after = conn_->Query("SELECT 'after'");
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_EQ(after->Text(0, 0), "after");

  // A failure of the caller's own stops the handing, and the rest is drained.
  int handed = 0;
  status = conn_->QueryEach({{"SELECT 1", {}}, {"SELECT 2", {}}, {"SELECT 3", {}}},
                            [&](size_t, const sql::PqRows&) -> util::Status {
                              ++handed;
                              return util::StepError("enough");
                            });
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message(), "enough");
  EXPECT_EQ(handed, 1);
  after = conn_->Query("SELECT 'still'");
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_EQ(after->Text(0, 0), "still");
}

}  // namespace
}  // namespace tidemark::testing
