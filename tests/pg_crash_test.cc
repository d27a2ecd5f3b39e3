// Crash tests for the PostgreSQL backend: the process exits at a failpoint (before,
// inside and after every step, in the middle of moving rows out of the default
// partition, in the middle of each COPY export and restore, between a restore's move
// back from the bin and its ATTACH), then the same command
// runs again. At the crash and afterwards, every row is exactly once either live (in
// the table, or in a partition being built) or removed (in the recycle bin and/or a
// complete archive, with the same text); after the rerun nothing is left half-done, and
// a restore from the archive gives back exactly the rows there were.

#include <map>
#include <set>

#include "tests/support/pg_env.h"
#include "tests/support/tidemark_env.h"
#include <gtest/gtest.h>
#include <unistd.h>

#include "tidemark/archive/table_archive.h"
#include "tidemark/store/object_store.h"

namespace tidemark::testing {
namespace {

constexpr char kNow[] = "2024-03-01T10:00:00Z";  // retention 30 days: Jan 1 and 2 expire
constexpr int kFailpointExit = 86;
constexpr char kExpired[][17] = {"events_p20240101", "events_p20240102"};

struct Scenario {
  std::string failpoint;
  int recycle_days;
};

std::string Name(const ::testing::TestParamInfo<Scenario>& info) {
  std::string name = info.param.failpoint + "_recycle" + std::to_string(info.param.recycle_days);
  for (char& c : name) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

// Rows by id: their COPY text (id, created_at, payload), as the archive holds them.
using Rows = std::map<std::string, std::string>;

class PgCrash : public ::testing::TestWithParam<Scenario> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok());
    // Two expired days of 12000 rows (more than one COPY piece), a live day, 15000 rows
    // of Mar 1 waiting in the default partition (more than one batch of 10000), and
    // rows of May that stay there. Payloads hold tabs, newlines, backslashes, non-ASCII.
    ASSERT_TRUE(db_.Exec(
        "CREATE TABLE public.events (id bigint NOT NULL, created_at timestamptz NOT NULL, "
        "payload text) PARTITION BY RANGE (created_at);"
        "CREATE TABLE public.events_default PARTITION OF public.events DEFAULT;"
        "CREATE TABLE public.events_p20240101 PARTITION OF public.events "
        "  FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2024-01-02 00:00+00');"
        "CREATE TABLE public.events_p20240102 PARTITION OF public.events "
        "  FOR VALUES FROM ('2024-01-02 00:00+00') TO ('2024-01-03 00:00+00');"
        "CREATE TABLE public.events_p20240229 PARTITION OF public.events "
        "  FOR VALUES FROM ('2024-02-29 00:00+00') TO ('2024-03-01 00:00+00');"
        "INSERT INTO events SELECT g, '2024-01-01'::timestamptz + g * interval '7 seconds', "
        "  E'tab\\there, new\\nline, back\\\\slash, caf\\u00e9 ' || g FROM generate_series(1, "
        "12000) g;"
        "INSERT INTO events SELECT 100000 + g, '2024-01-02'::timestamptz + g * interval '7 "
        "seconds', "
        "  'jan 2 row ' || g FROM generate_series(1, 12000) g;"
        "INSERT INTO events SELECT 200000 + g, '2024-02-29'::timestamptz + g * interval '1 "
        "minute', "
        "  NULL FROM generate_series(1, 500) g;"
        "INSERT INTO events SELECT 300000 + g, '2024-03-01'::timestamptz + g * interval '5 "
        "seconds', "
        "  'early ' || g FROM generate_series(1, 15000) g;"
        "INSERT INTO events SELECT 400000 + g, '2024-05-01'::timestamptz + g * interval '1 hour', "
        "  'may ' || g FROM generate_series(1, 100) g;"
        "ANALYZE events"));
    WriteFile(ws_.config(), PgConfigYaml(db_.url(),
                                         "  events:\n"
                                         "    storage: { connection: pg, table: public.events }\n"
                                         "    partition_by: created_at\n"
                                         "    interval: 1 day\n"
                                         "    premake: 1\n"
                                         "    retention: 30 days\n"
                                         "    archive_to: cold\n"
                                         "    recycle_days: " +
                                             std::to_string(GetParam().recycle_days) + "\n"));
    originals_ = Live();
    ASSERT_EQ(originals_.size(), 12000u + 12000u + 500u + 15000u + 100u);
  }

