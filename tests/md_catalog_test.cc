// Reading the catalog of a real MariaDB 10.11: partitions in order with the bounds and
// expressions the backend parses (md_bounds.h), for every form tidemark manages and
// the forms it refuses, in one query.

#include "tidemark/backend/mariadb/md_catalog.h"

#include "tests/support/mariadb_env.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tidemark/backend/mariadb/md_bounds.h"

namespace tidemark::testing {
namespace {

using backend::mariadb::KeyForm;
using backend::mariadb::ParseKey;
using backend::mariadb::ParseLessThan;
using backend::mariadb::ReadCatalog;
using backend::mariadb::TableInfo;

constexpr char kTables[] = R"SQL(
CREATE TABLE by_days (id BIGINT NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (id, created_at))
  PARTITION BY RANGE (TO_DAYS(created_at)) (
    PARTITION p20240101 VALUES LESS THAN (TO_DAYS('2024-01-02')),
    PARTITION p20240102 VALUES LESS THAN (TO_DAYS('2024-01-03')),
    PARTITION p_max VALUES LESS THAN MAXVALUE);
CREATE TABLE by_unix (id BIGINT NOT NULL, ts TIMESTAMP NOT NULL, PRIMARY KEY (id, ts))
  PARTITION BY RANGE (UNIX_TIMESTAMP(ts)) (
    PARTITION p20240101 VALUES LESS THAN (UNIX_TIMESTAMP('2024-01-02 00:00:00')),
    PARTITION p_max VALUES LESS THAN MAXVALUE);
CREATE TABLE by_columns (id BIGINT NOT NULL, day DATE NOT NULL, PRIMARY KEY (id, day))
  PARTITION BY RANGE COLUMNS (day) (
    PARTITION p20240101 VALUES LESS THAN ('2024-01-02'),
    PARTITION p_max VALUES LESS THAN (MAXVALUE));
CREATE TABLE by_id (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, v TEXT)
  PARTITION BY RANGE (id) (
    PARTITION p20240101 VALUES LESS THAN (1000),
    PARTITION p20240108 VALUES LESS THAN (2000),
    PARTITION p_max VALUES LESS THAN MAXVALUE);
CREATE TABLE by_hash (id BIGINT NOT NULL PRIMARY KEY) PARTITION BY HASH (id) PARTITIONS 3;
CREATE TABLE by_key (id BIGINT NOT NULL PRIMARY KEY) PARTITION BY KEY (id) PARTITIONS 2;
CREATE TABLE plain (id BIGINT NOT NULL PRIMARY KEY);
)SQL";

class MdCatalog : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok());
    conn_ = db_.Connect();
    ASSERT_NE(conn_, nullptr);
    std::string statement;
    for (char c : std::string(kTables)) {
      if (c != ';') {
        statement += c;
        continue;
      }
      ASSERT_TRUE(db_.Exec(statement));
      statement.clear();
    }
  }

  std::vector<TableInfo> Read(const std::vector<std::string>& names) {
    std::vector<core::TableName> tables;
    for (const std::string& name : names) tables.push_back({db_.name(), name});
    auto read = ReadCatalog(*conn_, tables);
    EXPECT_TRUE(read) << read.error().message();
    return read ? *read : std::vector<TableInfo>{};
  }

  MariaDbTestDatabase db_;
  std::unique_ptr<sql::MariaDbConnection> conn_;
};

TEST_F(MdCatalog, EveryFormTidemarkManagesWithItsBoundsInOrder) {
  const util::TimeZone utc = util::TimeZone::Utc();
  auto tables = Read({"by_days", "by_unix", "by_columns", "by_id"});
  ASSERT_EQ(tables.size(), 4u);
  const std::vector<KeyForm> forms = {KeyForm::kToDays, KeyForm::kUnixTimestamp, KeyForm::kColumns,
                                      KeyForm::kInteger};
  for (size_t i = 0; i < tables.size(); ++i) {
    const TableInfo& t = tables[i];
    ASSERT_TRUE(t.found) << t.table.name;
    ASSERT_FALSE(t.partitions.empty()) << t.table.name;
    EXPECT_EQ(ParseKey(t.partitions[0].method, t.partitions[0].expression).form, forms[i])
        << t.table.name << ": " << t.partitions[0].method << " " << t.partitions[0].expression;
    EXPECT_EQ(t.partitions.back().name, "p_max") << t.table.name;
    EXPECT_TRUE(ParseLessThan(t.partitions.back().less_than)->maxvalue) << t.table.name;
    // The first partition of each time table ends at 2024-01-02 00:00 UTC.
    if (forms[i] != KeyForm::kInteger) {
      auto end =
          backend::mariadb::BoundInstant(*ParseLessThan(t.partitions[0].less_than), forms[i], utc);
      EXPECT_EQ(end, util::ParseInstant("2024-01-02T00:00:00Z"))
          << t.table.name << ": " << t.partitions[0].less_than;
    }
  }
  EXPECT_EQ(tables[0].columns.at("created_at"), "datetime");
  EXPECT_EQ(tables[1].columns.at("ts"), "timestamp");
  EXPECT_EQ(tables[2].columns.at("day"), "date");
  ASSERT_EQ(tables[3].partitions.size(), 3u);
  EXPECT_EQ(tables[3].partitions[1].name, "p20240108");
  EXPECT_EQ(ParseLessThan(tables[3].partitions[1].less_than)->integer, 2000);
}

TEST_F(MdCatalog, RefusedFormsAndMissingTablesAreToldApart) {
  auto tables = Read({"by_hash", "by_key", "plain", "missing", "BY_ID"});
  ASSERT_EQ(tables.size(), 5u);
  EXPECT_TRUE(tables[0].found);
  EXPECT_EQ(ParseKey(tables[0].partitions[0].method, tables[0].partitions[0].expression).form,
            KeyForm::kOther);
  EXPECT_EQ(tables[0].partitions.size(), 3u);
  EXPECT_EQ(tables[1].partitions[0].method, "KEY");
  EXPECT_TRUE(tables[2].found);
  EXPECT_TRUE(tables[2].partitions.empty()) << "not partitioned";
  EXPECT_FALSE(tables[3].found);
  EXPECT_FALSE(tables[4].found) << "names are taken as written, case included";
}

TEST_F(MdCatalog, RowEstimatesFollowTheData) {
  ASSERT_TRUE(db_.Exec("INSERT INTO by_id (id, v) SELECT seq, 'x' FROM seq_1_to_1500"));
  ASSERT_TRUE(db_.Exec("ANALYZE TABLE by_id"));
  auto tables = Read({"by_id"});
  ASSERT_EQ(tables.size(), 1u);
  ASSERT_EQ(tables[0].partitions.size(), 3u);
  EXPECT_GT(tables[0].partitions[0].rows, 0);
  EXPECT_GT(tables[0].partitions[0].bytes, 0);
  EXPECT_EQ(tables[0].partitions[2].rows, 0);
}

}  // namespace
}  // namespace tidemark::testing
