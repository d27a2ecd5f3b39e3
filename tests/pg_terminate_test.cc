// An operator ends tidemark's session (pg_terminate_backend) in the middle of an
// export: the step fails with exit code 1, nothing is dropped, and a rerun completes.

#include <chrono>
#include <thread>

#include "tests/support/pg_env.h"
#include "tests/support/tidemark_env.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tidemark::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kNow[] = "2024-03-01T10:00:00Z";
constexpr int kRows = 600000;

TEST(PgTerminate, ATerminatedExportFailsWithExitOneDropsNothingAndARerunCompletes) {
  PgTestDatabase db;
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(
      db.Exec("CREATE TABLE public.events (id bigint NOT NULL, created_at timestamptz NOT NULL, "
              "payload text) PARTITION BY RANGE (created_at);"
              "CREATE TABLE public.events_p20240101 PARTITION OF public.events "
              "  FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2024-01-02 00:00+00');"
              "CREATE TABLE public.events_p20240301 PARTITION OF public.events "
              "  FOR VALUES FROM ('2024-03-01 00:00+00') TO ('2024-03-02 00:00+00');"
              "INSERT INTO events SELECT g, '2024-01-01'::timestamptz + g * interval '100 ms', "
              "  repeat(md5(g::text), 6) FROM generate_series(1, " +
              std::to_string(kRows) + ") g"));
  Workspace ws;
  WriteFile(ws.config(), PgConfigYaml(db.url(),
                                      "  events:\n"
                                      "    storage: { connection: pg, table: public.events }\n"
                                      "    partition_by: created_at\n"
                                      "    retention: 30 days\n"
                                      "    archive_to: cold\n"
                                      "    recycle_days: 0\n"));
  const std::map<std::string, std::string> env = {{kTestPgPasswordEnv, TestPgServer().password}};

  CommandResult first;
  std::thread run([&] { first = ws.Tidemark({"apply", "--now", kNow, "--step-jobs", "1"}, env); });
  // Wait until the export streams, then end its session.
  bool terminated = false;
  for (int i = 0; i < 3000 && !terminated; ++i) {
    sql::PqRows rows = db.Query(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND state = 'active' "
        "AND query LIKE 'COPY %TO STDOUT' AND pid <> pg_backend_pid()",
        {db.name()});
    if (rows.rows() > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      sql::PqRows killed = db.Query("SELECT pg_terminate_backend($1::int)", {rows.Text(0, 0)});
      terminated = killed.rows() == 1 && killed.Bool(0, 0);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  run.join();
  ASSERT_TRUE(terminated) << "the export was never seen running: " << first.out << first.err;
  EXPECT_EQ(first.exit_code, 1) << first.out << first.err;
  EXPECT_THAT(first.out + first.err, HasSubstr("copy_to_archive"));
  EXPECT_THAT(first.out + first.err, HasSubstr("terminat"));

  // Nothing dropped: every row is still in the recycle bin; no archive vouches for it.
  sql::PqRows bin = db.Query(
      "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = 'tidemark_recycle'");
  ASSERT_EQ(bin.rows(), 1);
  sql::PqRows count = db.Query("SELECT count(*) FROM tidemark_recycle.\"" + bin.Text(0, 0) + "\"");
  EXPECT_EQ(count.Int(0, 0), kRows);
  const std::string manifest = ws.archive() + "/events/main/main/events_p20240101/manifest.json";
  EXPECT_FALSE(Exists(manifest));

  CommandResult rerun = ws.Tidemark({"apply", "--now", kNow}, env);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
  EXPECT_TRUE(Exists(manifest));
  EXPECT_THAT(ReadFile(manifest), HasSubstr("\"rows\": " + std::to_string(kRows)));
  sql::PqRows after = db.Query(
      "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = 'tidemark_recycle'");
  EXPECT_EQ(after.Int(0, 0), 0);  // purged once the archive was verified
}

}  // namespace
}  // namespace tidemark::testing