  CommandResult Tidemark(const std::vector<std::string>& args, const std::string& failpoint = "") {
    std::map<std::string, std::string> env = {{kTestPgPasswordEnv, TestPgServer().password}};
    if (!failpoint.empty()) env["TIDEMARK_FAILPOINT"] = failpoint;
    return ws_.Tidemark(args, env);
  }

  // A statement the crashed process had sent goes on in the server (and commits) until
  // its session notices the client is gone: wait for that before looking.
  void WaitForSessionsToEnd() {
    for (int i = 0; i < 300; ++i) {
      sql::PqRows rows = db_.Query(
          "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = "
          "'tidemark' AND pid <> pg_backend_pid()",
          {db_.name()});
      if (rows.Int(0, 0) == 0) return;
      usleep(100 * 1000);
    }
    ADD_FAILURE() << "the crashed run's sessions did not end";
  }

  // Adds the rows of a COPY to `rows`; a duplicate id fails the test.
  void Collect(const std::string& copy, const std::string& where, Rows& rows) {
    auto conn = db_.Connect();
    ASSERT_NE(conn, nullptr);
    std::string data;
    auto copied = conn->CopyOut(copy, [&](std::string_view piece) -> util::Status {
      data.append(piece);
      return {};
    });
    ASSERT_TRUE(copied) << copied.error().message();
    AddLines(data, where, rows);
  }

  static void AddLines(const std::string& data, const std::string& where, Rows& rows) {
    size_t start = 0;
    while (start < data.size()) {
      size_t end = data.find('\n', start);
      std::string line = data.substr(start, end - start);
      std::string id = line.substr(0, line.find('\t'));
      EXPECT_TRUE(rows.emplace(id, line).second) << "row " << id << " twice (" << where << ")";
      start = end + 1;
    }
  }

  // Every row a reader of the table sees, plus rows in a standalone table being built
  // (a partition that is not attached yet).
  Rows Live() {
    Rows rows;
    Collect("COPY (SELECT id, created_at, payload FROM public.events) TO STDOUT", "live", rows);
    for (const std::string& table :
         Tables("public", "AND NOT c.relispartition AND c.relkind = 'r'")) {
      Collect("COPY (SELECT id, created_at, payload FROM public.\"" + table + "\") TO STDOUT",
              "standalone " + table, rows);
    }
    return rows;
  }

  // Rows removed: in the recycle bin, and in every complete archive (manifest written).
  void Removed(Rows& bin, Rows& archived) {
    for (const std::string& table : Tables("tidemark_recycle", "")) {
      Collect(
          "COPY (SELECT id, created_at, payload FROM tidemark_recycle.\"" + table + "\") TO STDOUT",
          "bin " + table, bin);
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
      AddLines(data, std::string("archive ") + partition, archived);
    }
  }

  std::vector<std::string> Tables(const std::string& schema, const std::string& filter) {
    std::vector<std::string> names;
    sql::PqRows rows = db_.Query(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') " +
            filter + " ORDER BY 1",
        {schema});
    for (int r = 0; r < rows.rows(); ++r) names.push_back(rows.Text(r, 0));
    return names;
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
      bool ok = is_live ? !in_bin && !in_archive && live[id] == line
                        : (in_bin || in_archive) && (!in_bin || bin[id] == line) &&
                              (!in_archive || archived[id] == line);
      if (!ok && ++mismatches <= 5) {
        ADD_FAILURE() << "row " << id << ": live " << is_live << ", bin " << in_bin << ", archive "
                      << in_archive;
      }
    }
    EXPECT_EQ(mismatches, 0u);
    EXPECT_EQ(live.size() + (bin.size() > archived.size() ? bin.size() : archived.size()) >=
                  originals_.size(),
              true);
    for (const auto& [id, line] : live) EXPECT_TRUE(originals_.count(id)) << "new row " << id;
  }

  PgTestDatabase db_;
  Workspace ws_;
  Rows originals_;
};

TEST_P(PgCrash, RerunningAfterACrashLosesAndDuplicatesNothing) {
  CommandResult crashed = Tidemark({"apply", "--now", kNow}, GetParam().failpoint);
  ASSERT_EQ(crashed.exit_code, kFailpointExit) << crashed.out << crashed.err;
  WaitForSessionsToEnd();
  ExpectEveryRowOnce("at the crash");

  CommandResult rerun = Tidemark({"apply", "--now", kNow});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
  ExpectEveryRowOnce("after the rerun");

  // Nothing half-done: the new partitions are attached, no table is left standalone.
  EXPECT_TRUE(Tables("public", "AND NOT c.relispartition AND c.relkind = 'r'").empty());
  sql::PqRows partitions = db_.Query(
      "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits i "
      "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'public.events'::regclass");
  EXPECT_EQ(partitions.Text(0, 0),
            "events_default,events_p20240229,events_p20240301,events_p20240302");
  sql::PqRows in_default = db_.Query("SELECT count(*) FROM public.events_default");
  EXPECT_EQ(in_default.Int(0, 0), 100);
  Rows bin, archived;
  Removed(bin, archived);
  EXPECT_EQ(archived.size(), 24000u);
  EXPECT_EQ(bin.size(), GetParam().recycle_days == 0 ? 0u : 24000u);

  // A restore from the archive, crashing in the middle of the load and run again,
  // gives back exactly the rows there were.
  // With the bin kept (recycle_days 7), the first partition comes back from the bin,
  // crashing between the move back and the ATTACH.
  for (const char* partition : kExpired) {
    const bool from_bin = GetParam().recycle_days > 0 && partition == kExpired[0];
    const std::string from = from_bin ? "bin" : "archive";
    CommandResult restore_crash =
        Tidemark({"restore", "--dataset", "events", "--partition", partition, "--from", from},
                 from_bin ? "restore.moved" : "restore.mid_stream");
    ASSERT_EQ(restore_crash.exit_code, kFailpointExit) << restore_crash.out << restore_crash.err;
    WaitForSessionsToEnd();
    CommandResult restored =
        Tidemark({"restore", "--dataset", "events", "--partition", partition, "--from", from});
    ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  }
  Rows after;
  Collect("COPY (SELECT id, created_at, payload FROM public.events) TO STDOUT", "restored", after);
  EXPECT_EQ(after.size(), originals_.size());
  EXPECT_TRUE(after == originals_) << "the restored rows differ from the rows before";
}

std::vector<Scenario> Scenarios() {
  std::vector<Scenario> out;
  // recycle_days 0: create ×2, check, hide ×2, copy ×2, verify ×2, purge ×2 = 11 steps.
  for (const char* point : {"step.before", "step.executed", "step.after"}) {
    for (int n = 1; n <= 11; ++n) out.push_back({std::string(point) + ":" + std::to_string(n), 0});
  }
  for (const char* point : {"export.mid_stream:1", "export.mid_stream:2", "default.mid_move:1",
                            "default.staged:1", "pg.detached:1", "pg.detached:2"}) {
    out.push_back({point, 0});
  }
  // recycle_days 7: the bin keeps its copies (9 steps).
  for (const char* point : {"step.before", "step.executed", "step.after"}) {
    for (int n = 1; n <= 9; n += 2)
      out.push_back({std::string(point) + ":" + std::to_string(n), 7});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(EveryStep, PgCrash, ::testing::ValuesIn(Scenarios()), Name);

}  // namespace
}  // namespace tidemark::testing
